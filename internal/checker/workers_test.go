package checker

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
)

// TestRoundsReuseTheirCheckingGoroutines: a Checker runs its checks on
// goroutines that outlive one check, so a round after the first starts (almost)
// no goroutine of its own, where one per check would start n.
func TestRoundsReuseTheirCheckingGoroutines(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	const n, workers = 200, 10
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/%d", srv.URL, i)}
	}
	c := New(Options{})

	for round := range 3 {
		before := c.pool.started.Load()
		if ok := countOK(c.Run(ctxFor(t), targets, workers, nil)); ok != n {
			t.Fatalf("round %d: %d of %d checks were good", round, ok, n)
		}
		started := c.pool.started.Load() - before
		if round == 0 {
			if started < 1 || started > n {
				t.Fatalf("the first round started %d goroutines, want 1 to %d", started, n)
			}
			continue
		}
		// A worker gives its slot back just before it waits for the next
		// check, so now and then the next check finds none waiting and
		// starts one: a few, never one per check.
		if started > n/4 {
			t.Errorf("round %d started %d goroutines for %d checks, want at most %d", round, started, n, n/4)
		}
	}
}

// TestIdleCheckingGoroutinesEnd: goroutines kept for the next check end once
// they have waited the pool's idle timeout for one, so a Checker that stops
// checking keeps none.
func TestIdleCheckingGoroutinesEnd(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	targets := make([]Target, 50)
	for i := range targets {
		targets[i] = Target{URL: srv.URL}
	}
	c := idleQuickly(New(Options{}))
	baseline := runtime.NumGoroutine()

	c.Run(ctxFor(t), targets, len(targets), nil)

	if c.pool.started.Load() == 0 {
		t.Fatal("no checking goroutine started")
	}
	eventually(t, fmt.Sprintf("goroutines back to baseline %d", baseline), func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}
