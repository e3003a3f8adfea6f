package checker

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait in the tests so a bug fails the test instead of
// hanging it. It is never slept for; it only caps a select.
const waitLimit = 10 * time.Second

// fakeClock returns the current time and then advances it by step on every
// Now call, so Latency == step exactly for one check (Now at start, Now via
// Since at the response).
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func newFakeClock(step time.Duration) *fakeClock {
	return &fakeClock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), step: step}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

func (c *fakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// quietLog swallows the test servers' own error logging (TLS handshake errors
// are expected in the TLS tests and would only add noise).
var quietLog = log.New(io.Discard, "", 0)

// newServer starts an HTTP test server on 127.0.0.1 that is closed at cleanup.
// Cleanups run LIFO, so anything registered after this (e.g. releasing
// blocked handlers) runs before Close, which waits for handlers to return.
func newServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = quietLog
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// newTLSServer is newServer with TLS and httptest's self-signed certificate.
func newTLSServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = quietLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// newChecker builds a Checker with its own transport whose idle connections
// are dropped at cleanup, so tests do not leak into each other.
func newChecker(t testing.TB, clock Clock) *Checker {
	t.Helper()
	tr := NewTransport()
	t.Cleanup(tr.CloseIdleConnections)
	return New(Options{Clock: clock, Transport: tr})
}

// refusedAddr returns an address on 127.0.0.1 where nothing listens: it
// listens on port 0 to get a free port and closes the listener again.
func refusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// garbageServer accepts TCP connections on 127.0.0.1, reads the request head,
// answers with bytes that are not HTTP and closes the connection. It returns
// the http:// URL to use. (Answering before the request is read would make
// net/http log an "unsolicited response" line.)
func garbageServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(waitLimit))
				br := bufio.NewReader(conn)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = conn.Write([]byte("NOT HTTP\r\n\r\n"))
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/"
}

// ctxFor returns a context for one check or run that gives up after
// waitLimit, so a broken implementation fails the test instead of hanging it.
func ctxFor(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for one value from ch or fails the test after waitLimit.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// eventually polls cond until it holds or waitLimit passes. Polling with a
// deadline (not a fixed sleep) keeps fast machines fast and slow ones green.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition never held: %s", what)
		}
		runtime.Gosched()
		<-time.After(time.Millisecond)
	}
}
