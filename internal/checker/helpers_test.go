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
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testservers"
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

// newChecker builds a Checker with the built-in transports and the default
// policy. Those keep no idle connections, so tests do not leak into each other.
func newChecker(t testing.TB, clk clock.PassiveClock) *Checker {
	t.Helper()
	return idleQuickly(New(Options{Clock: clk}))
}

// idleQuickly has c's idle checking goroutines end after 50 ms rather than
// defaultIdleWorkerTimeout, so tests that count goroutines see at once what
// checks leave behind. c must not have run a check yet.
func idleQuickly(c *Checker) *Checker {
	c.pool = newWorkerPool(50 * time.Millisecond)
	return c
}

// denying returns a Checker whose policy also denies the given CIDR list,
// e.g. "127.0.0.2", so blocking can be shown on loopback addresses without
// ever dialling a real metadata address.
func denying(t testing.TB, cidrs string) *Checker {
	t.Helper()
	deny, err := netpolicy.ParseCIDRList(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return idleQuickly(New(Options{Policy: netpolicy.New(nil, deny)}))
}

// countingServer starts an HTTP server listening on addr (e.g.
// "127.0.0.2:0") that answers 200 and counts the connections it accepted.
func countingServer(t testing.TB, addr string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ErrorLog = quietLog
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &accepted
}

// refusedAddr returns an address on 127.0.0.1 where nothing listens.
func refusedAddr(t testing.TB) string { return testservers.ClosedPort(t) }

// garbageServer accepts TCP connections on 127.0.0.1 and answers every
// request with bytes that are not HTTP. It returns the http:// URL to use.
func garbageServer(t testing.TB) string {
	t.Helper()
	return rawServer(t, "NOT HTTP\r\n\r\n")
}

// rawServer accepts TCP connections on 127.0.0.1, reads the request head,
// writes answer verbatim and then waits for the client to hang up. It returns
// the http:// URL to use. (Answering before the request is read would race
// net/http's bookkeeping; see newTransport.)
func rawServer(t testing.TB, answer string) string {
	t.Helper()
	return tcpServer(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		if _, err := conn.Write([]byte(answer)); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, br)
	})
}

// tcpServer runs serve for every connection accepted on 127.0.0.1, closing
// the connection afterwards, and returns the http:// URL of the listener.
// Connections get a waitLimit deadline so a broken client cannot hang the
// test; cleanup waits for every serve to return.
func tcpServer(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, ln, serve)
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

// countOK counts the good results (OK or SlowResponse) of a round.
func countOK(results []Result) int {
	n := 0
	for _, r := range results {
		if r.OK() {
			n++
		}
	}
	return n
}
