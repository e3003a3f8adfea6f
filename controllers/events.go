package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// The event budget. Every transition of a target is an event, within a budget
// per target: a burst of TransitionEventBurst, refilled by one every
// TransitionEventRefill. A target that uses its budget up gets one
// TargetFlapping Warning saying so, and its transitions show in status and
// metrics only until a token is back. Events are thus bounded per object at
// MaxTargets times that budget, and client-go's correlator below is sized so
// that it never drops or merges what this budget lets through.
const (
	// TransitionEventBurst is how many transition events a target may have at once.
	TransitionEventBurst = 20
	// TransitionEventRefill is how often a target's budget gains one event.
	TransitionEventRefill = 5 * time.Minute
	// MaxEventNoteLength bounds an event's note, as events.k8s.io does.
	MaxEventNoteLength = 1024
)

// EventCorrelatorOptions tunes client-go's event correlator for this operator's
// events, instead of its defaults, which fold events after 10 per object in 10
// minutes (whatever their notes) and drop Warnings past 25 per object.
//   - Spam filter: one token bucket per object and target (TargetAnnotation), or
//     per object and reason for events about no target, with a burst above the
//     per-target budget plus its TargetFlapping note and twice its refill rate,
//     so the filter never drops what the budget let through.
//   - Aggregation: keyed by the note too, so different targets' events are never
//     merged into one "combined from similar events"; only repeats of one note
//     become a series (count > 1) of one event.
//   - The LRU cache holds the buckets and series of many objects' targets; an
//     evicted key starts afresh, which lets more through, never less.
func EventCorrelatorOptions(clk clock.PassiveClock) record.CorrelatorOptions {
	return record.CorrelatorOptions{
		LRUCacheSize: 16384,
		BurstSize:    TransitionEventBurst + 5,
		QPS:          float32(2 / TransitionEventRefill.Seconds()),
		KeyFunc: func(e *corev1.Event) (string, string) {
			aggregate, local := record.EventAggregatorByReasonFunc(e)
			return aggregate + "\x00" + e.Message, local
		},
		SpamKeyFunc: func(e *corev1.Event) string {
			sub := e.Annotations[monitoringv1alpha1.TargetAnnotation]
			if sub == "" {
				sub = "reason:" + e.Reason
			}
			return strings.Join([]string{e.Source.Component, e.Source.Host, e.InvolvedObject.Kind,
				e.InvolvedObject.Namespace, e.InvolvedObject.Name, string(e.InvolvedObject.UID),
				e.InvolvedObject.APIVersion, sub}, "\x00")
		},
		Clock: clk,
	}
}

// newEventRecorder returns a recorder of core/v1 Events whose broadcaster uses
// EventCorrelatorOptions. The manager's own recorder takes client-go's
// defaults; this broadcaster is stopped when the manager stops.
func newEventRecorder(mgr ctrl.Manager, clk clock.PassiveClock) (record.EventRecorder, error) {
	clientset, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("creating the events client: %w", err)
	}
	broadcaster := record.NewBroadcaster(record.WithCorrelatorOptions(EventCorrelatorOptions(clk)))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: clientset.CoreV1().Events("")})
	if err := mgr.Add(stopOnExit(broadcaster.Shutdown)); err != nil {
		return nil, fmt.Errorf("adding the event broadcaster: %w", err)
	}
	return broadcaster.NewRecorder(mgr.GetScheme(), corev1.EventSource{Component: "healthcheck-operator"}), nil
}

// stopOnExit is a Runnable that calls stop when the manager stops, leader or not.
type stopOnExit func()

func (s stopOnExit) Start(ctx context.Context) error {
	<-ctx.Done()
	s()
	return nil
}

func (s stopOnExit) NeedLeaderElection() bool { return false }

// eventBudget keeps each target's budget of transition events.
type eventBudget struct {
	clock clock.PassiveClock

	mu      sync.Mutex
	targets map[types.NamespacedName]map[string]*targetBudget
}

type targetBudget struct {
	limiter flowcontrol.PassiveRateLimiter
	// silenced counts the transitions not reported since the budget ran out.
	silenced int
}

func newEventBudget(clk clock.PassiveClock) *eventBudget {
	return &eventBudget{clock: clk, targets: map[types.NamespacedName]map[string]*targetBudget{}}
}

// spend takes one transition of target from its budget. It reports whether to
// emit the transition's event, whether the budget just ran out (emit
// TargetFlapping instead), and how many transitions went unreported before
// this one since it last ran out.
func (b *eventBudget) spend(key types.NamespacedName, target string) (emit, ranOut bool, silenced int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	targets := b.targets[key]
	if targets == nil {
		targets = map[string]*targetBudget{}
		b.targets[key] = targets
	}
	t := targets[target]
	if t == nil {
		t = &targetBudget{limiter: flowcontrol.NewTokenBucketPassiveRateLimiterWithClock(
			float32(1/TransitionEventRefill.Seconds()), TransitionEventBurst, b.clock)}
		targets[target] = t
	}
	if t.limiter.TryAccept() {
		silenced, t.silenced = t.silenced, 0
		return true, false, silenced
	}
	t.silenced++
	return false, t.silenced == 1, 0
}

// keep drops the budgets of targets a HealthCheck no longer has. Only targets
// that changed state have a budget, so a steady HealthCheck costs nothing here.
func (b *eventBudget) keep(key types.NamespacedName, targets []resolve.Target) {
	b.mu.Lock()
	defer b.mu.Unlock()
	budgets := b.targets[key]
	if len(budgets) == 0 {
		return
	}
	names := make(map[string]bool, len(targets))
	for _, t := range targets {
		names[t.Name] = true
	}
	for name := range budgets {
		if !names[name] {
			delete(budgets, name)
		}
	}
}

// forget drops a HealthCheck's budgets.
func (b *eventBudget) forget(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.targets, key)
}

// flappingNote is the TargetFlapping event's note.
func flappingNote(target string) string {
	return fmt.Sprintf("%s changed state more than %d times in a short while: its transitions are not reported as events for now (at most one per %s until it settles); status and metrics still show every state",
		target, TransitionEventBurst, TransitionEventRefill)
}

// note bounds an event note.
func note(s string) string { return monitoringv1alpha1.Truncate(s, MaxEventNoteLength) }
