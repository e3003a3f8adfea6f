package controllers

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"reflect"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// thresholds are the consecutive counts that move a target between states.
type thresholds struct {
	failure int32
	success int32
	// certificateExpiry flags certificates that expire within it; 0 is off.
	certificateExpiry time.Duration
}

// transition is a change of a target's state that users are told about.
type transition struct {
	// name is the target's display name.
	name   string
	from   monitoringv1alpha1.TargetState
	target monitoringv1alpha1.TargetStatus
	// evidence is the check's own description, such as "returned 503 in 120ms".
	evidence string
	// certificate marks the target's certificate coming close to expiry, rather
	// than a change of state.
	certificate bool
	// backends, when set, are the target's backends that entered Down in the
	// round, or left it when recovered is set, rather than a change of the
	// target's own state.
	backends  []monitoringv1alpha1.BackendStatus
	recovered bool
}

// judge folds one check result into a target's previous status. It is a pure
// function of its inputs: the state machine of the operator.
//
// A good answer (an expected status code) makes a target Up or Slow at once,
// unless the target is Down: then it needs th.success good answers in a row.
// A failure counts up consecutiveFailures and turns the target Down at
// th.failure; fewer failures keep the previous state. A target the outbound
// policy blocks is Down at once. The counters stop at their
// threshold, past which they change nothing, so a steady target has a steady
// status and costs no API writes.
func judge(prev monitoringv1alpha1.TargetStatus, res checker.Result, insecure bool, th thresholds, now metav1.Time) monitoringv1alpha1.TargetStatus {
	next := prev
	if next.State == "" {
		next.State = monitoringv1alpha1.StatePending
	}
	next.StatusCode = int32(res.StatusCode)
	next.LatencyMs = res.Latency.Milliseconds()
	next.Reason = monitoringv1alpha1.CheckReason(res.Reason)
	next.Message = monitoringv1alpha1.Truncate(res.Message, monitoringv1alpha1.MaxMessageLength)
	checked := metav1.NewTime(res.CheckedAt)
	next.LastCheckTime = &checked

	next.InsecureSkipVerify = insecure
	if res.Reason == checker.ReasonBlocked {
		// The policy will not change its mind on a retry: Down at once.
		next.ConsecutiveSuccesses = 0
		next.ConsecutiveFailures = th.failure
		next.State = monitoringv1alpha1.StateDown
	} else if res.OK() {
		next.ConsecutiveFailures = 0
		next.ConsecutiveSuccesses = min(prev.ConsecutiveSuccesses+1, th.success)
		if next.State != monitoringv1alpha1.StateDown || next.ConsecutiveSuccesses >= th.success {
			next.State = monitoringv1alpha1.StateUp
			if res.Slow {
				next.State = monitoringv1alpha1.StateSlow
			}
		}
	} else {
		next.ConsecutiveSuccesses = 0
		next.ConsecutiveFailures = min(prev.ConsecutiveFailures+1, th.failure)
		if next.ConsecutiveFailures >= th.failure {
			next.State = monitoringv1alpha1.StateDown
		}
	}
	if next.State != prev.State || next.LastTransitionTime == nil {
		next.LastTransitionTime = &now
	}
	next.CertificateExpiresAt = nil
	if res.CertificateExpiresAt != nil {
		expires := metav1.NewTime(*res.CertificateExpiresAt)
		next.CertificateExpiresAt = &expires
		if res.OK() && th.certificateExpiry > 0 && res.CertificateExpiresAt.Sub(res.CheckedAt) < th.certificateExpiry {
			next.Reason = monitoringv1alpha1.CheckCertificateExpiring
			next.Message = fmt.Sprintf("certificate expires at %s, within %s", res.CertificateExpiresAt.UTC().Format(time.RFC3339), th.certificateExpiry)
		}
	}
	return next
}

// certificateStartsExpiring tells whether a check just found the target's
// certificate within the expiry threshold, an event of its own.
func certificateStartsExpiring(prev, next monitoringv1alpha1.TargetStatus) bool {
	return next.Reason == monitoringv1alpha1.CheckCertificateExpiring && prev.Reason != monitoringv1alpha1.CheckCertificateExpiring
}

