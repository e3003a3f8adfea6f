package checker

import (
	"context"
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

// heldCap is a Checker capped at one check in flight, whose one slot a Run of
// the server's /holder holds until release is closed: waiting gets each URL
// that waits for the slot, arrived each request that reaches the server.
type heldCap struct {
	c       *Checker
	url     string
	arrived chan struct{}
	release chan struct{}
	waiting chan string
	holder  chan []Result
}

func holdTheCap(t *testing.T) *heldCap {
	t.Helper()
	h := &heldCap{arrived: make(chan struct{}, 1), release: make(chan struct{}), waiting: make(chan string, 64), holder: make(chan []Result, 1)}
	srv := newServer(t, func(_ http.ResponseWriter, r *http.Request) {
		h.arrived <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
	})
	h.url = srv.URL
	h.c = New(Options{MaxInFlight: 1})
	h.c.globalWaitHook = func(url string) { h.waiting <- url }
	go func() { h.holder <- h.c.Run(ctxFor(t), []Target{{URL: h.url + "/holder", Timeout: waitLimit}}, 1, nil) }()
	recv(t, h.arrived, "the first check to hold the slot")
	return h
}

// TestCancelEndsChecksWaitingForTheCap holds the only slot of a Checker capped
// at 1 and starts a second Run, whose check waits for that slot; cancelling the
// second Run ends its check as cancelled while the slot is still held.
func TestCancelEndsChecksWaitingForTheCap(t *testing.T) {
	h := holdTheCap(t)
	c, url, arrived, release, waiting, holder := h.c, h.url, h.arrived, h.release, h.waiting, h.holder

	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	waiter := make(chan []Result, 1)
	go func() { waiter <- c.Run(ctx, []Target{{URL: url + "/waiter", Timeout: waitLimit}}, 1, nil) }()
	if got := recv(t, waiting, "the second check to wait for the slot"); got != url+"/waiter" {
		t.Fatalf("waiting check %s, want the second Run's", got)
	}
	cancel()
	r := recv(t, waiter, "the waiting Run to return after cancel")[0]
	if r.Reason != ReasonTimeout || r.Message != "check cancelled" || r.CheckedAt.IsZero() {
		t.Errorf("waiting check = %+v, want a cancelled Timeout", r)
	}

	close(release)
	if r := recv(t, holder, "the first Run")[0]; !r.OK() {
		t.Errorf("first check = %+v, want OK", r)
	}
	select {
	case <-arrived:
		t.Error("the cancelled check reached the server")
	default:
	}
}

// TestARunWaitsForTheCapOneCheckAtATime: while the cap is full, a Run of 50
// targets and 50 workers has one check waiting for it, in its dispatcher, not
// 50 goroutines each holding a stack; cancelled, the rest never wait.
func TestARunWaitsForTheCapOneCheckAtATime(t *testing.T) {
	h := holdTheCap(t)
	c, url, release, waiting, holder := h.c, h.url, h.release, h.waiting, h.holder

	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	targets := make([]Target, 50)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/waiter-%02d", url, i), Timeout: waitLimit}
	}
	waiter := make(chan []Result, 1)
	go func() { waiter <- c.Run(ctx, targets, len(targets), nil) }()
	if got := recv(t, waiting, "the first check to wait for the slot"); got != targets[0].URL {
		t.Fatalf("waiting check %s, want the first of the Run", got)
	}
	cancel()
	results := recv(t, waiter, "the waiting Run to return after cancel")
	if extra := len(waiting); extra != 0 {
		t.Errorf("%d more checks of the Run waited for the cap at once, want none: one waits at a time", extra)
	}
	for _, r := range results {
		if r.Reason != ReasonTimeout || r.Message != "check cancelled" {
			t.Fatalf("check of a cancelled Run = %+v, want a cancelled Timeout", r)
		}
	}
	close(release)
	recv(t, holder, "the first Run")
}
