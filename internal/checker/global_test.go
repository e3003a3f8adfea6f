package checker

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMaxInFlightCapsChecksAcrossRuns runs two Runs of 10 workers each on a
// Checker capped at 3: the server never sees more than 3 requests at once, and
// does see 3.
func TestMaxInFlightCapsChecksAcrossRuns(t *testing.T) {
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		inFlight.Add(-1)
	})
	c := New(Options{MaxInFlight: 3})
	targets := make([]Target, 10)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/%d", srv.URL, i), Timeout: waitLimit}
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { c.Run(ctxFor(t), targets, 10, nil) })
	}
	for range 3 {
		recv(t, arrived, "a request")
	}
	select {
	case <-arrived:
		t.Fatal("a fourth request arrived while three were in flight")
	case <-time.After(50 * time.Millisecond): // a fourth would arrive at once; no wait for time to pass
	}
	close(release)
	wg.Wait()
	if got := peak.Load(); got != 3 {
		t.Fatalf("peak in flight %d, want 3", got)
	}
}

// TestABigRunDoesNotStarveASmallOne queues 40 slow checks of one Run ahead of a
// single check of another on a Checker capped at 4: the single check completes
// long before the big Run does.
func TestABigRunDoesNotStarveASmallOne(t *testing.T) {
	var bigDone atomic.Int32
	srv := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			select {
			case <-time.After(20 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
	})
	c := New(Options{MaxInFlight: 4})
	big := make([]Target, 40)
	for i := range big {
		big[i] = Target{URL: srv.URL + "/big", Timeout: waitLimit}
	}
	started := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		c.Run(ctxFor(t), big, 10, func(Result) {
			bigDone.Add(1)
			if bigDone.Load() == 1 {
				close(started)
			}
		})
		close(finished)
	}()
	recv(t, started, "the big run under way")
	small := c.Run(ctxFor(t), []Target{{URL: srv.URL + "/small", Timeout: waitLimit}}, 1, nil)
	doneAtThatPoint := bigDone.Load()
	recv(t, finished, "the big run")
	if !small[0].OK() {
		t.Fatalf("small run: %+v", small[0])
	}
	if doneAtThatPoint > 25 {
		t.Fatalf("the small run finished only after %d of the big run's 40 checks", doneAtThatPoint)
	}
}
