// Package controllers holds the HealthCheck reconciler: a thin layer that turns a
// HealthCheck into rounds of the checker and rounds into status and events.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/maintenance"
	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
	"github.com/healthcheck-operator/healthcheck-operator/internal/notify"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// DefaultStatusRefreshInterval is how stale lastRunTime and latencies may get on a
// steady HealthCheck before status is written anyway (the kubelet's node status
// habit: write on change, and on a slow heartbeat). Two minutes, not one: the
// heartbeats are nearly all of a steady cluster's writes, and at one a minute
// they cost the API server and etcd as much CPU per check as the checking
// costs the manager (docs/benchmarks.md, section 9).
const DefaultStatusRefreshInterval = 2 * time.Minute

// HealthCheckReconciler reconciles HealthCheck objects.
type HealthCheckReconciler struct {
	client.Client
	// APIReader reads Secrets straight from the API server, so the operator caches no Secret values.
	APIReader client.Reader
	// Recorder emits core/v1 Events; nil means one of this reconciler's own, whose
	// correlator is tuned by EventCorrelatorOptions. Not the events.k8s.io
	// recorder: that one folds events of the same reason into one series whatever
	// their notes, which would hide every target's transition but the first.
	Recorder record.EventRecorder
	// Clock schedules rounds and measures them; nil means the real clock.
	Clock clock.PassiveClock
	// Checker runs the HTTP checks; nil means checker.New with defaults.
	Checker *checker.Checker
	// StatusRefreshInterval bounds how stale status timestamps get when nothing else changed.
	StatusRefreshInterval time.Duration
	// MaxConcurrentReconciles is how many HealthChecks reconcile at once; rounds run apart from it.
	MaxConcurrentReconciles int
	// Metrics records checks and rounds; nil means the metrics served by the
	// manager, with MetricsOptions.
	Metrics *Metrics
	// MetricsOptions chooses the optional metrics of the default Metrics.
	MetricsOptions MetricsOptions
	// Policy decides which addresses checks and webhooks may reach; nil means
	// netpolicy.Default() (link-local and cloud metadata addresses blocked).
	Policy *netpolicy.Policy
	// MaxConcurrentChecks caps the checks in flight across all HealthChecks; 0 means
	// no cap beyond each HealthCheck's workers.
	MaxConcurrentChecks int
	// Shard is the share of HealthChecks this process checks; the zero value is all.
	Shard Shard
	// Notifier posts transitions to the webhooks of spec.notify; nil means a default
	// one, run by the manager.
	Notifier *notify.Notifier

	rounds    *rounds
	budget    *eventBudget
	discovery *discovery
	// refused remembers, per HealthCheck, the last status write the API server
	// refused, so that a refusal repeated every round is reported once.
	refused sync.Map // types.NamespacedName -> string
	// statuses keeps, per HealthCheck, the status this process works on and
	// what the API server last recorded of it.
	statuses sync.Map // types.NamespacedName -> *working
	// log is the manager's, for rounds collected outside a reconcile.
	log logr.Logger
	// down remembers, per HealthCheck, which backends of its fanned-out targets
	// its last round found Down, to tell which enter or leave Down.
	down sync.Map // types.NamespacedName -> backendsDown
	// schedules keeps, per HealthCheck, its parsed spec.maintenance.
	schedules sync.Map // types.NamespacedName -> parsedMaintenance
	// counts keeps, per HealthCheck, its availability counts between status writes.
	counts sync.Map // types.NamespacedName -> *counts
	// planner decides what each round notifies (spec.notify).
	planner notify.Planner
}

