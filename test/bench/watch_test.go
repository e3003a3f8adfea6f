package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// watcher follows every HealthCheck of a namespace: it counts the updates the
// API server reports (the operator writes nothing but status, so each one is a
// status write) and every Down or Slow target state it ever sees.
type watcher struct {
	mu      sync.Mutex
	updates int64
	// perSecond counts updates by the Unix second they were seen in.
	perSecond map[int64]int
	// up is each HealthCheck's count of Up targets, when its status is of its
	// current generation.
	up map[string]int
	// down and slow are the "healthcheck/target" pairs ever seen in that state.
	down, slow map[string]bool
}

func startWatch(b *testing.B, k8s client.WithWatch, ns string) *watcher {
	b.Helper()
	w := &watcher{up: map[string]int{}, down: map[string]bool{}, slow: map[string]bool{}, perSecond: map[int64]int{}}
	list := &monitoringv1alpha1.HealthCheckList{}
	must(b, k8s.List(b.Context(), list, client.InNamespace(ns)))
	ready := make(chan struct{})
	go w.run(b.Context(), k8s, ns, list.ResourceVersion, ready)
	<-ready
	return w
}

// run watches from resourceVersion on, and watches again from where it got
// when the API server ends a watch.
func (w *watcher) run(ctx context.Context, k8s client.WithWatch, ns, resourceVersion string, ready chan<- struct{}) {
	for ctx.Err() == nil {
		wi, err := k8s.Watch(ctx, &monitoringv1alpha1.HealthCheckList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion, AllowWatchBookmarks: true}})
		if ready != nil {
			close(ready)
			ready = nil
		}
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ev := range wi.ResultChan() {
			hc, ok := ev.Object.(*monitoringv1alpha1.HealthCheck)
			if !ok {
				continue
			}
			resourceVersion = hc.ResourceVersion
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				w.observe(hc, ev.Type == watch.Modified)
			}
		}
		wi.Stop()
	}
}

func (w *watcher) observe(hc *monitoringv1alpha1.HealthCheck, update bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if update {
		w.updates++
		w.perSecond[time.Now().Unix()]++
	}
	up := 0
	for _, t := range hc.Status.Targets {
		key := hc.Name + "/" + t.Name
		switch t.State {
		case monitoringv1alpha1.StateUp:
			up++
		case monitoringv1alpha1.StateDown:
			w.down[key] = true
		case monitoringv1alpha1.StateSlow:
			w.slow[key] = true
		}
	}
	if hc.Status.ObservedGeneration == hc.Generation {
		w.up[hc.Name] = up
	}
}

// waitAllUp waits until n HealthChecks have all targets targets Up.
// allUp is how many HealthChecks' status shows all their targets Up.
func (w *watcher) allUp(targets int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, up := range w.up {
		if up == targets {
			n++
		}
	}
	return n
}

func (w *watcher) waitAllUp(ctx context.Context, n, targets int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		allUp := w.allUp(targets)
		if allUp == n {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after %s, %d of %d HealthChecks have all %d targets Up", timeout, allUp, n, targets)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (w *watcher) updateCount() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.updates
}

// peakUpdates is the most updates seen in one second from from to to.
func (w *watcher) peakUpdates(from, to time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	peak := 0
	for sec, n := range w.perSecond {
		if sec >= from.Unix() && sec < to.Unix() {
			peak = max(peak, n)
		}
	}
	return peak
}

// falseStates returns how many targets were ever seen Down, and Slow. Every
// target is a healthy local server, so each of them is a false alarm.
func (w *watcher) falseStates() (down, slow int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.down), len(w.slow)
}
