package controllers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
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
	// spec is the spec the round checks, the round's own copy.
	spec *monitoringv1alpha1.HealthCheckSpec
	// requestedAt is the requested-at annotation this round answers, in the
	// bounded form status records (monitoringv1alpha1.RequestedAtToken).
	requestedAt string
	targets     []resolve.Target
	started     time.Time
	// lag is how late the round started after it was due.
	lag time.Duration
	// next is when its successor is due.
	next   time.Time
	cancel context.CancelFunc

	// Set when the round finished, before it is collected. results are
	// aligned with targets.
	results  []resolve.Result
	duration time.Duration
}

// rounds runs the rounds of all HealthChecks. It is a manager Runnable: stopping
// the manager cancels every round and waits for them. At most one round per
// HealthCheck runs at a time.
//
// It also times them. The reconciler starts a round at once when a spec is
// new (or a round was asked for); every later round is started by this runner's
// own workers when its slot comes (due), from the HealthCheck as the cache
// holds it, so that rounds never wait in the reconciler's queue behind status
// writes: a slow API server delays status, not checks. A finished round is
// collected in its own goroutine (collect), which wakes the reconciler only
// when status is due a write.
type rounds struct {
	check resolve.Runner
	clock clock.PassiveClock
	wake  chan event.GenericEvent
	// due holds each HealthCheck until its next round is due (client-go's
	// delaying queue: one timer for all of them, an item queued once).
	due workqueue.TypedDelayingInterface[types.NamespacedName]
	// startDue starts a HealthCheck's round if it is due; set by the reconciler.
	startDue func(ctx context.Context, key types.NamespacedName)
	// collect folds a finished round into the HealthCheck's status, in the
	// round's goroutine; set by the reconciler.
	collect func(key types.NamespacedName, rnd *round)
	// starters is how many HealthChecks' rounds may be started at once.
	starters int

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

func newRounds(run resolve.RunFunc, clk clock.PassiveClock, starters int) *rounds {
	base, cancel := context.WithCancel(context.Background())
	config := workqueue.TypedDelayingQueueConfig[types.NamespacedName]{Name: "rounds"}
	if ticking, ok := clk.(clock.WithTicker); ok {
		config.Clock = ticking
	}
	return &rounds{
		check:     resolve.Runner{Run: run, Clock: clk},
		clock:     clk,
		wake:      make(chan event.GenericEvent, 1024),
		due:       workqueue.NewTypedDelayingQueueWithConfig(config),
		starters:  max(starters, 1),
		base:      base,
		stopAll:   cancel,
		current:   map[types.NamespacedName]*round{},
		latest:    map[types.NamespacedName]lastRound{},
		requested: map[types.NamespacedName]bool{},
	}
}

// Start runs the workers that start due rounds and blocks until ctx ends, then
// cancels all rounds and waits for them.
func (r *rounds) Start(ctx context.Context) error {
	var workers sync.WaitGroup
	for range r.starters {
		workers.Go(func() {
			for r.startNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	r.due.ShutDown()
	workers.Wait()
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.stopAll()
	r.wg.Wait()
	return nil
}

// startNext starts the round of the next HealthCheck that comes due; false once
// the runner stops.
func (r *rounds) startNext(ctx context.Context) bool {
	key, shutdown := r.due.Get()
	if shutdown {
		return false
	}
	defer r.due.Done(key)
	if r.startDue != nil {
		r.startDue(ctx, key)
	}
	return true
}

// NeedLeaderElection is true: only the leader checks.
func (r *rounds) NeedLeaderElection() bool { return true }

// dueAt has a worker call startDue for key at due (at once if it is past). Of
// several times asked for one HealthCheck the earliest wins; startDue tells
// whether the round is really due then.
func (r *rounds) dueAt(key types.NamespacedName, due time.Time) {
	r.due.AddAfter(key, due.Sub(r.clock.Now()))
}

// start begins a round of hc's resolved targets, replacing (and cancelling) any
// round of hc still in flight, and has its successor's slot timed.
func (r *rounds) start(hc *monitoringv1alpha1.HealthCheck, targets []resolve.Target, due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startLocked(hc, targets, due)
}

// startIfLatest starts a round as start does, unless another round of hc was
// started since last (which the caller read from latestStarted): a round the
// reconciler started for a new spec is never replaced by one of the old.
func (r *rounds) startIfLatest(hc *monitoringv1alpha1.HealthCheck, targets []resolve.Target, due time.Time, last lastRound) bool {
	key := types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.latest[key] != last {
		return false
	}
	r.startLocked(hc, targets, due)
	return true
}

func (r *rounds) startLocked(hc *monitoringv1alpha1.HealthCheck, targets []resolve.Target, due time.Time) {
	key := types.NamespacedName{Namespace: hc.Namespace, Name: hc.Name}
	if r.stopped {
		return // the manager is stopping
	}
	if old := r.current[key]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(r.base)
	spec := hc.Spec // shallow: the round keeps the spec, not the object around it
	rnd := &round{
		generation:  hc.Generation,
		spec:        &spec,
		requestedAt: requestedAt(hc),
		targets:     targets,
		started:     r.clock.Now(),
		cancel:      cancel,
	}
	if !due.IsZero() {
		rnd.lag = max(rnd.started.Sub(due), 0)
	}
	r.current[key] = rnd
	r.latest[key] = lastRound{generation: rnd.generation, requestedAt: rnd.requestedAt, at: rnd.started}
	delete(r.requested, key)
	every := resolve.Interval(hc.Spec)
	rnd.next = nextSlot(rnd.started, every, phase(key, every))
	r.dueAt(key, rnd.next)
	workers := int(hc.Spec.Workers)

	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		rnd.results = r.check.Check(ctx, targets, workers, nil)
		rnd.duration = r.clock.Since(rnd.started)
		if r.finish(ctx, key, rnd) && r.collect != nil {
			r.collect(key, rnd)
		} // else replaced or stopped: nobody waits for these results
	}()
}

// finish ends a round, and tells whether its results are to be collected: not
// when it was cancelled.
func (r *rounds) finish(ctx context.Context, key types.NamespacedName, rnd *round) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current[key] == rnd {
		delete(r.current, key)
	}
	if ctx.Err() != nil {
		return false
	}
	if !r.clock.Now().Before(rnd.next) {
		// It ran past its successor's slot, which found it running: the
		// successor starts now, as late as the lag metric will say.
		r.dueAt(key, rnd.next)
	}
	return true
}

// wakeReconciler has the reconciler reconcile hc.
func (r *rounds) wakeReconciler(key types.NamespacedName) {
	wakeObj := &monitoringv1alpha1.HealthCheck{}
	wakeObj.Namespace, wakeObj.Name = key.Namespace, key.Name
	select {
	case r.wake <- event.GenericEvent{Object: wakeObj}:
	case <-r.base.Done():
	}
}

// running returns hc's round in flight, nil when none is.
func (r *rounds) running(key types.NamespacedName) *round {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current[key]
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

// stop cancels hc's round, if any, and forgets hc. A slot still timed for it
// finds nothing to start.
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
