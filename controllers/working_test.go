package controllers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// reportOf is a collected round's report with one transition per name.
func reportOf(names ...string) *roundReport {
	report := &roundReport{}
	for _, name := range names {
		report.transitions = append(report.transitions, transition{name: name})
	}
	return report
}

func transitionNames(report *roundReport) []string {
	if report == nil {
		return nil
	}
	var names []string
	for _, t := range report.transitions {
		names = append(names, t.name)
	}
	return names
}

func newTestWorking() *working {
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop", Generation: 1}}
	return newWorking(hc, &monitoringv1alpha1.HealthCheckStatus{})
}

func TestReportsWaitForTheirStatusWriteInTheOrderOfTheirRounds(t *testing.T) {
	w := newTestWorking()
	if w.takeWrite(false) != nil {
		t.Fatal("a write was due with nothing changed and nothing to report")
	}
	w.wait(reportOf("a"))
	w.wait(reportOf("b", "c"))
	wr := w.takeWrite(false)
	if got := fmt.Sprint(transitionNames(wr.report)); got != "[a b c]" {
		t.Fatalf("the write carries %s, want [a b c]", got)
	}
	w.wait(reportOf("d")) // a round collected while the write is under way
	if !w.writing {
		t.Fatal("not marked as writing while the write is under way")
	}

	w.wrote(wr, false, false) // the write failed: its reports go back before the later one
	if got := fmt.Sprint(transitionNames(w.pending)); got != "[a b c d]" {
		t.Fatalf("after a failed write %s wait, want [a b c d]", got)
	}
	w.status.LastRunTime = &metav1.Time{}
	w.status.Targets = []monitoringv1alpha1.TargetStatus{{URL: "http://a.example/", State: monitoringv1alpha1.StateUp}}
	wr = w.takeWrite(true)
	w.wrote(wr, true, true)
	sent := func() bool {
		return reflect.DeepEqual(w.written, withoutTargets(wr.status)) && w.writtenTargets == printTargets(wr.status.Targets)
	}
	if w.pending != nil || w.writing || !sent() || w.written.Targets != nil {
		t.Fatalf("after a recorded write: pending %v, writing %v, written is the status sent, its targets as their print: %v, %v",
			w.pending, w.writing, sent(), w.written.Targets == nil)
	}
	w.wait(reportOf("e"))
	w.status.Targets = []monitoringv1alpha1.TargetStatus{{URL: "http://a.example/", State: monitoringv1alpha1.StateDown}}
	wr = w.takeWrite(true)
	w.wrote(wr, false, true) // refused, and its transitions reported all the same
	if w.pending != nil || sent() {
		t.Fatalf("after a refused write: pending %v, written is the status sent: %v", transitionNames(w.pending), sent())
	}
	if w.written == &w.status {
		t.Fatal("the recorded status is the working one, not a copy: later rounds would change what status records")
	}
}

func TestTransitionsWaitingForAWriteAreBounded(t *testing.T) {
	w := newTestWorking()
	names := make([]string, maxPendingTransitions+5)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	for _, name := range names {
		w.wait(reportOf(name))
	}
	wr := w.takeWrite(false)
	if len(wr.report.transitions) != maxPendingTransitions || wr.dropped != 5 {
		t.Fatalf("%d transitions kept and %d dropped, want %d and 5", len(wr.report.transitions), wr.dropped, maxPendingTransitions)
	}
	if first := wr.report.transitions[0].name; first != "5" {
		t.Fatalf("the oldest kept is %s, want 5: the oldest are dropped", first)
	}
}

// collecting is a reconciler with just what collecting a round needs, and one
// HealthCheck, team-a/shop, checked every 10s, whose status heartbeat is every
// 2 minutes.
func collecting(t *testing.T) (*HealthCheckReconciler, *working, func(at time.Time, res checker.Result) *round) {
	t.Helper()
	clk := clocktesting.NewFakeClock(checkedAt)
	r := &HealthCheckReconciler{Clock: clk, StatusRefreshInterval: 2 * time.Minute,
		Metrics: NewMetrics(prometheus.NewRegistry(), MetricsOptions{}), log: logr.Discard()}
	r.budget = newEventBudget(clk)
	r.discovery = newDiscovery(nil, false)
	r.rounds = newRounds(noChecks, clk, 1)
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop", Generation: 1},
		Spec: monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: 10 * time.Second}, FailureThreshold: 1, SuccessThreshold: 1}}
	w := newWorking(hc, &monitoringv1alpha1.HealthCheckStatus{})
	r.statuses.Store(types.NamespacedName{Namespace: "team-a", Name: "shop"}, w)
	roundAt := func(at time.Time, res checker.Result) *round {
		return &round{generation: 1, spec: &hc.Spec, started: at, next: at.Add(10 * time.Second),
			targets: []resolve.Target{{URL: "http://shop/", Name: "shop"}}, results: results(res)}
	}
	return r, w, roundAt
}

