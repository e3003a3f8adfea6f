package controllers

import (
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// maxPendingTransitions bounds the transitions of one HealthCheck that wait for
// status to record them while its writes fail or lag (a slow API server): past
// it the oldest are dropped, and the drop is logged when the rest are reported.
// Every round is still judged; this bounds only what waits to be told.
const maxPendingTransitions = 1024

// working is what this process holds of one HealthCheck's status between
// writes. The round runner folds each finished round into it as the round
// ends; the reconciler writes it when it differs from what status last
// recorded by more than measurements (statusChanged), and reports the
// transitions it carries once status records them. A steady HealthCheck thus
// costs no reconcile per round, and no copy of its object: only a write on its
// heartbeat.
//
// Status is read from the API server once, when the reconciler first sees the
// HealthCheck, and from memory after that: the cache may lag this process's
// own writes, and a status compared with an older one would be written again.
type working struct {
	mu sync.Mutex
	// object is the HealthCheck's metadata as the reconciler last read it:
	// names, UID and generation, for events and to tell a round of an old spec.
	object metav1.ObjectMeta
	// status is the latest: every round collected so far folded in.
	status monitoringv1alpha1.HealthCheckStatus
	// written is status as the API server last recorded it, without its
	// targets, the base of the next patch; compared with status to tell
	// whether a write is due. Of the targets, writtenTargets is their print.
	written        *monitoringv1alpha1.HealthCheckStatus
	writtenTargets targetsPrint
	// pending is what the rounds collected since the last write have to report
	// once status records them; nil when nothing waits.
	pending *roundReport
	// dropped counts transitions dropped past maxPendingTransitions.
	dropped int
	// writing is set while a reconcile writes status and reports what it took
	// from pending: a round collected meanwhile waits in pending, so that
	// reports go out in the order of their rounds.
	writing bool
}

// newWorking starts from status as the API server has it.
func newWorking(hc *monitoringv1alpha1.HealthCheck, status *monitoringv1alpha1.HealthCheckStatus) *working {
	w := &working{written: withoutTargets(status), writtenTargets: printTargets(status.Targets)}
	w.status = *status.DeepCopy()
	w.read(hc)
	return w
}

// read records the metadata of hc as the reconciler read it. Holds w.mu.
func (w *working) read(hc *monitoringv1alpha1.HealthCheck) {
	w.object = metav1.ObjectMeta{Namespace: hc.Namespace, Name: hc.Name, UID: hc.UID, Generation: hc.Generation}
}

// view is the HealthCheck as a round is collected into it: the metadata last
// read, spec, and the working status, which the caller stores back. Holds w.mu.
func (w *working) view(spec *monitoringv1alpha1.HealthCheckSpec) *monitoringv1alpha1.HealthCheck {
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: w.object, Status: w.status}
	hc.APIVersion, hc.Kind = monitoringv1alpha1.GroupVersion.String(), "HealthCheck"
	if spec != nil {
		hc.Spec = *spec
	}
	return hc
}

// wait adds a collected round's report to those waiting for status to record
// them: its transitions and budget turns after theirs, its picture of the
// targets instead of theirs. Holds w.mu.
func (w *working) wait(report *roundReport) {
	if report == nil {
		return
	}
	if w.pending == nil {
		w.pending = report
	} else {
		// In place: pending is w's alone, so a long wait appends, not copies.
		transitions, budgets := w.pending.transitions, w.pending.budgets
		*w.pending = *report
		w.pending.transitions = append(transitions, report.transitions...)
		w.pending.budgets = append(budgets, report.budgets...)
	}
	if over := len(w.pending.transitions) - maxPendingTransitions; over > 0 {
		w.pending.transitions = w.pending.transitions[over:]
		w.dropped += over
	}
}

// write is one status write a reconcile makes: the status to send, the base it
// is patched from (without targets; baseTargets is their print), and the
// reports it carries.
type write struct {
	status, base *monitoringv1alpha1.HealthCheckStatus
	baseTargets  targetsPrint
	report       *roundReport
	dropped      int
}

// takeWrite returns the status write due, if any, and marks w as writing: a
// changed status (or a heartbeat due), or reports waiting. Holds w.mu.
func (w *working) takeWrite(changed bool) *write {
	if !changed && w.pending == nil {
		return nil
	}
	out := &write{status: snapshot(&w.status), base: w.written, baseTargets: w.writtenTargets, report: w.pending, dropped: w.dropped}
	w.pending, w.dropped, w.writing = nil, 0, true
	return out
}

// snapshot is a copy of status that later rounds leave as it is, without
// copying what they never change in place: each round gives status a new
// targets list (applyRound, which countRound then fills in) and new values
// for its other pointers, while conditions are changed where they are. A deep
// copy would be a second status per HealthCheck, a tenth of the manager's heap.
// TestAWrittenStatusStaysAsItWasWritten holds the rounds to this.
func snapshot(status *monitoringv1alpha1.HealthCheckStatus) *monitoringv1alpha1.HealthCheckStatus {
	c := *status
	c.Conditions = slices.Clone(status.Conditions)
	return &c
}

// withoutTargets is a shallow copy of status without its targets list, which
// only the working status holds (see targetsPrint).
func withoutTargets(status *monitoringv1alpha1.HealthCheckStatus) *monitoringv1alpha1.HealthCheckStatus {
	c := *status
	c.Targets = nil
	return &c
}

// wrote ends a write. Recorded, status is what was sent; reported, its
// reports went out (a write the API server refused still reports them: the
// status this process holds has moved past them, so no later write would);
// neither, its reports go back in front of any that arrived meanwhile. Holds
// w.mu.
func (w *working) wrote(wr *write, recorded, reported bool) {
	w.writing = false
	if recorded {
		w.written, w.writtenTargets = withoutTargets(wr.status), printTargets(wr.status.Targets)
	}
	if reported {
		return
	}
	if wr.report != nil {
		later := w.pending
		w.pending = nil
		w.wait(wr.report)
		w.wait(later)
	}
	w.dropped += wr.dropped
}