// +kubebuilder:rbac:groups=monitoring.healthcheck.dev,resources=healthchecks,verbs=get;list;watch
// +kubebuilder:rbac:groups=monitoring.healthcheck.dev,resources=healthchecks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile runs the steps of one HealthCheck: fetch, start its first round
// (or stop it), then write the status the rounds collected, when a write is
// due, and report their transitions once status records them.
func (r *HealthCheckReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	hc := &monitoringv1alpha1.HealthCheck{}
	if err := r.Get(ctx, req.NamespacedName, hc); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName) // deleted: cancel its in-flight checks
			r.statuses.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !hc.DeletionTimestamp.IsZero() {
		r.forget(req.NamespacedName)
		r.statuses.Delete(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("HealthCheck", klog.KObj(hc))
	ctx = ctrl.LoggerInto(ctx, log)
	w, err := r.workingOf(ctx, hc)
	if err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	w.mu.Lock()
	w.read(hc)
	hc.Status = w.status
	result, err := r.reconcile(ctx, hc)
	w.status = hc.Status
	var wr *write
	if err == nil {
		wr = w.takeWrite(r.writeDue(w, req.NamespacedName))
	}
	w.mu.Unlock()
	if hc.Spec.Suspend {
		// A suspended HealthCheck holds nothing in this process: its status is
		// read again when it resumes, as whoever wrote it meanwhile left it.
		defer r.statuses.Delete(req.NamespacedName)
	}
	if wr == nil {
		return result, err
	}
	recorded, err := r.writeStatus(ctx, hc, wr)
	if err != nil {
		w.mu.Lock()
		w.wrote(wr, false, false)
		w.mu.Unlock()
		// Transient: retried with backoff. The rounds' schedule is kept by the
		// round runner, not by status, so no round runs early for it.
		return ctrl.Result{}, fmt.Errorf("patching status: %w", err)
	}
	// Events go out only once status records the transition, so a failed write
	// cannot announce a transition twice. A write the API server refused will
	// be refused again: its transitions go out all the same, since the status
	// this process holds has moved past them.
	if wr.dropped > 0 {
		log.Info("Status could not be written for so long that the oldest transitions were not reported", "dropped", wr.dropped)
	}
	hc.Status = *wr.status
	r.notify(ctx, hc, wr.report)
	w.mu.Lock()
	w.wrote(wr, recorded, true)
	w.mu.Unlock()
	return result, nil
}

// writeDue tells whether w's status differs from what was last written by more
// than measurements, or is due its heartbeat (statusChanged). Holds w.mu.
func (r *HealthCheckReconciler) writeDue(w *working, key types.NamespacedName) bool {
	return statusChanged(w.written, w.writtenTargets, &w.status, r.StatusRefreshInterval, phase(key, r.StatusRefreshInterval))
}

// workingOf returns what this process holds of hc's status, reading its status
// from the API server the first time (the cache may hold it trimmed, and a
// status this process has not written is best read where it is kept).
func (r *HealthCheckReconciler) workingOf(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) (*working, error) {
	key := client.ObjectKeyFromObject(hc)
	if known, ok := r.statuses.Load(key); ok {
		return known.(*working), nil
	}
	live := &monitoringv1alpha1.HealthCheck{}
	if err := r.APIReader.Get(ctx, key, live); err != nil {
		return nil, fmt.Errorf("reading the status of %s: %w", key, err)
	}
	known, _ := r.statuses.LoadOrStore(key, newWorking(hc, &live.Status))
	return known.(*working), nil
}

// writeStatus patches status from what it last recorded to wr's, and tells
// whether the API server recorded it. A refusal is reported (reportRefusal),
// not returned: sending it again would be refused again.
func (r *HealthCheckReconciler) writeStatus(ctx context.Context, hc *monitoringv1alpha1.HealthCheck, wr *write) (bool, error) {
	key := client.ObjectKeyFromObject(hc)
	updated, patch := statusPatch(hc, wr)
	if err := r.Status().Patch(ctx, updated, patch); err != nil {
		if !isRefusal(err) {
			return false, err
		}
		r.reportRefusal(ctx, hc, err)
		return false, nil
	}
	if roundWritten(wr.base, wr.status) {
		r.refused.Delete(key) // a later refusal is news again
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Wrote status")
	return true, nil
}

// statusPatch is wr as a merge patch of hc's status, and the object it
// patches. The targets list last written is not kept, only its print: a base
// list that no list written equals has the patch replace the list whole, or
// remove it. A write changes the list anyway, or is a heartbeat, which carries
// every target's new lastCheckTime.
func statusPatch(hc *monitoringv1alpha1.HealthCheck, wr *write) (*monitoringv1alpha1.HealthCheck, client.Patch) {
	base := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: hc.Namespace, Name: hc.Name}, Status: *wr.base}
	if wr.baseTargets.n > 0 {
		base.Status.Targets = unlikeAnyTargets
	}
	updated := &monitoringv1alpha1.HealthCheck{ObjectMeta: base.ObjectMeta, Status: *wr.status}
	return updated, client.MergeFrom(base)
}

// unlikeAnyTargets is a targets list that no status holds: every target has a
// URL.
var unlikeAnyTargets = []monitoringv1alpha1.TargetStatus{{}}

// roundWritten tells whether a status write carried a finished round, not just
// a condition such as Progressing, which a policy may let through while it
// still refuses the rounds' results.
func roundWritten(old, updated *monitoringv1alpha1.HealthCheckStatus) bool {
	return updated.LastRunTime != nil && (old.LastRunTime == nil || !old.LastRunTime.Equal(updated.LastRunTime))
}

// isRefusal tells whether the API server refused a status write for its
// content, so that sending it again would be refused again.
func isRefusal(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsRequestEntityTooLargeError(err) ||
		apierrors.IsForbidden(err)
}

// reportRefusal surfaces a refused status write once per distinct refusal: a
// Warning event and an error in the log, naming the fields the API server named.
// It is an operator bug (every value written is made to fit), or an admission
// policy of the cluster's; either way the rounds keep their interval, and the
// next status that is accepted is written.
func (r *HealthCheckReconciler) reportRefusal(ctx context.Context, hc *monitoringv1alpha1.HealthCheck, err error) {
	key := client.ObjectKeyFromObject(hc)
	message := err.Error()
	if previous, seen := r.refused.Swap(key, message); seen && previous == message {
		return
	}
	var fields []string
	if status := apierrors.APIStatus(nil); errors.As(err, &status) && status.Status().Details != nil {
		for _, cause := range status.Status().Details.Causes {
			if cause.Field != "" && !slices.Contains(fields, cause.Field) {
				fields = append(fields, cause.Field)
			}
		}
	}
	ctrl.LoggerFrom(ctx).Error(err, "The API server refused the status write; rounds keep their interval", "fields", fields)
	r.Recorder.Event(hc, corev1.EventTypeWarning, monitoringv1alpha1.EventStatusWriteRejected,
		note("Status was not written, the API server refused it: "+message))
}