// woken tells whether the reconciler was woken since last asked.
func woken(r *HealthCheckReconciler) bool {
	select {
	case <-r.rounds.wake:
		return true
	default:
		return false
	}
}

// writeAll has the reconciler's part done: whatever write is due, recorded.
func writeAll(w *working) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wr := w.takeWrite(true); wr != nil {
		w.wrote(wr, true, true)
	}
}

func TestARoundWakesTheReconcilerOnlyWhenStatusIsDueAWrite(t *testing.T) {
	r, w, roundAt := collecting(t)
	key := types.NamespacedName{Namespace: "team-a", Name: "shop"}
	// The rounds start a second after one of the HealthCheck's heartbeat instants.
	start := checkedAt.Truncate(2 * time.Minute).Add(phase(key, 2*time.Minute).Truncate(time.Second) + time.Second)

	r.collectRound(key, roundAt(start, good(false)))
	if !woken(r) {
		t.Fatal("the first round, which found the target Up, did not wake the reconciler")
	}
	writeAll(w)
	for i := 1; i <= 5; i++ {
		r.collectRound(key, roundAt(start.Add(time.Duration(i)*10*time.Second), good(false)))
		if woken(r) {
			t.Fatalf("round %d, which changed nothing but measurements, woke the reconciler", i+1)
		}
	}
	if got := w.status.LastRunTime.Time; !got.Equal(start.Add(50 * time.Second)) {
		t.Fatalf("the working status's last round ran at %v, want the latest round's start: every round is folded in", got)
	}
	r.collectRound(key, roundAt(start.Add(2*time.Minute), good(false)))
	if !woken(r) {
		t.Fatal("a round past the heartbeat did not wake the reconciler")
	}
	writeAll(w)
	r.collectRound(key, roundAt(start.Add(2*time.Minute+10*time.Second), bad()))
	if !woken(r) {
		t.Fatal("a round that found the target Down did not wake the reconciler")
	}
	if got := transitionNames(w.pending); fmt.Sprint(got) != "[shop]" {
		t.Fatalf("waiting to be reported: %v, want the target that went Down", got)
	}
}

func TestAWrittenStatusStaysAsItWasWritten(t *testing.T) {
	r, w, roundAt := collecting(t)
	key := types.NamespacedName{Namespace: "team-a", Name: "shop"}
	hc := w.view(nil)
	hc.Spec = monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: 10 * time.Second}, FailureThreshold: 1, SuccessThreshold: 1,
		Objective: &monitoringv1alpha1.Objective{Availability: "99.9", Window: &metav1.Duration{Duration: time.Hour}}}
	spec := hc.Spec
	round := func(at time.Time, res checker.Result) *round {
		rnd := roundAt(at, res)
		rnd.spec = &spec
		return rnd
	}
	r.collectRound(key, round(checkedAt, good(false)))
	writeAll(w)
	written := w.written.DeepCopy()

	// Later rounds change every part of status: states, counts, conditions.
	r.collectRound(key, round(checkedAt.Add(10*time.Second), bad()))
	r.collectRound(key, round(checkedAt.Add(20*time.Second), good(true)))
	w.mu.Lock()
	markProgressing(w.view(&spec))
	w.mu.Unlock()
	if diff := cmp.Diff(written, w.written); diff != "" {
		t.Fatalf("the status recorded as written changed with later rounds (-as written +now):\n%s", diff)
	}
}

// TestAStatusPatchReplacesOrRemovesTheTargetsWrittenWithoutKeepingThem: only
// the print of the targets list last written is kept, so a patch carries the
// whole list, and removes it when no target is left.
func TestAStatusPatchReplacesOrRemovesTheTargetsWrittenWithoutKeepingThem(t *testing.T) {
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"}}
	up := []monitoringv1alpha1.TargetStatus{{URL: "http://a.example/", State: monitoringv1alpha1.StateUp}}
	patchOf := func(written, now []monitoringv1alpha1.TargetStatus) map[string]any {
		t.Helper()
		base := &monitoringv1alpha1.HealthCheckStatus{Targets: written}
		wr := &write{base: withoutTargets(base), baseTargets: printTargets(written), status: &monitoringv1alpha1.HealthCheckStatus{Targets: now}}
		updated, patch := statusPatch(hc, wr)
		data, err := patch.Data(updated)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		status, _ := out["status"].(map[string]any)
		return status
	}
	if got := patchOf(up, nil); got == nil || got["targets"] != nil || !hasKey(got, "targets") {
		t.Fatalf("every target gone: the patch is %v, want targets: null", got)
	}
	if got := patchOf(up, up); len(got["targets"].([]any)) != 1 {
		t.Fatalf("the same targets: the patch is %v, want the list whole", got)
	}
	if got := patchOf(nil, nil); hasKey(got, "targets") {
		t.Fatalf("no targets before or now: the patch is %v, want no targets", got)
	}
}

func hasKey(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}
