package checker

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// deadlineSlack is how long after its deadline a check may take to return.
// Generous for a loaded 2-core CI machine under -race, yet far below what
// any of the hostile servers would cost if the deadline were not enforced.
const deadlineSlack = 2 * time.Second

// TestHostileServers: each check ends by its deadline with the right reason,
// whatever the server does.
func TestHostileServers(t *testing.T) {
	const timeout = 300 * time.Millisecond
	tick := func(r *http.Request) bool {
		timer := time.NewTimer(20 * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
			return true
		case <-r.Context().Done():
			return false
		}
	}

	headersNeverCome := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	// A byte every 20ms rather than every second, so that many reads succeed
	// within the deadline: it bounds the whole body read, not each read.
	bodyTrickled := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if !tick(r) {
				return
			}
		}
	})
	endlessBody := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 16<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	redirectLoop := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	clientGone := make(chan struct{}, 1)
	silent := tcpServer(t, func(conn net.Conn) {
		_, _ = io.Copy(io.Discard, conn) // returns when the client hangs up
		clientGone <- struct{}{}
	})
	headersTrickled := tcpServer(t, func(conn net.Conn) {
		_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nX-Slow: "))
		for {
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
			timer := time.NewTimer(20 * time.Millisecond)
			<-timer.C
		}
	})
	hangUp := tcpServer(t, func(net.Conn) {})
	handshakeGone := make(chan struct{}, 1)
	handshakeNeverEnds := strings.Replace(tcpServer(t, func(conn net.Conn) {
		_, _ = io.Copy(io.Discard, conn) // returns when the client hangs up
		handshakeGone <- struct{}{}
	}), "http:", "https:", 1)

	tests := []struct {
		name    string
		url     string
		reason  Reason
		code    int
		message string
	}{
		{"headers never come", headersNeverCome.URL, ReasonTimeout, 0, "timed out after 300ms"},
		{"header bytes trickled", headersTrickled, ReasonTimeout, 0, "timed out after 300ms"},
		{"body trickled", bodyTrickled.URL, ReasonTimeout, 200, "timed out after 300ms"},
		{"accepts TCP, never answers", silent, ReasonTimeout, 0, "timed out after 300ms"},
		{"TLS handshake never ends", handshakeNeverEnds, ReasonTimeout, 0, "timed out after 300ms"},
		{"endless body", endlessBody.URL, ReasonOK, 200, ""},
		{"redirect loop", redirectLoop.URL, ReasonNetworkError, 0, "network error: stopped after 10 redirects"},
		{"not HTTP", garbageServer(t), ReasonNetworkError, 0, "network error"},
		{"hangs up at once", hangUp, ReasonNetworkError, 0, "network error"},
	}
	c := newChecker(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			r := c.Check(ctxFor(t), Target{URL: tc.url, Timeout: timeout})
			took := time.Since(began)
			if r.Reason != tc.reason || r.StatusCode != tc.code || (tc.message != "" && r.Message != tc.message) {
				t.Errorf("got {%s %d %q}, want {%s %d %q}", r.Reason, r.StatusCode, r.Message, tc.reason, tc.code, tc.message)
			}
			if took > timeout+deadlineSlack {
				t.Errorf("check took %v, deadline was %v", took, timeout)
			}
		})
	}
	// The connections really end with the checks, the dial included (net/http
	// would otherwise finish a dial in the background for up to its own
	// timeout, 10s).
	t.Run("silent servers see the client hang up", func(t *testing.T) {
		t.Parallel()
		deadline := time.After(timeout + deadlineSlack)
		for _, ch := range []chan struct{}{clientGone, handshakeGone} {
			select {
			case <-ch:
			case <-deadline:
				t.Fatal("a connection outlived its check's deadline")
			}
		}
	})
}

