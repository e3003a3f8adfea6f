package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// noChecks is a RunFunc with nothing to check: a round of no targets ends at once.
func noChecks(context.Context, []checker.Target, int, func(checker.Result)) []checker.Result {
	return nil
}

// startedRounds runs a round runner of run on clk until the test ends; what
// it finds due arrives on the channel, where startDue would start it.
func startedRounds(t *testing.T, clk *clocktesting.FakeClock, run resolve.RunFunc) (*rounds, <-chan types.NamespacedName) {
	t.Helper()
	r := newRounds(run, clk, 1)
	due := make(chan types.NamespacedName, 16)
	r.startDue = func(_ context.Context, key types.NamespacedName) { due <- key }
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- r.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return r, due
}

func TestTheRoundRunnerTimesEachRoundsSuccessorOnItsSlot(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	r, due := startedRounds(t, clk, noChecks)
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"},
		Spec: monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: 10 * time.Second}}}
	key := types.NamespacedName{Namespace: "team-a", Name: "shop"}

	r.start(hc, nil, time.Time{})
	slot := nextSlot(clk.Now(), 10*time.Second, phase(key, 10*time.Second))

	// Nothing is due until the slot comes.
	clk.SetTime(slot.Add(-time.Millisecond))
	select {
	case <-due:
		t.Fatal("the next round was due before its slot")
	default:
	}
	clk.SetTime(slot)
	select {
	case got := <-due:
		if got != key {
			t.Fatalf("due: %v, want %v", got, key)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the next round was not due at its slot")
	}
}

func TestARoundThatRunsPastItsSuccessorsSlotStartsItWhenItEnds(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	release := make(chan struct{})
	r, due := startedRounds(t, clk, func(ctx context.Context, _ []checker.Target, _ int, _ func(checker.Result)) []checker.Result {
		select {
		case <-release:
		case <-ctx.Done(): // the test ended early: the runner stops
		}
		return nil
	})
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop"},
		Spec: monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: 10 * time.Second}}}

	r.start(hc, nil, time.Time{})
	clk.SetTime(r.running(types.NamespacedName{Namespace: "team-a", Name: "shop"}).next)
	<-due // the slot came while the round ran: startDue finds it running and starts nothing
	close(release)
	select {
	case <-due: // the round ended past the slot, and asks for its successor at once
	case <-time.After(10 * time.Second):
		t.Fatal("the successor of a round that ran past its slot was not started when the round ended")
	}
}