// reconcile runs the steps between fetch and status write, on the working
// status.
func (r *HealthCheckReconciler) reconcile(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) (ctrl.Result, error) {
	if hc.Spec.Suspend {
		r.forget(client.ObjectKeyFromObject(hc))
		markSuspended(hc)
		return ctrl.Result{}, nil
	}
	return r.scheduleRound(ctx, hc)
}

// roundReport is what the collected rounds have to tell once status records
// them: their transitions, and what the notification rules need to know of the
// latest.
type roundReport struct {
	transitions []transition
	// targets are every target after the latest round, as the planner reads them.
	targets []notify.Target
	// budgets are the turns of ErrorBudgetBurning, oldest first.
	budgets       []budgetChange
	inMaintenance bool
	at            time.Time
}

// collectRound folds a finished round into the HealthCheck's working status,
// in the round's own goroutine (the round runner's collect), and wakes the
// reconciler only when status is due a write: a change, a heartbeat, or
// transitions to report once status records them. A round of a spec that has
// since changed is dropped. A round with nothing to write still goes to the
// notification rules, which may remind of a target still Down.
func (r *HealthCheckReconciler) collectRound(key types.NamespacedName, rnd *round) {
	known, ok := r.statuses.Load(key)
	if !ok {
		return // forgotten
	}
	w := known.(*working)
	if r.collectInto(w, key, rnd) {
		r.rounds.wakeReconciler(key)
	}
}

// collectInto folds rnd into w, and tells whether status is due a write; if
// not, the round goes to the notification rules at once, in order with the
// others, since w is held meanwhile.
func (r *HealthCheckReconciler) collectInto(w *working, key types.NamespacedName, rnd *round) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rnd.generation != w.object.Generation {
		return false
	}
	hc := w.view(rnd.spec)
	report := r.collectOne(hc, rnd)
	w.status = hc.Status
	due := w.writing || w.pending != nil || len(report.transitions) > 0 || len(report.budgets) > 0 || r.writeDue(w, key)
	if due {
		w.wait(report)
		return true
	}
	log := r.log
	if hc.Spec.Notify != nil { // only then may notify log: a logger with values costs a round a few allocations
		log = log.WithValues("HealthCheck", klog.KRef(key.Namespace, key.Name))
	}
	r.notify(ctrl.LoggerInto(r.rounds.base, log), hc, report)
	return false
}

// collectOne folds one finished round into status.
func (r *HealthCheckReconciler) collectOne(hc *monitoringv1alpha1.HealthCheck, rnd *round) *roundReport {
	key := client.ObjectKeyFromObject(hc)
	th := thresholds{failure: hc.Spec.FailureThreshold, success: hc.Spec.SuccessThreshold}
	if hc.Spec.CertificateExpiryThreshold != nil {
		th.certificateExpiry = hc.Spec.CertificateExpiryThreshold.Duration
	}
	down := backendsDown{}
	if known, ok := r.down.Load(key); ok {
		down = known.(backendsDown)
	}
	judged, transitions := applyRound(&hc.Status, hc.Generation, rnd, th, rnd.next, down)
	r.down.Store(key, down)
	schedule, _ := r.maintenanceOf(hc) // an invalid one never starts a round
	inMaintenance := markMaintenance(hc, schedule, rnd.started)
	c := r.countsOf(key, &hc.Status, availabilityWindow(hc.Spec))
	o := objective(hc.Spec)
	countRound(&hc.Status, c, rnd, hc.Spec, o, inMaintenance)
	figures := c.ledger.Figures(rnd.started)
	var budgets []budgetChange
	if budget := setBudgetConditions(&hc.Status, c.ledger, figures, o, hc.Generation, rnd.started); budget != nil {
		budgets = append(budgets, *budget)
	}
	r.Metrics.observeRound(key, rnd, judged)
	r.Metrics.observeAvailability(key, figures, o)
	hc.Status.ObservedGeneration = hc.Generation
	hc.Status.LastHandledRequestedAt = rnd.requestedAt
	removeCondition(&hc.Status.Conditions, monitoringv1alpha1.ConditionReconciling)
	markRunning(hc, rnd.targets)
	markDiscovery(hc, r.discovery.lastOf(key))
	r.budget.keep(key, rnd.targets)
	return &roundReport{transitions: transitions, targets: plannedTargets(rnd.targets, judged), budgets: budgets, inMaintenance: inMaintenance, at: rnd.started}
}

// countsOf returns what the reconciler keeps of a HealthCheck's availability,
// seeded from status the first time, and afresh when the window changed.
func (r *HealthCheckReconciler) countsOf(key types.NamespacedName, status *monitoringv1alpha1.HealthCheckStatus, window time.Duration) *counts {
	if known, ok := r.counts.Load(key); ok && known.(*counts).ledger.Window() == window {
		return known.(*counts)
	}
	c := countsFrom(status, window)
	r.counts.Store(key, c)
	return c
}