// TestGzipBombNeverInflated: a server that sends a gzip body anyway (we never
// ask for one) has it passed through untouched, and reading a few KiB of it
// costs a few KiB.
func TestGzipBombNeverInflated(t *testing.T) {
	// A gzip stream may hold many members, so 1 GiB of zeros is one
	// compressed MiB of zeros repeated 1024 times: cheap to build.
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = zw.Write(make([]byte, 1<<20))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := bytes.NewBuffer(bytes.Repeat(member.Bytes(), 1024))
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(bomb.Bytes())
	})

	// Watch what the real probe transport hands to the checker.
	tr, err := newChecker(t, nil).transports.get(Target{})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		uncompressed bool
		encoding     string
	}
	got := make(chan seen, 1)
	watch := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := tr.RoundTrip(req)
		if err == nil {
			got <- seen{resp.Uncompressed, resp.Header.Get("Content-Encoding")}
		}
		return resp, err
	})
	c := New(Options{Transport: watch})

	before := heapInuse()
	r := c.Check(ctxFor(t), Target{URL: srv.URL})
	grew := int64(heapInuse()) - int64(before)

	if r.Reason != ReasonOK || r.StatusCode != 200 {
		t.Fatalf("got %s %d (%q), want OK 200", r.Reason, r.StatusCode, r.Message)
	}
	if s := recv(t, got, "the response"); s.uncompressed || s.encoding != "gzip" {
		t.Errorf("the transport inflated the body: %+v", s)
	}
	if grew > 4<<20 {
		t.Errorf("heap in use grew by %d bytes for a %d-byte bomb", grew, bomb.Len())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// heapInuse returns the heap in use after a garbage collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestNoUnsolicitedResponseLog: bytes a server sends after its response must
// not end up in the process log. With keep-alives net/http would log them
// ("Unsolicited response received on idle HTTP channel starting with ...")
// through the standard logger, for every such connection.
func TestNoUnsolicitedResponseLog(t *testing.T) {
	logged := captureLog(t)

	const marker = "ATTACKER-CONTROLLED"
	srv := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"+marker)
	c := newChecker(t, nil)
	for i := range 20 {
		if r := c.Check(ctxFor(t), Target{URL: srv}); r.Reason != ReasonOK {
			t.Fatalf("check %d: %s %q", i, r.Reason, r.Message)
		}
	}
	if s := logged.String(); strings.Contains(s, marker) || strings.Contains(s, "Unsolicited") {
		t.Fatalf("server bytes reached the log:\n%s", s)
	}
}

// captureLog sends the standard logger's output, where net/http logs, to a
// buffer until the test ends.
func captureLog(t testing.TB) *syncBuffer {
	t.Helper()
	var b syncBuffer
	orig := log.Writer()
	log.SetOutput(&b)
	t.Cleanup(func() { log.SetOutput(orig) })
	return &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMessagesNeverEchoServerBytes: whatever a server sends (reason phrase,
// headers, body, garbage), the message is built from safe facts only.
func TestMessagesNeverEchoServerBytes(t *testing.T) {
	const marker = "SERVER-BYTES"
	answers := []string{
		"HTTP/1.1 503 " + marker + "\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 " + marker + "\r\nX-" + marker + ": " + marker + "\r\nContent-Length: 12\r\n\r\n" + marker,
		"HTTP/1.1 999 " + marker + "\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 abc " + marker + "\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Bad " + marker + "\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: " + marker + "\r\n\r\n",
		marker + "\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: /" + marker + "\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 302 Found\r\nLocation: http://[" + marker + "\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + marker, // body cut short
	}
	c := newChecker(t, nil)
	for i, a := range answers {
		r := c.Check(ctxFor(t), Target{URL: rawServer(t, a), Timeout: 500 * time.Millisecond})
		t.Logf("answer %d: %s %q", i, r.Reason, r.Message)
		if strings.Contains(r.Message, marker) || r.Message == "" {
			t.Errorf("answer %d: message %q (%s)", i, r.Message, r.Reason)
		}
	}
}

// TestNoLeaksAfter10000Checks: after 10,000 checks against well-behaved and
// hostile local servers, goroutines, open files and heap are back where they
// started. With 50 workers this takes a few seconds.
func TestNoLeaksAfter10000Checks(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 checks")
	}
	const n, workers = 10_000, 50
	fast := newServer(t, func(http.ResponseWriter, *http.Request) {})
	hang := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	silent := tcpServer(t, func(conn net.Conn) { _, _ = io.Copy(io.Discard, conn) })
	trickle := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	tlsSrv := newTLSServer(t, func(http.ResponseWriter, *http.Request) {})
	odd := []Target{
		{URL: hang.URL, Timeout: 20 * time.Millisecond},
		{URL: trickle.URL, Timeout: 20 * time.Millisecond},
		{URL: garbageServer(t)},
		{URL: "http://" + refusedAddr(t) + "/"},
		{URL: "http://127.0.0.2:1/blocked"},
		{URL: tlsSrv.URL},
		{URL: tlsSrv.URL, InsecureSkipVerify: true},
		{URL: strings.Replace(silent, "http:", "https:", 1), Timeout: 20 * time.Millisecond},
	}
	targets := make([]Target, n)
	for i := range targets {
		if i%50 < len(odd) {
			targets[i] = odd[i%50]
		} else {
			targets[i] = Target{URL: fmt.Sprintf("%s/%d", fast.URL, i)}
		}
	}
	c := denying(t, "127.0.0.2")

	// One warm-up round creates whatever is created once (transports, the
	// runtime's poller, server goroutines) before measuring.
	c.Run(ctxFor(t), odd, len(odd), nil)
	goroutines, files, heap := runtime.NumGoroutine(), openFiles(t), heapInuse()

	// A few seconds normally; the limit leaves room for a machine shared
	// with other test runs.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	began := time.Now()
	down := n - countOK(c.Run(ctx, targets, workers, nil))
	t.Logf("%d checks in %v: %d failed", n, time.Since(began), down)
	if wantDown := n / 50 * (len(odd) - 1); down != wantDown {
		t.Errorf("%d failed, want %d", down, wantDown)
	}

	eventually(t, fmt.Sprintf("goroutines back to %d", goroutines), func() bool { return runtime.NumGoroutine() <= goroutines })
	eventually(t, fmt.Sprintf("open files back to %d", files), func() bool { return openFiles(t) <= files })
	if grew := int64(heapInuse()) - int64(heap); grew > 8<<20 {
		t.Errorf("heap in use grew by %d bytes", grew)
	}
}

// openFiles counts this process's open file descriptors.
func openFiles(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(entries)
}

// TestServerTalkingFirst: a server that sends its answer (and more) as soon
// as it accepts, before reading the request. net/http's HTTP/1 client reads
// from the moment it dials, and bytes that beat its bookkeeping for the
// request are "unsolicited": logged with the bytes quoted, and the request
// fails. The race is inside net/http and cannot be forced from here, but
// many concurrent checks on a busy runtime lose it reliably without the
// writeFirstConn gate.
func TestServerTalkingFirst(t *testing.T) {
	logged := captureLog(t)

	const marker = "SPOKE-FIRST"
	const answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + marker
	plain := tcpServer(t, func(conn net.Conn) {
		_, _ = conn.Write([]byte(answer))
		_, _ = io.Copy(io.Discard, conn)
	})
	cert := issue(t, nil, leafOptions{})
	secure := strings.Replace(tcpServer(t, func(conn net.Conn) {
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
		if tc.Handshake() != nil {
			return
		}
		_, _ = tc.Write([]byte(answer))
		_, _ = io.Copy(io.Discard, tc)
	}), "http:", "https:", 1)

	const n = 400
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{URL: plain}
		if i%2 == 1 {
			targets[i] = Target{URL: secure, InsecureSkipVerify: true}
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for _, r := range newChecker(t, nil).Run(ctx, targets, 50, nil) {
		if r.Reason != ReasonOK {
			t.Errorf("%s: %s %q", r.URL, r.Reason, r.Message)
		}
	}
	if s := logged.String(); strings.Contains(s, marker) || strings.Contains(s, "Unsolicited") {
		t.Fatalf("server bytes reached the log:\n%s", s)
	}
}
