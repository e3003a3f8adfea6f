package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TargetState is the judged state of one target.
// +kubebuilder:validation:Enum=Pending;Up;Slow;Down
type TargetState string

// Target states.
const (
	// StatePending means the target has not been judged yet: not checked, or fewer
	// failures than failureThreshold since it was added.
	StatePending TargetState = "Pending"
	// StateUp means the target answered with an expected status code within slowThreshold.
	StateUp TargetState = "Up"
	// StateSlow means the target answered with an expected status code, slower than slowThreshold.
	StateSlow TargetState = "Slow"
	// StateDown means the target failed failureThreshold checks in a row.
	StateDown TargetState = "Down"
)

// CheckReason classifies the outcome of a target's last check.
// +kubebuilder:validation:Enum=OK;SlowResponse;UnexpectedStatus;Timeout;ConnectionRefused;DNSError;TLSError;NetworkError;Blocked;BodyMismatch;CertificateExpiring;SecretNotFound;AssertionFailed;NotServing;NoBackends
type CheckReason string

// Check reasons.
const (
	// CheckOK is an expected status code within slowThreshold.
	CheckOK CheckReason = "OK"
	// CheckSlowResponse is an expected status code slower than slowThreshold.
	CheckSlowResponse CheckReason = "SlowResponse"
	// CheckUnexpectedStatus is a status code outside expectedStatusCodes.
	CheckUnexpectedStatus CheckReason = "UnexpectedStatus"
	// CheckTimeout is no answer within the timeout.
	CheckTimeout CheckReason = "Timeout"
	// CheckConnectionRefused is a refused TCP connection.
	CheckConnectionRefused CheckReason = "ConnectionRefused"
	// CheckDNSError is a host name that did not resolve.
	CheckDNSError CheckReason = "DNSError"
	// CheckTLSError is a failed TLS handshake or certificate verification.
	CheckTLSError CheckReason = "TLSError"
	// CheckNetworkError is any other transport failure, such as a peer that does not speak HTTP.
	CheckNetworkError CheckReason = "NetworkError"
	// CheckBlocked means the operator's outbound policy forbids the target's
	// address, so no connection was made.
	CheckBlocked CheckReason = "Blocked"
	// CheckBodyMismatch is an expected status code with a body that did not satisfy
	// bodyContains or bodyMatches.
	CheckBodyMismatch CheckReason = "BodyMismatch"
	// CheckCertificateExpiring is a good answer from a target whose certificate
	// expires within spec.certificateExpiryThreshold.
	CheckCertificateExpiring CheckReason = "CertificateExpiring"
	// CheckSecretNotFound means the target was not checked because a header's Secret or key is missing.
	CheckSecretNotFound CheckReason = "SecretNotFound"
	// CheckAssertionFailed is an answer that failed one of the target's assertions,
	// or one whose assertion could not be evaluated (the message says which).
	CheckAssertionFailed CheckReason = "AssertionFailed"
	// CheckNotServing is a gRPC health answer other than SERVING: NOT_SERVING,
	// UNKNOWN or SERVICE_UNKNOWN.
	CheckNotServing CheckReason = "NotServing"
	// CheckNoBackends is a fanned-out target with no backend to check, or fewer
	// backends than its minHealthy: a Service that does not exist or has no
	// ready endpoint, a URL that names no Service (the message says which).
	CheckNoBackends CheckReason = "NoBackends"
)

// AllCheckReasons lists every CheckReason, in the order of the schema's enum;
// the checker's reasons are a subset (a test holds the three together).
var AllCheckReasons = []CheckReason{
	CheckOK, CheckSlowResponse, CheckUnexpectedStatus, CheckTimeout, CheckConnectionRefused,
	CheckDNSError, CheckTLSError, CheckNetworkError, CheckBlocked, CheckBodyMismatch,
	CheckCertificateExpiring, CheckSecretNotFound, CheckAssertionFailed, CheckNotServing, CheckNoBackends,
}