// maintenanceOf parses hc's spec.maintenance once per generation: loading a
// time zone reads the zone database, which every round need not do.
func (r *HealthCheckReconciler) maintenanceOf(hc *monitoringv1alpha1.HealthCheck) (*maintenance.Schedule, error) {
	key := client.ObjectKeyFromObject(hc)
	if known, ok := r.schedules.Load(key); ok && known.(parsedMaintenance).generation == hc.Generation {
		return known.(parsedMaintenance).schedule, known.(parsedMaintenance).err
	}
	schedule, err := maintenance.Parse(hc.Spec.Maintenance)
	r.schedules.Store(key, parsedMaintenance{generation: hc.Generation, schedule: schedule, err: err})
	return schedule, err
}

// parsedMaintenance is a generation's spec.maintenance, parsed.
type parsedMaintenance struct {
	generation int64
	schedule   *maintenance.Schedule
	err        error
}

// markMaintenance sets InMaintenance from the HealthCheck's maintenance
// schedule at the round's start, or removes it without windows, and tells
// whether a window is open.
func markMaintenance(hc *monitoringv1alpha1.HealthCheck, schedule *maintenance.Schedule, at time.Time) bool {
	if schedule == nil {
		removeCondition(&hc.Status.Conditions, monitoringv1alpha1.ConditionInMaintenance)
		return false
	}
	active, end, next := schedule.At(at)
	cond := metav1.Condition{Type: monitoringv1alpha1.ConditionInMaintenance, ObservedGeneration: hc.Generation,
		Status: metav1.ConditionFalse, Reason: monitoringv1alpha1.ReasonNoMaintenanceWindow, Message: maintenance.IdleMessage(next)}
	if active {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, monitoringv1alpha1.ReasonMaintenanceWindow, maintenance.Message(end)
	}
	meta.SetStatusCondition(&hc.Status.Conditions, cond)
	return active
}