// isReported tells whether moving from one state to another emits an event:
// entering Down, entering Slow, and returning to Up from Down or Slow.
func isReported(from, to monitoringv1alpha1.TargetState) bool {
	if from == to {
		return false
	}
	switch to {
	case monitoringv1alpha1.StateDown, monitoringv1alpha1.StateSlow:
		return true
	case monitoringv1alpha1.StateUp:
		return from == monitoringv1alpha1.StateDown || from == monitoringv1alpha1.StateSlow
	}
	return false
}

// applyRound writes a finished round into status: every target's new state, its
// backends when it is fanned out, the summary, the round's timing and the
// Healthy and Degraded conditions. It returns the targets' new statuses aligned
// with the round's targets, and the transitions to report. nextRun is when the
// round after it is due. down holds the backends that were Down before the
// round (see backendsDown); applyRound replaces it with this round's.
func applyRound(status *monitoringv1alpha1.HealthCheckStatus, generation int64, rnd *round, th thresholds, nextRun time.Time, down backendsDown) ([]monitoringv1alpha1.TargetStatus, []transition) {
	previous := make(map[string]monitoringv1alpha1.TargetStatus, len(status.Targets))
	for _, t := range status.Targets {
		previous[t.URL] = t
	}

	started := metav1.NewTime(rnd.started)
	judged := make([]monitoringv1alpha1.TargetStatus, len(rnd.targets))
	failing := make([][]monitoringv1alpha1.BackendStatus, len(rnd.targets))
	downAfter := make(backendsDown, len(down))
	var transitions []transition
	for i, t := range rnd.targets {
		prev, seen := previous[t.URL]
		if !seen {
			prev = monitoringv1alpha1.TargetStatus{State: monitoringv1alpha1.StatePending}
		}
		prev.URL, prev.Name, prev.Source = t.URL, t.StatusName, t.Source
		if !t.Checkable() {
			judged[i] = skipped(prev, t)
			failing[i] = prev.FailingBackends
			if known, ok := down[t.URL]; ok {
				downAfter[t.URL] = known
			}
			continue
		}
		next := judge(prev, rnd.results[i].Result, t.Check.InsecureSkipVerify, th, started)
		before, complete := down.downBefore(t.URL, prev)
		var changes backendChanges
		failing[i], changes, downAfter[t.URL] = recordBackends(&next, rnd.results[i], before, complete)
		if isReported(prev.State, next.State) {
			transitions = append(transitions, transition{name: t.Name, from: prev.State, target: next, evidence: rnd.results[i].Message})
		}
		if certificateStartsExpiring(prev, next) {
			transitions = append(transitions, transition{name: t.Name, from: prev.State, target: next, certificate: true})
		}
		if len(changes.down) > 0 {
			transitions = append(transitions, transition{name: t.Name, from: prev.State, target: next, backends: changes.down})
		}
		if len(changes.recovered) > 0 {
			transitions = append(transitions, transition{name: t.Name, from: prev.State, target: next, backends: changes.recovered, recovered: true})
		}
		judged[i] = next
	}
	for i, n := range shareFailingBackends(failing) {
		judged[i].FailingBackends = failing[i][:n:n]
	}
	clear(down)
	for url, set := range downAfter {
		if set != nil {
			down[url] = set
		}
	}

	targets := slices.Clone(judged)
	slices.SortFunc(targets, func(a, b monitoringv1alpha1.TargetStatus) int { return strings.Compare(a.URL, b.URL) })
	next := metav1.NewTime(nextRun)
	status.Targets = targets
	status.Summary = monitoringv1alpha1.Summarize(targets)
	status.LastRunTime = &started
	status.NextRunTime = &next
	status.LastRunDuration = &metav1.Duration{Duration: rnd.duration.Round(10 * time.Millisecond)}
	status.LastRunLag = &metav1.Duration{Duration: rnd.lag.Round(10 * time.Millisecond)}
	setHealthConditions(status, generation)
	return judged, transitions
}

// skipped is the status of a target that was not checked this round: its state
// and counters stay, and the reason says why.
func skipped(prev monitoringv1alpha1.TargetStatus, t resolve.Target) monitoringv1alpha1.TargetStatus {
	prev.Reason = t.Skip
	prev.Message = t.SkipMessage
	prev.StatusCode = 0
	prev.LatencyMs = 0
	return prev
}

