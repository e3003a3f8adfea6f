package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/event"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// requestedAt is hc's requested-at annotation in the bounded form that status
// records, so a long value compares equal to its record.
func requestedAt(hc *monitoringv1alpha1.HealthCheck) string {
	return monitoringv1alpha1.RequestedAtToken(hc.Annotations[monitoringv1alpha1.RequestedAtAnnotation])
}

// round is one pass over a HealthCheck's targets, run in its own goroutine so a
// long round never holds a reconcile worker.
type round struct {
	generation int64
	// requestedAt is the requested-at annotation this round answers, in the
	// bounded form status records (monitoringv1alpha1.RequestedAtToken).
	requestedAt string
	targets     []resolve.Target
	started     time.Time
	// lag is how late the round started after it was due.
	lag    time.Duration
	cancel context.CancelFunc

	// Set when the round finished; read only after done is closed. results are
	// aligned with targets.
	results  []resolve.Result
	duration time.Duration
	done     chan struct{}
}

// rounds runs the rounds of all HealthChecks and wakes the reconciler when one
// finishes. It is a manager Runnable: stopping the manager cancels every round and
// waits for them. At most one round per HealthCheck exists at a time.
type rounds struct {
	check resolve.Runner
	clock clock.PassiveClock
	wake  chan event.GenericEvent

	mu      sync.Mutex
	base    context.Context
	stopAll context.CancelFunc
	// stopped is set once Start is stopping: no round starts after it, so that
	// no wg.Add races Start's wg.Wait.
	stopped bool
	current map[types.NamespacedName]*round
	// latest remembers the latest round of each HealthCheck started in this
	// process, since status, which also records it, is not written after every
	// round, and a write may even be refused.
	latest map[types.NamespacedName]lastRound
	// requested marks HealthChecks whose next round is due at once, such as after
	// a Secret they use changed.
	requested map[types.NamespacedName]bool
	wg        sync.WaitGroup
}

// lastRound is what the schedule needs to know of the latest round started.
type lastRound struct {
	generation  int64
	requestedAt string
	at          time.Time
}

func newRounds(run resolve.RunFunc, clk clock.PassiveClock) *rounds {
	base, cancel := context.WithCancel(context.Background())
	return &rounds{
		check:     resolve.Runner{Run: run, Clock: clk},
		clock:     clk,
		wake:      make(chan event.GenericEvent, 1024),
		base:      base,
		stopAll:   cancel,
		current:   map[types.NamespacedName]*round{},
		latest:    map[types.NamespacedName]lastRound{},
		requested: map[types.NamespacedName]bool{},
	}
}

// Start blocks until ctx ends, then cancels all rounds and waits for them.
func (r *rounds) Start(ctx context.Context) error {
	<-ctx.Done()
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.stopAll()
	r.wg.Wait()
	return nil
}

// NeedLeaderElection is true: only the leader checks.
func (r *rounds) NeedLeaderElection() bool { return true }

// start begins a round of hc's resolved targets, replacing (and cancelling) any
// round of hc still in flight.
func (r *rounds) start(hc *monitoringv1alpha1.HealthCheck, targets []resolve.Target, due time.Time) {
	key := types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return // the manager is stopping
	}
	if old := r.current[key]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(r.base)
	rnd := &round{
		generation:  hc.Generation,
		requestedAt: requestedAt(hc),
		targets:     targets,
		started:     r.clock.Now(),
		cancel:      cancel,
		done:        make(chan struct{}),
	}
	if !due.IsZero() {
		rnd.lag = max(rnd.started.Sub(due), 0)
	}
	r.current[key] = rnd
	r.latest[key] = lastRound{generation: rnd.generation, requestedAt: rnd.requestedAt, at: rnd.started}
	delete(r.requested, key)
	wakeObj := &monitoringv1alpha1.HealthCheck{}
	wakeObj.Namespace, wakeObj.Name = hc.Namespace, hc.Name
	workers := int(hc.Spec.Workers)

	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		rnd.results = r.check.Check(ctx, targets, workers, nil)
		rnd.duration = r.clock.Since(rnd.started)
		close(rnd.done)
		if ctx.Err() != nil {
			return // replaced or stopped: nobody waits for these results
		}
		select {
		case r.wake <- event.GenericEvent{Object: wakeObj}:
		case <-r.base.Done():
		}
	}()
}

// inFlight returns hc's current round, finished or not.
func (r *rounds) inFlight(key types.NamespacedName) *round {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current[key]
}

// takeFinished removes and returns hc's round if it has finished.
func (r *rounds) takeFinished(key types.NamespacedName) *round {
	r.mu.Lock()
	defer r.mu.Unlock()
	rnd := r.current[key]
	if rnd == nil {
		return nil
	}
	select {
	case <-rnd.done:
		delete(r.current, key)
		return rnd
	default:
		return nil
	}
}

// latestStarted is hc's latest round started in this process.
func (r *rounds) latestStarted(key types.NamespacedName) (lastRound, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.latest[key]
	return s, ok
}

// requestNow makes hc's next round due at once.
func (r *rounds) requestNow(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requested[key] = true
}

// isRequested tells whether hc's next round was asked for ahead of its schedule.
func (r *rounds) isRequested(key types.NamespacedName) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requested[key]
}

// stop cancels hc's round, if any, and forgets hc.
func (r *rounds) stop(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rnd := r.current[key]; rnd != nil {
		rnd.cancel()
	}
	delete(r.current, key)
	delete(r.latest, key)
	delete(r.requested, key)
}