// HealthCheckStatus is the observed state of a HealthCheck.
type HealthCheckStatus struct {
	// ObservedGeneration is the generation of the spec that the last completed round checked.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// LastRunTime is when the last completed round started.
	// +optional
	LastRunTime *metav1.Time `json:"lastRunTime,omitempty"`

	// NextRunTime is when the next round is due to start.
	// +optional
	NextRunTime *metav1.Time `json:"nextRunTime,omitempty"`

	// LastRunDuration is how long the last round took, such as 1.21s.
	// +optional
	// +kubebuilder:validation:Type=string
	LastRunDuration *metav1.Duration `json:"lastRunDuration,omitempty"`

	// LastHandledRequestedAt is the value of the requested-at annotation that the last
	// completed round answered. A value longer than 256 characters is recorded in a
	// bounded form: its start, an ellipsis, and a hash of the whole value.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastHandledRequestedAt string `json:"lastHandledRequestedAt,omitempty"`

	// LastRunLag is how late the last round started after it was due, such as 0s.
	// A lag that grows means the operator is saturated; checks are timed from
	// their own start, so lag never turns a healthy target Down.
	// +optional
	// +kubebuilder:validation:Type=string
	LastRunLag *metav1.Duration `json:"lastRunLag,omitempty"`

	// Summary counts the targets by state.
	// +optional
	Summary *Summary `json:"summary,omitempty"`

	// Availability is the share of good checks over spec.objective's window (720h
	// without an objective), and the error budget left.
	// +optional
	Availability *AvailabilityStatus `json:"availability,omitempty"`

	// Targets holds the state of each target, sorted by URL, one per URL. Only
	// the operator writes it, always whole: the list is atomic, so the API
	// server does not track each target's fields in managedFields, which made
	// every status write a quarter dearer and the object a third larger.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=500
	Targets []TargetStatus `json:"targets,omitempty"`

	// Conditions: Ready (the spec is accepted and rounds run), Healthy (no target is
	// Down) and Degraded (a target is Slow, has backends Down or a certificate close
	// to expiry).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Summary counts the targets of a HealthCheck by state.
type Summary struct {
	// Total is the number of targets.
	// +optional
	Total int32 `json:"total"`
	// Up is the number of targets in state Up.
	// +optional
	Up int32 `json:"up"`
	// Slow is the number of targets in state Slow.
	// +optional
	Slow int32 `json:"slow"`
	// Down is the number of targets in state Down.
	// +optional
	Down int32 `json:"down"`
	// Pending is the number of targets in state Pending.
	// +optional
	Pending int32 `json:"pending"`
}

// Count adds one target in state to the counts; a state other than Up, Slow
// and Down counts as Pending.
func (s *Summary) Count(state TargetState) {
	s.Total++
	switch state {
	case StateUp:
		s.Up++
	case StateSlow:
		s.Slow++
	case StateDown:
		s.Down++
	default:
		s.Pending++
	}
}

// Summarize counts targets by state: the one summary of a round, for status,
// conditions and the plugin's reports.
func Summarize(targets []TargetStatus) *Summary {
	s := &Summary{}
	for _, t := range targets {
		s.Count(t.State)
	}
	return s
}

// TargetStatus is the state of one target.
type TargetStatus struct {
	// URL is the target's URL, as in the spec.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url"`

	// Name is the target's name from the spec, when it has one.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name,omitempty"`

	// Source is the object a discovered target comes from, such as Ingress/shop,
	// HTTPRoute/api or Service/web; empty for the targets of spec.targets.
	// +optional
	// +kubebuilder:validation:MaxLength=300
	Source string `json:"source,omitempty"`

	// State is the judged state of the target.
	// +required
	State TargetState `json:"state"`

	// StatusCode is the HTTP status code of the last check, 0 when there was no
	// response and for tcp, tls, grpc and grpcs targets.
	// +optional
	StatusCode int32 `json:"statusCode"`

	// LatencyMs is the latency of the last check in milliseconds.
	// +optional
	LatencyMs int64 `json:"latencyMs"`

	// Reason classifies the outcome of the last check.
	// +optional
	Reason CheckReason `json:"reason,omitempty"`

	// Message describes the last check in a few words; it never holds bytes read from
	// the target or secret values. A longer message is cut, ending with an ellipsis.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Message string `json:"message,omitempty"`

	// ConsecutiveFailures counts failed checks in a row, up to failureThreshold.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures"`

	// ConsecutiveSuccesses counts good checks in a row, up to successThreshold.
	// +optional
	ConsecutiveSuccesses int32 `json:"consecutiveSuccesses"`

	// CertificateExpiresAt is when the target's TLS certificate expires, for https targets.
	// +optional
	CertificateExpiresAt *metav1.Time `json:"certificateExpiresAt,omitempty"`

	// InsecureSkipVerify is true when the target's TLS certificate is not verified
	// (spec tls.insecureSkipVerify), so that it shows wherever status is read.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`

	// LastCheckTime is when the last check of this target started.
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`

	// LastTransitionTime is when State last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`

	// Availability is the share of this target's good checks over the window of
	// status.availability, as a percentage with up to 4 decimals, such as 99.9731.
	// +optional
	// +kubebuilder:validation:MaxLength=8
	Availability string `json:"availability,omitempty"`

	// AvailabilityCounts holds the target's counts of good and counted checks in
	// buckets over the window, encoded: what availability is computed from, kept
	// in status so that it survives restarts. Not meant to be read.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	AvailabilityCounts string `json:"availabilityCounts,omitempty"`

	// Backends counts the backends of a fanned-out target (spec fanOut) by the
	// state of their last check.
	// +optional
	Backends *BackendSummary `json:"backends,omitempty"`

	// FailingBackends are the backends whose last check failed, sorted by address:
	// at most 16 per target, and at most 256 across the HealthCheck, shared out so
	// that every target with a failing backend names at least one while there is
	// room. backends.down counts them all.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	FailingBackends []BackendStatus `json:"failingBackends,omitempty"`
}

// AvailabilityStatus is how available a HealthCheck's targets were over a window.
type AvailabilityStatus struct {
	// Window is the window the figures cover, such as 720h.
	// +optional
	// +kubebuilder:validation:Type=string
	Window *metav1.Duration `json:"window,omitempty"`

	// Ratio is the share of good checks among counted checks, as a percentage with
	// up to 4 decimals, such as 99.9731.
	// +optional
	// +kubebuilder:validation:MaxLength=8
	Ratio string `json:"ratio,omitempty"`

	// GoodChecks counts the good checks in the window.
	// +optional
	GoodChecks int64 `json:"goodChecks"`

	// TotalChecks counts the checks in the window that count (see the README's
	// accounting).
	// +optional
	TotalChecks int64 `json:"totalChecks"`

	// Since is when counting began, if within the window: a young HealthCheck's
	// figures cover only the time since.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`

	// ErrorBudgetRemaining is the share of spec.objective's error budget left, as a
	// percentage with up to 4 decimals, negative once overspent, such as 73.5.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	ErrorBudgetRemaining string `json:"errorBudgetRemaining,omitempty"`

	// Counts holds the counts of good and counted checks in buckets over the
	// window and the last hours, encoded: what the figures and the burn rates are
	// computed from, kept in status so that they survive restarts. Not meant to
	// be read.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Counts string `json:"counts,omitempty"`
}

// BackendSummary counts the backends of a fanned-out target by state.
type BackendSummary struct {
	// Total is the number of backends checked.
	// +optional
	Total int32 `json:"total"`
	// Up is the number of backends that answered as expected within slowThreshold.
	// +optional
	Up int32 `json:"up"`
	// Slow is the number of backends that answered as expected, slower than slowThreshold.
	// +optional
	Slow int32 `json:"slow"`
	// Down is the number of backends whose check failed.
	// +optional
	Down int32 `json:"down"`
}

// BackendStatus is the last check of one failing backend.
type BackendStatus struct {
	// Address is the backend's IP address.
	// +required
	// +kubebuilder:validation:MaxLength=45
	Address string `json:"address"`

	// Pod is the name of the backend's pod, for endpoints of a Service that name one.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Pod string `json:"pod,omitempty"`

	// Zone is the backend's zone, for endpoints of a Service that name one.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Zone string `json:"zone,omitempty"`

	// Reason classifies the outcome of the backend's check.
	// +optional
	Reason CheckReason `json:"reason,omitempty"`

	// StatusCode is the HTTP status code of the backend's answer, 0 when there was none.
	// +optional
	StatusCode int32 `json:"statusCode"`

	// LatencyMs is the latency of the backend's check in milliseconds.
	// +optional
	LatencyMs int64 `json:"latencyMs"`

	// Message describes the backend's check in a few words; it never holds bytes
	// read from the backend or secret values.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Message string `json:"message,omitempty"`
}

// HealthCheck checks a list of HTTP endpoints on an interval and reports which are
// up, slow or down.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hck,categories=monitoring
// +kubebuilder:printcolumn:name="Targets",type=integer,JSONPath=`.status.summary.total`
// +kubebuilder:printcolumn:name="Up",type=integer,JSONPath=`.status.summary.up`
// +kubebuilder:printcolumn:name="Slow",type=integer,JSONPath=`.status.summary.slow`
// +kubebuilder:printcolumn:name="Down",type=integer,JSONPath=`.status.summary.down`
// +kubebuilder:printcolumn:name="Healthy",type=string,JSONPath=`.status.conditions[?(@.type=="Healthy")].status`
// +kubebuilder:printcolumn:name="Availability",type=string,JSONPath=`.status.availability.ratio`
// +kubebuilder:printcolumn:name="Last Check",type=date,JSONPath=`.status.lastRunTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Interval",type=string,JSONPath=`.spec.interval`,priority=1
// +kubebuilder:printcolumn:name="Workers",type=integer,JSONPath=`.spec.workers`,priority=1
type HealthCheck struct {
	metav1.TypeMeta `json:",inline"`
	// ObjectMeta is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec lists the targets and thresholds.
	// +required
	Spec HealthCheckSpec `json:"spec"`

	// Status is the observed state, written by the operator.
	// +optional
	Status HealthCheckStatus `json:"status,omitempty"`
}

// HealthCheckList is a list of HealthChecks.
// +kubebuilder:object:root=true
type HealthCheckList struct {
	metav1.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the HealthChecks.
	Items []HealthCheck `json:"items"`
}
