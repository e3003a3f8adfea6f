package v1alpha1

// Condition types of a HealthCheck. Ready follows the kstatus convention: it
// says the spec is accepted and rounds are running, whatever the targets'
// health; Healthy and Degraded carry the targets' health.
const (
	// ConditionReady is True when the spec is accepted and checks run on schedule.
	ConditionReady = "Ready"
	// ConditionHealthy is True when no target is Down.
	ConditionHealthy = "Healthy"
	// ConditionDegraded is True when any target is Slow.
	ConditionDegraded = "Degraded"
	// ConditionReconciling is True while the first round of a new spec runs; it
	// follows the kstatus convention, so GitOps tools wait for that round.
	ConditionReconciling = "Reconciling"
	// ConditionErrorBudgetBurning is True while the error budget of spec.objective
	// burns fast: the burn rate is above 14.4 over both 1h and 5m, or above 6 over
	// both 6h and 30m (the multiwindow alerts of the Google SRE workbook).
	ConditionErrorBudgetBurning = "ErrorBudgetBurning"
	// ConditionErrorBudgetExhausted is True when spec.objective's error budget over
	// the window is spent.
	ConditionErrorBudgetExhausted = "ErrorBudgetExhausted"
	// ConditionInMaintenance is True during a window of spec.maintenance; its
	// message says when the window ends.
	ConditionInMaintenance = "InMaintenance"
)

// Condition reasons. Event reasons reuse the Target* constants.
const (
	// ReasonRunning means rounds run on schedule.
	ReasonRunning = "Running"
	// ReasonSuspended means spec.suspend is true, so no checks run.
	ReasonSuspended = "Suspended"
	// ReasonSecretNotFound means a header refers to a Secret or key that does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonInvalidSpec means the spec passed admission but cannot be used, such as an unparsable status code range.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonSourceUnavailable means a source of spec.targetsFrom cannot be read, such
	// as httpRoutes in a cluster without the Gateway API CRDs; the other targets are
	// still checked.
	ReasonSourceUnavailable = "SourceUnavailable"
	// ReasonProgressing means the first round since the last spec change has not finished yet.
	ReasonProgressing = "Progressing"

	// ReasonAllTargetsUp means every target answered as expected.
	ReasonAllTargetsUp = "AllTargetsUp"
	// ReasonTargetsDown means at least one target is Down.
	ReasonTargetsDown = "TargetsDown"
	// ReasonTargetsSlow means at least one target is Slow.
	ReasonTargetsSlow = "TargetsSlow"
	// ReasonBackendsDown means a fanned-out target has backends Down while enough
	// of them are healthy for the target not to be Down.
	ReasonBackendsDown = "BackendsDown"
	// ReasonNoTargetsSlow means no target is Slow.
	ReasonNoTargetsSlow = "NoTargetsSlow"
	// ReasonAwaitingFirstCheck means targets have not been checked yet.
	ReasonAwaitingFirstCheck = "AwaitingFirstCheck"
	// ReasonBurnRateHigh means the error budget burns fast (ErrorBudgetBurning True).
	ReasonBurnRateHigh = "BurnRateHigh"
	// ReasonBurnRateNormal means the error budget does not burn fast.
	ReasonBurnRateNormal = "BurnRateNormal"
	// ReasonBudgetSpent means the error budget over the window is spent.
	ReasonBudgetSpent = "BudgetSpent"
	// ReasonBudgetLeft means some error budget is left.
	ReasonBudgetLeft = "BudgetLeft"
	// ReasonMaintenanceWindow means a window of spec.maintenance is open.
	ReasonMaintenanceWindow = "MaintenanceWindow"
	// ReasonNoMaintenanceWindow means no window of spec.maintenance is open.
	ReasonNoMaintenanceWindow = "NoMaintenanceWindow"
)

// Event reasons, emitted on state transitions only.
const (
	// EventTargetDown is a Warning emitted when a target enters Down.
	EventTargetDown = "TargetDown"
	// EventTargetSlow is a Warning emitted when a target enters Slow.
	EventTargetSlow = "TargetSlow"
	// EventTargetBlocked is a Warning emitted when a target goes Down because the
	// operator's outbound policy forbids its address.
	EventTargetBlocked = "TargetBlocked"
	// EventCertificateExpiring is a Warning emitted when a target's certificate
	// comes within spec.certificateExpiryThreshold of expiring. Also the reason of
	// the Degraded condition then.
	EventCertificateExpiring = "CertificateExpiring"
	// EventTargetRecovered is Normal, emitted when a target returns to Up from Down or Slow.
	EventTargetRecovered = "TargetRecovered"
	// EventTargetFlapping is a Warning emitted once when a target has used up its
	// budget of transition events: until the budget refills, its transitions show
	// in status and metrics only.
	EventTargetFlapping = "TargetFlapping"
	// EventBackendDown is a Warning emitted when backends of a fanned-out target
	// enter Down in a round: one event per target and round, naming each backend
	// by its pod (or address) and zone, with the evidence.
	EventBackendDown = "BackendDown"
	// EventBackendRecovered is Normal, emitted when backends of a fanned-out
	// target come back from Down in a round, one event per target and round.
	EventBackendRecovered = "BackendRecovered"
	// EventErrorBudgetBurning is a Warning emitted when ErrorBudgetBurning turns True.
	EventErrorBudgetBurning = "ErrorBudgetBurning"
	// EventErrorBudgetRecovered is Normal, emitted when ErrorBudgetBurning turns False.
	EventErrorBudgetRecovered = "ErrorBudgetRecovered"
	// EventStatusWriteRejected is a Warning emitted when the API server refuses a
	// status write; emitted once per distinct refusal, not once per round.
	EventStatusWriteRejected = "StatusWriteRejected"
)

// TargetAnnotation is the annotation that, on the operator's events about a
// target, holds the target's name; the event budget is kept per target by it.
const TargetAnnotation = "monitoring.healthcheck.dev/target"

// PathAnnotation overrides the path of the targets discovered from the Ingress,
// HTTPRoute or Service that carries it.
const PathAnnotation = "monitoring.healthcheck.dev/path"

// IgnoreAnnotation set to "true" on an Ingress, HTTPRoute or Service leaves it
// out of every source of spec.targetsFrom.
const IgnoreAnnotation = "monitoring.healthcheck.dev/ignore"

// RequestedAtAnnotation asks for a round at once when set to a new value, such as
// the current time (`kubectl healthcheck trigger NAME` sets it). The operator records
// the value it handled in status.lastHandledRequestedAt.
const RequestedAtAnnotation = "monitoring.healthcheck.dev/requested-at"