// setHealthConditions derives Healthy and Degraded from the summary.
func setHealthConditions(status *monitoringv1alpha1.HealthCheckStatus, generation int64) {
	s := status.Summary
	healthy := metav1.Condition{Type: monitoringv1alpha1.ConditionHealthy, ObservedGeneration: generation}
	switch {
	case s.Down > 0:
		healthy.Status, healthy.Reason = metav1.ConditionFalse, monitoringv1alpha1.ReasonTargetsDown
		healthy.Message = fmt.Sprintf("%d of %d targets are Down", s.Down, s.Total)
	case s.Pending == s.Total:
		healthy.Status, healthy.Reason = metav1.ConditionUnknown, monitoringv1alpha1.ReasonAwaitingFirstCheck
		healthy.Message = "No target has been judged yet"
	default:
		healthy.Status, healthy.Reason = metav1.ConditionTrue, monitoringv1alpha1.ReasonAllTargetsUp
		healthy.Message = fmt.Sprintf("No target is Down: %d Up, %d Slow, %d Pending", s.Up, s.Slow, s.Pending)
	}
	meta.SetStatusCondition(&status.Conditions, healthy)

	degraded := metav1.Condition{Type: monitoringv1alpha1.ConditionDegraded, ObservedGeneration: generation}
	expiring, backendsDown := 0, 0
	for _, t := range status.Targets {
		if t.Reason == monitoringv1alpha1.CheckCertificateExpiring {
			expiring++
		}
		if t.Backends != nil && t.Backends.Down > 0 && t.State != monitoringv1alpha1.StateDown {
			backendsDown++
		}
	}
	switch {
	case s.Slow > 0:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, monitoringv1alpha1.ReasonTargetsSlow
		degraded.Message = fmt.Sprintf("%d of %d targets are Slow", s.Slow, s.Total)
	case backendsDown > 0:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, monitoringv1alpha1.ReasonBackendsDown
		degraded.Message = fmt.Sprintf("%d of %d targets have backends Down, with enough healthy ones not to be Down", backendsDown, s.Total)
	case expiring > 0:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, monitoringv1alpha1.EventCertificateExpiring
		degraded.Message = fmt.Sprintf("%d of %d targets have a certificate close to expiry", expiring, s.Total)
	default:
		degraded.Status, degraded.Reason = metav1.ConditionFalse, monitoringv1alpha1.ReasonNoTargetsSlow
		degraded.Message = "No target is Slow, has backends Down or a certificate close to expiry"
	}
	meta.SetStatusCondition(&status.Conditions, degraded)
}

// statusChanged tells whether a status write is due: something other than the
// round's timestamps and measurements changed, or a heartbeat is due (see
// heartbeatDue), so that lastRunTime and latencies never go stale for long.
// Of the targets list last written, only its print is kept (see
// printTargets); old's own list is not read.
//
// The rest of status it compares with reflect.DeepEqual, not
// equality.Semantic, which took 30 µs and 329 allocations a round of ten
// targets (BenchmarkStatusChanged: 2.3 µs and 2 now, 7 µs and 4 with the
// targets list compared too). Both statuses are this process's own (the one
// written is a snapshot of the one worked on), so times compare as the same
// values; what Semantic would call equal and reflect not (a nil and an empty
// list) costs at most one write more.
func statusChanged(old *monitoringv1alpha1.HealthCheckStatus, oldTargets targetsPrint, updated *monitoringv1alpha1.HealthCheckStatus, refresh, phase time.Duration) bool {
	if printTargets(updated.Targets) != oldTargets || !reflect.DeepEqual(withoutMeasurements(old), withoutMeasurements(updated)) {
		return true
	}
	if updated.LastRunTime == nil || (old.LastRunTime != nil && old.LastRunTime.Equal(updated.LastRunTime)) {
		return false
	}
	return old.LastRunTime == nil || heartbeatDue(old.LastRunTime.Time, updated.LastRunTime.Time, refresh, phase)
}

