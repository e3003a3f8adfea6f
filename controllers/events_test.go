package controllers

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func TestAFlappingTargetSaysSoOnceWhenItsBudgetRunsOut(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	budget := newEventBudget(clk)
	key := types.NamespacedName{Namespace: "ns", Name: "hc"}

	emitted, ranOut := 0, 0
	for range 50 {
		emit, out, _ := budget.spend(key, "flappy")
		if emit {
			emitted++
		}
		if out {
			ranOut++
		}
	}
	if emitted != TransitionEventBurst || ranOut != 1 {
		t.Fatalf("50 transitions: %d events and %d TargetFlapping, want %d and 1", emitted, ranOut, TransitionEventBurst)
	}
	if emit, _, _ := budget.spend(key, "steady"); !emit {
		t.Fatal("another target's budget was spent by the flapping one")
	}

	clk.SetTime(clk.Now().Add(TransitionEventRefill))
	emit, out, silenced := budget.spend(key, "flappy")
	if !emit || out || silenced != 50-TransitionEventBurst {
		t.Fatalf("after a refill: emit %v, ranOut %v, silenced %d; want an event that counts the %d unreported",
			emit, out, silenced, 50-TransitionEventBurst)
	}
	if emit, out, _ := budget.spend(key, "flappy"); emit || !out {
		t.Fatal("a budget spent again is said again")
	}
}

// sink records what client-go's broadcaster sends to the API server.
type sink struct {
	mu      sync.Mutex
	created []*corev1.Event
	updated []*corev1.Event
}

func (s *sink) Create(e *corev1.Event) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, e)
	return e, nil
}

func (s *sink) Update(e *corev1.Event) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updated = append(s.updated, e)
	return e, nil
}

func (s *sink) Patch(e *corev1.Event, _ []byte) (*corev1.Event, error) { return s.Update(e) }

func (s *sink) notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var notes []string
	for _, e := range s.created {
		notes = append(notes, e.Reason+" "+e.Message)
	}
	return notes
}

// The correlator as the operator tunes it, run by client-go itself: 30 targets
// going Down at once and a target flapping 50 times through the budget reach
// the API server as the budget decided, none dropped, none merged.
func TestTheCorrelatorPassesWhatTheBudgetLetsThrough(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	broadcaster := record.NewBroadcaster(record.WithCorrelatorOptions(EventCorrelatorOptions(clk)))
	defer broadcaster.Shutdown()
	s := &sink{}
	broadcaster.StartRecordingToSink(s)
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "healthcheck-operator"})
	hc := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hc", UID: "uid"}}
	budget := newEventBudget(clk)
	key := types.NamespacedName{Namespace: "ns", Name: "hc"}

	var want []string
	for i := range 30 {
		target := fmt.Sprintf("backend-%02d", i)
		text := target + " returned 503 in 1ms (1 consecutive failure)"
		recorder.AnnotatedEventf(hc, map[string]string{monitoringv1alpha1.TargetAnnotation: target}, corev1.EventTypeWarning, monitoringv1alpha1.EventTargetDown, "%s", text)
		want = append(want, monitoringv1alpha1.EventTargetDown+" "+text)
	}
	for i := range 50 {
		state, reason := "Down", monitoringv1alpha1.EventTargetDown
		if i%2 == 1 {
			state, reason = "Up", monitoringv1alpha1.EventTargetRecovered
		}
		text := fmt.Sprintf("flappy is %s (flip %d)", state, i)
		emit, ranOut, _ := budget.spend(key, "flappy")
		switch {
		case ranOut:
			reason, text = monitoringv1alpha1.EventTargetFlapping, flappingNote("flappy")
		case !emit:
			continue
		}
		recorder.AnnotatedEventf(hc, map[string]string{monitoringv1alpha1.TargetAnnotation: "flappy"}, corev1.EventTypeWarning, reason, "%s", text)
		want = append(want, reason+" "+text)
	}

	g.Eventually(s.notes).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(ConsistOf(want))
	g.Expect(len(want)).To(Equal(30 + TransitionEventBurst + 1))
	for _, n := range s.notes() {
		g.Expect(n).NotTo(ContainSubstring("combined from similar events"))
	}
	g.Expect(strings.Join(s.notes(), "\n")).To(ContainSubstring(monitoringv1alpha1.EventTargetFlapping + " flappy changed state more than"))
}