// scheduleRound starts the first round of a new spec (or one asked for) at once,
// and hands every later one to the round runner, which starts it when its slot
// comes without waiting for a reconcile (startDue). A round's completion wakes
// the reconciler by itself.
// Sets Ready=Unknown (Progressing) while the first round of a new spec runs, and
// Ready=False (InvalidSpec) for a spec that cannot be checked.
func (r *HealthCheckReconciler) scheduleRound(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(hc)
	if rnd := r.rounds.running(key); rnd != nil && rnd.generation == hc.Generation && rnd.requestedAt == requestedAt(hc) {
		return ctrl.Result{}, nil
	}
	if due := r.nextRun(hc); !due.IsZero() {
		r.rounds.dueAt(key, due)
		return ctrl.Result{}, nil
	}
	targets, err := r.resolveRound(ctx, hc)
	var invalid *resolve.InvalidSpecError
	if errors.As(err, &invalid) {
		r.forget(key)
		markInvalid(hc, invalid)
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	r.rounds.start(hc, targets, time.Time{})
	if hc.Status.ObservedGeneration != hc.Generation {
		markProgressing(hc)
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Started round", "targets", len(targets))
	return ctrl.Result{}, nil
}

// startDue starts hc's round when its slot has come, called by the round
// runner's workers: from the HealthCheck as the cache holds it, and without a
// reconcile, so that a reconciler held up by status writes delays no check. It
// starts only rounds of a spec already running; anything else (a new spec, a
// round asked for, a spec that cannot be resolved) is the reconciler's, which
// the change itself or, for an error, this wakes.
func (r *HealthCheckReconciler) startDue(ctx context.Context, key types.NamespacedName) {
	cached := &monitoringv1alpha1.HealthCheck{}
	// The cache's own copy, read only: of it a round keeps only its own copy of the spec.
	if err := r.Get(ctx, key, cached, &client.GetOptions{UnsafeDisableDeepCopy: ptr.To(true)}); err != nil {
		return // deleted (the reconciler forgets it) or not cached: a reconcile times it again
	}
	hc := *cached
	hc.Spec = *cached.Spec.DeepCopy()
	if !hc.DeletionTimestamp.IsZero() || hc.Spec.Suspend {
		return
	}
	if r.rounds.running(key) != nil {
		return // the round before is still running; when it ends, it starts this one (see rounds.finish)
	}
	now := r.Clock.Now()
	last, _ := r.rounds.latestStarted(key)
	due := r.nextRun(&hc)
	if due.IsZero() {
		return
	}
	if now.Before(due) {
		r.rounds.dueAt(key, due)
		return
	}
	// The logger gets the HealthCheck's name only where resolving may log (a
	// source that cannot be listed): every round would otherwise pay for it.
	log := r.log
	if len(hc.Spec.TargetsFrom) > 0 {
		log = log.WithValues("HealthCheck", klog.KObj(&hc))
	}
	targets, err := r.resolveRound(ctrl.LoggerInto(ctx, log), &hc)
	if err != nil {
		r.log.V(1).Info("Not starting a round, the reconciler will", "HealthCheck", klog.KObj(&hc), "error", err)
		r.rounds.wakeReconciler(key)
		return
	}
	if r.rounds.startIfLatest(&hc, targets, due, last) {
		r.Metrics.observeLag(now.Sub(due))
		if debug := r.log.V(1); debug.Enabled() {
			debug.Info("Started round", "HealthCheck", klog.KObj(&hc), "targets", len(targets))
		}
	}
}

// resolveRound resolves hc's targets for a round: its sources, Secrets and
// endpoints. A spec that cannot be checked is a *resolve.InvalidSpecError.
func (r *HealthCheckReconciler) resolveRound(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) ([]resolve.Target, error) {
	if _, err := r.maintenanceOf(hc); err != nil {
		return nil, &resolve.InvalidSpecError{Msg: err.Error()}
	}
	found, err := r.discovery.targets(ctx, hc)
	if err != nil {
		return nil, err
	}
	targets, err := resolveTargets(ctx, r.APIReader, hc, found.result.Targets)
	if err != nil {
		return nil, err
	}
	if err := listEndpoints(ctx, r.Client, hc.Namespace, targets); err != nil {
		return nil, err
	}
	return targets, nil
}

// forget stops a HealthCheck's round and drops its metrics.
func (r *HealthCheckReconciler) forget(key types.NamespacedName) {
	r.rounds.stop(key)
	r.Metrics.forget(key)
	r.budget.forget(key)
	r.refused.Delete(key)
	r.down.Delete(key)
	r.counts.Delete(key)
	r.schedules.Delete(key)
	r.planner.Forget(key)
	r.discovery.forget(key)
}

// nextRun is when the HealthCheck's next round is due: at once for a spec not yet
// checked, a new requested-at annotation or a changed Secret, else one interval
// after the previous round started (on the HealthCheck's phase grid, see nextSlot),
// so a round's own duration causes no drift.
//
// What was checked last is read from the round runner first, and from status
// only when no round started in this process (a restart, a new leader): status
// may lag, and a status write the API server refuses must never make a round
// due at once, over and over, against the user's endpoints.
func (r *HealthCheckReconciler) nextRun(hc *monitoringv1alpha1.HealthCheck) time.Time {
	key := client.ObjectKeyFromObject(hc)
	if r.rounds.isRequested(key) {
		return time.Time{}
	}
	every := resolve.Interval(hc.Spec)
	if last, ok := r.rounds.latestStarted(key); ok {
		if last.generation != hc.Generation || last.requestedAt != requestedAt(hc) {
			return time.Time{}
		}
		return nextSlot(last.at, every, phase(key, every))
	}
	if hc.Status.ObservedGeneration != hc.Generation || requestedAt(hc) != hc.Status.LastHandledRequestedAt ||
		hc.Status.LastRunTime == nil {
		return time.Time{}
	}
	return nextSlot(hc.Status.LastRunTime.Time, every, phase(key, every))
}

// notify reports a collected round once status records it: one event per
// transition within the targets' event budget, and, through the planner, the
// webhook messages of spec.notify (grouped, repeated, held in maintenance or
// by dependsOn as it says). Delivery happens in the background.
func (r *HealthCheckReconciler) notify(ctx context.Context, hc *monitoringv1alpha1.HealthCheck, report *roundReport) {
	if report == nil {
		return
	}
	key := client.ObjectKeyFromObject(hc)
	type event struct {
		eventType, reason, text string
		target                  string
	}
	var events []event
	var planned []notify.Transition
	for _, t := range report.transitions {
		eventType, reason, text := describe(t, hc.Spec.FailureThreshold)
		emit, ranOut, silenced := r.budget.spend(key, t.name)
		switch {
		case ranOut:
			eventType, reason, text = corev1.EventTypeWarning, monitoringv1alpha1.EventTargetFlapping, flappingNote(t.name)
		case !emit:
			continue
		case silenced > 0:
			text = fmt.Sprintf("%s; %d earlier transitions were not reported", text, silenced)
		}
		events = append(events, event{eventType, reason, note(text), t.name})
		planned = append(planned, notify.Transition{
			Target: t.name, State: t.target.State, PreviousState: t.from, Reason: reason,
			StatusCode: t.target.StatusCode, Time: t.target.LastCheckTime.Time, Text: note(text),
		})
	}
	for _, b := range report.budgets {
		e := event{corev1.EventTypeNormal, monitoringv1alpha1.EventErrorBudgetRecovered, note(b.message), ""}
		if b.burning {
			e.eventType, e.reason = corev1.EventTypeWarning, monitoringv1alpha1.EventErrorBudgetBurning
		}
		events = append(events, e)
		planned = append(planned, notify.Transition{Reason: e.reason, Time: report.at, Text: e.text})
	}

	spec := monitoringv1alpha1.NotifySpec{}
	if hc.Spec.Notify != nil {
		spec = *hc.Spec.Notify
	}
	plan := r.planner.Plan(notify.Round{
		HealthCheck: key, Spec: spec, Transitions: planned, Targets: report.targets,
		SuppressedBy: r.unhealthyDependency(ctx, hc), InMaintenance: report.inMaintenance, Now: report.at,
	})
	for i, e := range events {
		text := e.text
		if extra := plan.Outcomes[i].EventNote; extra != "" {
			text = note(text + " " + extra)
		}
		annotations := map[string]string{}
		if e.target != "" {
			annotations[monitoringv1alpha1.TargetAnnotation] = e.target
		}
		r.Recorder.AnnotatedEventf(hc, annotations, e.eventType, e.reason, "%s", text)
		if held := plan.Outcomes[i].Held; held != "" {
			ctrl.LoggerFrom(ctx).V(1).Info("Not notifying a transition", "target", e.target, "reason", e.reason, "held", held)
		}
	}
	if hc.Spec.Notify == nil || len(plan.Messages) == 0 {
		return
	}
	webhook := r.webhookURL(ctx, hc)
	if webhook == "" {
		return
	}
	for _, m := range plan.Messages {
		r.Notifier.Send(webhook, m)
	}
}

// plannedTargets lists every target after a round as the planner reads them,
// named as their transitions are; judged is aligned with targets.
func plannedTargets(targets []resolve.Target, judged []monitoringv1alpha1.TargetStatus) []notify.Target {
	out := make([]notify.Target, len(targets))
	for i, t := range targets {
		out[i] = notify.Target{Name: t.Name, State: judged[i].State, StatusCode: judged[i].StatusCode}
		if judged[i].LastTransitionTime != nil {
			out[i].Since = judged[i].LastTransitionTime.Time
		}
	}
	return out
}

// unhealthyDependency names the first HealthCheck of spec.notify.dependsOn, in
// the HealthCheck's namespace, whose Healthy condition is False; "" when none
// is (a dependency that does not exist holds nothing back).
func (r *HealthCheckReconciler) unhealthyDependency(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) string {
	if hc.Spec.Notify == nil {
		return ""
	}
	for _, name := range hc.Spec.Notify.DependsOn {
		dep := &monitoringv1alpha1.HealthCheck{}
		if err := r.Get(ctx, client.ObjectKey{Namespace: hc.Namespace, Name: name}, dep); err != nil {
			if !apierrors.IsNotFound(err) {
				ctrl.LoggerFrom(ctx).Error(err, "Reading a HealthCheck of spec.notify.dependsOn; it holds nothing back this round", "dependency", name)
			}
			continue
		}
		if meta.IsStatusConditionFalse(dep.Status.Conditions, monitoringv1alpha1.ConditionHealthy) {
			return name
		}
	}
	return ""
}

// webhookURL reads the webhook URL of spec.notify, or "" when there is none. A
// missing Secret is logged, not retried: notifications are best effort and never
// hold up status.
func (r *HealthCheckReconciler) webhookURL(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) string {
	if hc.Spec.Notify == nil {
		return ""
	}
	ref := hc.Spec.Notify.WebhookSecretRef
	url, found, err := secretValue(ctx, r.APIReader, hc.Namespace, ref)
	if err != nil || !found {
		ctrl.LoggerFrom(ctx).Info("Not notifying: the webhook Secret cannot be read", "secret", ref.Name, "key", ref.Key, "found", found, "error", err)
		return ""
	}
	return url
}

// describe words a transition as an event: type, reason and a note that names the
// target and the evidence.
func describe(t transition, failureThreshold int32) (eventType, reason, note string) {
	name := t.name
	switch {
	case len(t.backends) > 0 && t.recovered:
		return corev1.EventTypeNormal, monitoringv1alpha1.EventBackendRecovered, backendsNote(name, t.backends, "came back")
	case len(t.backends) > 0:
		return corev1.EventTypeWarning, monitoringv1alpha1.EventBackendDown, backendsNote(name, t.backends, "went Down")
	}
	if t.certificate {
		return corev1.EventTypeWarning, monitoringv1alpha1.EventCertificateExpiring, fmt.Sprintf("%s: %s", name, t.target.Message)
	}
	switch t.target.State {
	case monitoringv1alpha1.StateDown:
		if t.target.Reason == monitoringv1alpha1.CheckBlocked {
			return corev1.EventTypeWarning, monitoringv1alpha1.EventTargetBlocked,
				fmt.Sprintf("%s was not checked: its address is blocked by the operator's outbound policy", name)
		}
		failures := "consecutive failures"
		if t.target.ConsecutiveFailures == 1 {
			failures = "consecutive failure"
		}
		return corev1.EventTypeWarning, monitoringv1alpha1.EventTargetDown,
			fmt.Sprintf("%s%s%s (%d %s)", name, evidenceSeparator(t), t.evidence, t.target.ConsecutiveFailures, failures)
	case monitoringv1alpha1.StateSlow:
		return corev1.EventTypeWarning, monitoringv1alpha1.EventTargetSlow, fmt.Sprintf("%s%s%s", name, evidenceSeparator(t), t.evidence)
	default:
		return corev1.EventTypeNormal, monitoringv1alpha1.EventTargetRecovered,
			fmt.Sprintf("%s%s%s (was %s)", name, evidenceSeparator(t), t.evidence, t.from)
	}
}

// evidenceSeparator joins a target's name to its evidence in a note: a space
// before a check's own words ("shop returned 503 in 3ms"), a colon before a
// fanned-out target's count of its backends ("web: 1 of 2 backends healthy, …").
func evidenceSeparator(t transition) string {
	if t.target.Backends != nil {
		return ": "
	}
	return " "
}

func markRunning(hc *monitoringv1alpha1.HealthCheck, targets []resolve.Target) {
	cond := metav1.Condition{
		Type:               monitoringv1alpha1.ConditionReady,
		Status:             metav1.ConditionTrue,
		Reason:             monitoringv1alpha1.ReasonRunning,
		Message:            fmt.Sprintf("Checking %d targets every %s", len(targets), resolve.Interval(hc.Spec)),
		ObservedGeneration: hc.Generation,
	}
	for _, t := range targets {
		if t.Skip == monitoringv1alpha1.CheckSecretNotFound {
			cond.Status, cond.Reason = metav1.ConditionFalse, monitoringv1alpha1.ReasonSecretNotFound
			cond.Message = conditionMessage(fmt.Sprintf("Target %s is not checked: %s", t.Name, t.SkipMessage))
			break
		}
	}
	meta.SetStatusCondition(&hc.Status.Conditions, cond)
}

// markDiscovery adds what discovery found to the Ready condition markRunning
// set: False with SourceUnavailable when a source cannot be read (the other
// targets are still checked), else what was left out, after the Running message.
func markDiscovery(hc *monitoringv1alpha1.HealthCheck, found discovered) {
	unavailable, message := found.readiness()
	ready := meta.FindStatusCondition(hc.Status.Conditions, monitoringv1alpha1.ConditionReady)
	if message == "" || ready == nil {
		return
	}
	cond := *ready
	switch {
	case unavailable:
		cond.Status, cond.Reason = metav1.ConditionFalse, monitoringv1alpha1.ReasonSourceUnavailable
		cond.Message = conditionMessage("A source cannot be read, its targets are not checked: " + message)
	case cond.Status == metav1.ConditionTrue:
		cond.Message = conditionMessage(cond.Message + "; " + message)
	}
	meta.SetStatusCondition(&hc.Status.Conditions, cond)
}

// removeCondition removes the condition of type t, if there is one.
// meta.RemoveStatusCondition copies the whole list on every call, whether it
// removes anything or not, and each round calls this four times, mostly for
// conditions the HealthCheck does not have (no maintenance windows, no
// objective).
func removeCondition(conditions *[]metav1.Condition, t string) {
	if meta.FindStatusCondition(*conditions, t) != nil {
		meta.RemoveStatusCondition(conditions, t)
	}
}

// conditionMessage bounds a condition's message.
func conditionMessage(s string) string {
	return monitoringv1alpha1.Truncate(s, monitoringv1alpha1.MaxConditionMessageLength)
}

// markProgressing says the first round of a new spec is running: Ready is Unknown
// and Reconciling True, which kstatus reads as InProgress.
func markProgressing(hc *monitoringv1alpha1.HealthCheck) {
	message := fmt.Sprintf("First round of generation %d is running", hc.Generation)
	for _, condType := range []string{monitoringv1alpha1.ConditionReady, monitoringv1alpha1.ConditionReconciling} {
		status := metav1.ConditionUnknown
		if condType == monitoringv1alpha1.ConditionReconciling {
			status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{
			Type:               condType,
			Status:             status,
			Reason:             monitoringv1alpha1.ReasonProgressing,
			Message:            message,
			ObservedGeneration: hc.Generation,
		})
	}
}

func markSuspended(hc *monitoringv1alpha1.HealthCheck) {
	hc.Status.ObservedGeneration = hc.Generation
	removeCondition(&hc.Status.Conditions, monitoringv1alpha1.ConditionReconciling)
	hc.Status.NextRunTime = nil
	meta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{
		Type:               monitoringv1alpha1.ConditionReady,
		Status:             metav1.ConditionFalse,
		Reason:             monitoringv1alpha1.ReasonSuspended,
		Message:            "Checks are suspended by spec.suspend",
		ObservedGeneration: hc.Generation,
	})
}

func markInvalid(hc *monitoringv1alpha1.HealthCheck, err *resolve.InvalidSpecError) {
	hc.Status.ObservedGeneration = hc.Generation
	removeCondition(&hc.Status.Conditions, monitoringv1alpha1.ConditionReconciling)
	meta.SetStatusCondition(&hc.Status.Conditions, metav1.Condition{
		Type:               monitoringv1alpha1.ConditionReady,
		Status:             metav1.ConditionFalse,
		Reason:             monitoringv1alpha1.ReasonInvalidSpec,
		Message:            conditionMessage(err.Error()),
		ObservedGeneration: hc.Generation,
	})
}

// SetupWithManager registers the reconciler, filling unset fields with defaults
// from the manager. Only spec changes (generation) start
// work from watch events, so the operator's own status writes never cause a round;
// finished rounds wake the reconciler through a channel.
func (r *HealthCheckReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Recorder == nil {
		recorder, err := newEventRecorder(mgr, r.Clock)
		if err != nil {
			return err
		}
		r.Recorder = recorder
	}
	if r.Checker == nil {
		// The reconciler's clock, so that a target's lastCheckTime and its
		// lastTransitionTime come from one clock.
		r.Checker = checker.New(checker.Options{Policy: r.Policy, MaxInFlight: r.MaxConcurrentChecks, Clock: r.Clock})
	}
	r.budget = newEventBudget(r.Clock)
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Metrics == nil {
		r.Metrics = defaultMetrics(r.MetricsOptions)
	}
	if r.StatusRefreshInterval <= 0 {
		r.StatusRefreshInterval = DefaultStatusRefreshInterval
	}
	if r.Notifier == nil {
		r.Notifier = notify.New(notify.Options{
			Client: &http.Client{Transport: checker.NewTransportWithPolicy(r.Policy)},
			Log:    mgr.GetLogger().WithName("notify"),
			OnDrop: r.Metrics.observeDroppedNotification,
		})
	}
	if err := mgr.Add(r.Notifier); err != nil {
		return fmt.Errorf("adding the notifier: %w", err)
	}
	gatewayAPI, err := servesHTTPRoutes(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	r.discovery = newDiscovery(r.APIReader, gatewayAPI)
	r.rounds = newRounds(r.Checker.Run, r.Clock, max(r.MaxConcurrentReconciles, 2))
	r.rounds.startDue = r.startDue
	r.rounds.collect = r.collectRound
	r.log = mgr.GetLogger().WithName("rounds")
	if err := mgr.Add(r.rounds); err != nil {
		return fmt.Errorf("adding the round runner: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &monitoringv1alpha1.HealthCheck{}, secretNameField, secretNames); err != nil {
		return fmt.Errorf("indexing HealthChecks by Secret: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&monitoringv1alpha1.HealthCheck{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, requestedAtChanged), r.Shard.predicate())).
		WatchesRawSource(source.Channel(r.rounds.wake, &handler.EnqueueRequestForObject{})).
		// Only Secrets' metadata is cached: values are read when a round starts.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.healthChecksUsingSecret), builder.OnlyMetadata)
	// Sources' objects too: only their metadata is cached, and they are listed
	// when a round starts (see discovery).
	kinds := []sourceKind{kindIngress, kindService}
	if gatewayAPI {
		kinds = append(kinds, kindHTTPRoute, kindGateway)
	}
	for _, kind := range kinds {
		b = b.WatchesMetadata(metadataOf(kind), r.sourceHandler(kind))
	}
	return b.WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Named("healthcheck").
		Complete(r)
}

// requestedAtChanged passes updates that set a new requested-at annotation.
var requestedAtChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		key := monitoringv1alpha1.RequestedAtAnnotation
		return e.ObjectOld.GetAnnotations()[key] != e.ObjectNew.GetAnnotations()[key]
	},
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// secretNameField indexes HealthChecks by the names of the Secrets their checks
// read (header values, CA bundles and client certificates, in targets and in
// sources' templates).
const secretNameField = ".spec.targets.headers.valueFrom.secretKeyRef.name"

func secretNames(obj client.Object) []string {
	hc, ok := obj.(*monitoringv1alpha1.HealthCheck)
	if !ok {
		return nil
	}
	var names []string
	add := func(name string) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	settings := func(t monitoringv1alpha1.TargetSettings) {
		for _, h := range t.Headers {
			if h.ValueFrom != nil {
				add(h.ValueFrom.SecretKeyRef.Name)
			}
		}
		if t.TLS != nil && t.TLS.CABundleSecretRef != nil {
			add(t.TLS.CABundleSecretRef.Name)
		}
		if t.TLS != nil && t.TLS.ClientCertificateSecretRef != nil {
			add(t.TLS.ClientCertificateSecretRef.Name)
		}
	}
	for _, t := range hc.Spec.Targets {
		settings(t.TargetSettings)
	}
	for _, src := range hc.Spec.TargetsFrom {
		if src.Template != nil {
			settings(*src.Template)
		}
	}
	return names
}

// healthChecksUsingSecret maps a changed Secret to the HealthChecks in its
// namespace that read it, and makes their next round due at once, so a round
// held up by a missing Secret resumes as soon as it appears.
func (r *HealthCheckReconciler) healthChecksUsingSecret(ctx context.Context, secret client.Object) []reconcile.Request {
	var list monitoringv1alpha1.HealthCheckList
	if err := r.List(ctx, &list, client.InNamespace(secret.GetNamespace()), client.MatchingFields{secretNameField: secret.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing HealthChecks that use a Secret", "secret", klog.KObj(secret))
		return nil
	}
	requests := make([]reconcile.Request, 0, len(list.Items))
	for _, hc := range list.Items {
		if !r.Shard.Owns(hc.Namespace, hc.Name) {
			continue
		}
		key := client.ObjectKeyFromObject(&hc)
		r.rounds.requestNow(key)
		requests = append(requests, reconcile.Request{NamespacedName: key})
	}
	return requests
}