// heartbeatDue tells whether a round at updated, after the round at written
// that status last recorded, crosses one of the HealthCheck's heartbeat
// instants, phase + k*refresh. Each HealthCheck thus refreshes its status once
// every refresh at its own phase (see phase), and N HealthChecks write N/refresh
// times a second, evenly, even when they were all applied in the same second:
// a write due "refresh after the last one" would keep them in step, in bursts.
// Status is never more than refresh plus one interval stale.
//
// It counts in whole seconds, as status keeps times: written comes back from
// the API server truncated, and with a phase in nanoseconds, the round right
// after an instant would read as before it and write twice.
func heartbeatDue(written, updated time.Time, refresh, phase time.Duration) bool {
	every := int64(refresh / time.Second)
	if every <= 0 {
		return true
	}
	offset := int64(phase/time.Second) % every
	slot := func(t time.Time) int64 { return (t.Unix() - offset) / every }
	return slot(updated) > slot(written)
}

// withoutMeasurements copies a status without its targets (statusChanged
// compares their print) and without what changes on every round of a steady
// HealthCheck: times, and the availability counts and figures. The copy shares
// everything else with s (it is only compared, never written): copying a
// status whole for every round was a twentieth of the manager's CPU.
func withoutMeasurements(s *monitoringv1alpha1.HealthCheckStatus) *monitoringv1alpha1.HealthCheckStatus {
	c := withoutTargets(s)
	c.LastRunTime, c.NextRunTime, c.LastRunDuration, c.LastRunLag = nil, nil, nil, nil
	if s.Availability != nil {
		// Counts and figures ride on the writes that happen anyway.
		a := *s.Availability
		a.Ratio, a.GoodChecks, a.TotalChecks, a.ErrorBudgetRemaining, a.Counts = "", 0, 0, "", ""
		c.Availability = &a
	}
	return c
}

// targetsPrint is what this process keeps of the targets list status last
// recorded: how many, and a hash of each target without what changes on every
// round of a steady one (its latency, the message that quotes it, the times of
// its check and of its certificate's expiry, its availability figures, and
// those of its failing backends). A status write is due when the print of the
// working list differs (statusChanged); the list itself, one more per
// HealthCheck between two writes, is not kept.
type targetsPrint struct {
	n   int
	sum uint64
}

// printSeed seeds every print of this process; prints never leave it.
var printSeed = maphash.MakeSeed()

// printTargets hashes every field of targets but their measurements (see
// targetsPrint), field by field: JSON through the hash took 10 µs and 23
// allocations a round of ten targets, about a round's whole judging.
// TestEveryFieldOfATargetButItsMeasurementsIsInItsPrint fails for a field
// added to the status types and not here.
func printTargets(targets []monitoringv1alpha1.TargetStatus) targetsPrint {
	if len(targets) == 0 {
		return targetsPrint{}
	}
	var h printHash
	h.SetSeed(printSeed)
	for i := range targets {
		t := &targets[i]
		h.text(t.URL)
		h.text(t.Name)
		h.text(t.Source)
		h.text(string(t.State))
		h.number(int64(t.StatusCode))
		h.text(string(t.Reason))
		h.number(int64(t.ConsecutiveFailures))
		h.number(int64(t.ConsecutiveSuccesses))
		h.flag(t.InsecureSkipVerify)
		h.flag(t.LastTransitionTime != nil)
		if t.LastTransitionTime != nil {
			h.number(t.LastTransitionTime.UnixNano())
		}
		h.flag(t.Backends != nil)
		if b := t.Backends; b != nil {
			h.number(int64(b.Total))
			h.number(int64(b.Up))
			h.number(int64(b.Slow))
			h.number(int64(b.Down))
		}
		h.number(int64(len(t.FailingBackends)))
		for _, b := range t.FailingBackends {
			h.text(b.Address)
			h.text(b.Pod)
			h.text(b.Zone)
			h.text(string(b.Reason))
			h.number(int64(b.StatusCode))
		}
	}
	return targetsPrint{n: len(targets), sum: h.Sum64()}
}

// printHash writes values to a hash so that no two lists of them write the
// same bytes: each text after its length.
type printHash struct{ maphash.Hash }

func (h *printHash) number(n int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	_, _ = h.Write(b[:]) // a maphash.Hash never fails to write
}

func (h *printHash) text(s string) {
	h.number(int64(len(s)))
	_, _ = h.WriteString(s)
}

func (h *printHash) flag(b bool) {
	if b {
		_ = h.WriteByte(1)
	} else {
		_ = h.WriteByte(0)
	}
}
