package checker

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// TestRunOrderAndAsCompleted: target 0 is held until target 1 has been
// reported, so onResult must see 1 then 0 while Run returns input order.
func TestRunOrderAndAsCompleted(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	c := newChecker(t, nil)
	targets := []Target{{URL: srv.URL + "/held"}, {URL: srv.URL + "/fast"}}

	var order []int
	results := c.Run(ctxFor(t), targets, 2, func(r Result) {
		order = append(order, r.Index)
		if r.Index == 1 {
			close(release)
		}
	})

	if want := []int{1, 0}; !slices.Equal(order, want) {
		t.Fatalf("onResult order = %v, want %v", order, want)
	}
	if len(results) != len(targets) {
		t.Fatalf("got %d results, want %d", len(results), len(targets))
	}
	for i, r := range results {
		if r.Index != i || r.URL != targets[i].URL || r.Reason != ReasonOK {
			t.Errorf("results[%d] = {Index:%d URL:%s Reason:%s}, want index %d, URL %s, OK", i, r.Index, r.URL, r.Reason, i, targets[i].URL)
		}
	}
}

// TestRunCallbackOncePerTargetSerialised: every target is reported exactly
// once and callbacks never overlap, even with many workers finishing together.
func TestRunCallbackOncePerTargetSerialised(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("code") == "500" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	c := newChecker(t, nil)
	const n = 40
	targets := make([]Target, n)
	for i := range targets {
		code := "200"
		if i%3 == 0 {
			code = "500" // failures must not cancel the others
		}
		targets[i] = Target{URL: fmt.Sprintf("%s/%d?code=%s", srv.URL, i, code)}
	}

	seen := make(map[int]int)
	var inside atomic.Int32
	results := c.Run(ctxFor(t), targets, 8, func(r Result) {
		if inside.Add(1) != 1 {
			t.Error("onResult called concurrently")
		}
		seen[r.Index]++
		inside.Add(-1)
	})

	if len(seen) != n {
		t.Fatalf("onResult saw %d distinct targets, want %d", len(seen), n)
	}
	for i, r := range results {
		if seen[i] != 1 {
			t.Errorf("target %d reported %d times", i, seen[i])
		}
		want := ReasonOK
		if i%3 == 0 {
			want = ReasonUnexpectedStatus
		}
		if r.Reason != want {
			t.Errorf("results[%d].Reason = %s, want %s", i, r.Reason, want)
		}
	}
}

func TestRunEmptyAndWorkerDefaults(t *testing.T) {
	c := newChecker(t, nil)
	if got := c.Run(ctxFor(t), nil, 0, func(Result) { t.Error("onResult called for no targets") }); len(got) != 0 {
		t.Fatalf("Run(nil) = %v, want empty", got)
	}
	// workers < 1 means 1; a huge value must not allocate a huge semaphore.
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	for _, w := range []int{-5, 0, 1 << 40} {
		res := c.Run(ctxFor(t), []Target{{URL: srv.URL}, {URL: srv.URL}}, w, nil)
		for _, r := range res {
			if r.Reason != ReasonOK {
				t.Errorf("workers=%d: reason %s, want OK", w, r.Reason)
			}
		}
	}
}

// TestRunWorkerBound holds every request in the handler and releases them one
// at a time. Run's slot-wait hook tells us when the dispatcher is blocked on a
// full semaphore and for which target, so "exactly 3 in flight, the 4th not
// started" is proven by synchronisation, not by waiting and hoping.
func TestRunWorkerBound(t *testing.T) {
	const n, workers = 20, 3
	var inFlight, maxInFlight atomic.Int32
	arrived := make(chan string, n)
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		arrived <- r.URL.Path
		select {
		case <-release:
		case <-r.Context().Done():
		}
		inFlight.Add(-1)
	})
	c := newChecker(t, nil)
	blockedAt := make(chan int, n)
	c.slotWaitHook = func(i int) { blockedAt <- i }
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/%d", srv.URL, i)}
	}

	done := make(chan []Result, 1)
	ctx := ctxFor(t)
	go func() { done <- c.Run(ctx, targets, workers, nil) }()

	// Step k: targets 0..k-1 have been started and k-workers released; the
	// dispatcher must now be blocked on target k with exactly 3 in flight.
	for i := range workers {
		recv(t, arrived, fmt.Sprintf("request %d to arrive", i))
	}
	for k := workers; k < n; k++ {
		if got := recv(t, blockedAt, fmt.Sprintf("dispatcher to block on target %d", k)); got != k {
			t.Fatalf("dispatcher blocked on target %d, want %d: bound is not %d", got, k, workers)
		}
		if got := inFlight.Load(); got != workers {
			t.Fatalf("with dispatcher blocked on target %d: %d in flight, want %d", k, got, workers)
		}
		release <- struct{}{}
		if p := recv(t, arrived, fmt.Sprintf("target %d to arrive", k)); p != fmt.Sprintf("/%d", k) {
			t.Fatalf("arrival %s, want /%d", p, k)
		}
	}
	for range workers {
		release <- struct{}{}
	}

	results := recv(t, done, "Run to return")
	if got := maxInFlight.Load(); got != workers {
		t.Errorf("max in flight = %d, want exactly %d", got, workers)
	}
	for i, r := range results {
		if r.Reason != ReasonOK {
			t.Errorf("results[%d].Reason = %s, want OK", i, r.Reason)
		}
	}
}

// TestCheckTimeoutCancelsRequest: the handler only returns once the server has
// seen the client go away, proving the connection was really closed, and the
// goroutines involved are gone afterwards.
func TestCheckTimeoutCancelsRequest(t *testing.T) {
	sawCancel := make(chan struct{})
	var once sync.Once
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		once.Do(func() { close(sawCancel) })
	})
	c := newChecker(t, newFakeClock(50*time.Millisecond))
	baseline := runtime.NumGoroutine()

	res := c.Check(ctxFor(t), Target{URL: srv.URL, Timeout: 50 * time.Millisecond})

	if res.Reason != ReasonTimeout || res.Message != "timed out after 50ms" || res.StatusCode != 0 {
		t.Fatalf("got %s %q (code %d), want Timeout %q", res.Reason, res.Message, res.StatusCode, "timed out after 50ms")
	}
	recv(t, sawCancel, "server to observe the cancelled request")
	eventually(t, fmt.Sprintf("goroutines back to baseline %d", baseline), func() bool {
		return runtime.NumGoroutine() <= baseline
	})
}

// TestCheckReasons covers every Reason and its exact message.
func TestCheckReasons(t *testing.T) {
	okSrv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/404":
			w.WriteHeader(http.StatusNotFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			_, _ = w.Write([]byte("fine"))
		}
	})
	hang := make(chan struct{})
	hangSrv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(hang) })
	tlsSrv := newTLSServer(t, func(http.ResponseWriter, *http.Request) {})
	garbage := garbageServer(t)
	refused := "http://" + refusedAddr(t) + "/"

	const step = 120 * time.Millisecond
	plain := newChecker(t, newFakeClock(step))
	slow := newChecker(t, newFakeClock(2500*time.Millisecond))
	trusting := New(Options{Clock: newFakeClock(step), Transport: tlsSrv.Client().Transport})
	blocking := New(Options{Clock: newFakeClock(step), Policy: netpolicy.New(nil, []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")})})

	codes := func(entries ...string) StatusCodes {
		s, err := ParseStatusCodes(entries)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	tests := []struct {
		name    string
		c       *Checker
		target  Target
		reason  Reason
		code    int
		message string
	}{
		{"ok", plain, Target{URL: okSrv.URL}, ReasonOK, 200, "returned 200 in 120ms"},
		{"ok head", plain, Target{URL: okSrv.URL, Method: http.MethodHead}, ReasonOK, 200, "returned 200 in 120ms"},
		{"ok expected 404", plain, Target{URL: okSrv.URL + "/404", Expected: codes("404")}, ReasonOK, 404, "returned 404 in 120ms"},
		{"ok trusted tls", trusting, Target{URL: tlsSrv.URL}, ReasonOK, 200, "returned 200 in 120ms"},
		{"slow", slow, Target{URL: okSrv.URL}, ReasonSlowResponse, 200, "returned 200 in 2.5s, slower than 2s"},
		{"slow custom threshold", plain, Target{URL: okSrv.URL, SlowThreshold: 100 * time.Millisecond}, ReasonSlowResponse, 200, "returned 200 in 120ms, slower than 100ms"},
		{"not slow at threshold", slow, Target{URL: okSrv.URL, SlowThreshold: 2500 * time.Millisecond}, ReasonOK, 200, "returned 200 in 2.5s"},
		{"503", plain, Target{URL: okSrv.URL + "/503"}, ReasonUnexpectedStatus, 503, "returned 503 in 120ms, expected 200-299"},
		{"404", plain, Target{URL: okSrv.URL + "/404", Expected: codes("200", "301")}, ReasonUnexpectedStatus, 404, "returned 404 in 120ms, expected 200,301"},
		{"unexpected even if slow", slow, Target{URL: okSrv.URL + "/503"}, ReasonUnexpectedStatus, 503, "returned 503 in 2.5s, expected 200-299"},
		{"timeout", plain, Target{URL: hangSrv.URL, Timeout: 50 * time.Millisecond}, ReasonTimeout, 0, "timed out after 50ms"},
		{"refused", plain, Target{URL: refused}, ReasonConnectionRefused, 0, "connection refused"},
		{"dns", plain, Target{URL: "http://nonexistent.invalid/", Timeout: 5 * time.Second}, ReasonDNSError, 0, "DNS lookup failed"},
		{"tls unknown authority", plain, Target{URL: tlsSrv.URL}, ReasonTLSError, 0, "TLS handshake or certificate verification failed"},
		{"https to plain http server", plain, Target{URL: strings.Replace(okSrv.URL, "http:", "https:", 1)}, ReasonTLSError, 0, "TLS handshake or certificate verification failed"},
		{"not http", plain, Target{URL: garbage}, ReasonNetworkError, 0, "network error"},
		{"blocked", blocking, Target{URL: "http://127.0.0.2:1/"}, ReasonBlocked, 0, "blocked by the outbound policy"},
		{"redirect loop", plain, Target{URL: okSrv.URL + "/loop"}, ReasonNetworkError, 0, "network error: stopped after 10 redirects"},
		{"bad method", plain, Target{URL: okSrv.URL, Method: "POST"}, ReasonNetworkError, 0, "invalid request: method must be GET or HEAD"},
		{"bad url", plain, Target{URL: "http://[::1"}, ReasonNetworkError, 0, "invalid request: malformed URL"},
		{"relative url", plain, Target{URL: "/just/a/path"}, ReasonNetworkError, 0, "invalid request: URL scheme must be http, https, tcp, tls, grpc or grpcs"},
		{"ftp url", plain, Target{URL: "ftp://127.0.0.1/"}, ReasonNetworkError, 0, "invalid request: URL scheme must be http, https, tcp, tls, grpc or grpcs"},
		{"no host", plain, Target{URL: "http:///path"}, ReasonNetworkError, 0, "invalid request: URL has no host"},
		{"bad header name", plain, Target{URL: okSrv.URL, Headers: []Header{{"Bad Name", "v"}}}, ReasonNetworkError, 0, "invalid request: invalid header name"},
		{"header injection", plain, Target{URL: okSrv.URL, Headers: []Header{{"X-Ok", "v\r\nX-Evil: 1"}}}, ReasonNetworkError, 0, "invalid request: invalid header value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Check(ctxFor(t), tc.target)
			if r.Reason != tc.reason || r.StatusCode != tc.code || r.Message != tc.message {
				t.Fatalf("got {%s %d %q}, want {%s %d %q}", r.Reason, r.StatusCode, r.Message, tc.reason, tc.code, tc.message)
			}
			if r.URL != tc.target.URL {
				t.Errorf("URL = %q, want %q", r.URL, tc.target.URL)
			}
			if r.Slow != (tc.reason == ReasonSlowResponse) {
				t.Errorf("Slow = %v for reason %s", r.Slow, r.Reason)
			}
			if r.OK() != (tc.reason == ReasonOK || tc.reason == ReasonSlowResponse) {
				t.Errorf("OK() = %v for reason %s", r.OK(), r.Reason)
			}
			if r.CheckedAt.IsZero() {
				t.Error("CheckedAt not set")
			}
		})
	}
}

// TestCheckLatencyAndCheckedAtFromClock pins both to the injected clock.
func TestCheckLatencyAndCheckedAtFromClock(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	clock := newFakeClock(700 * time.Millisecond)
	start := clock.now
	r := New(Options{Clock: clock}).Check(ctxFor(t), Target{URL: srv.URL})
	if !r.CheckedAt.Equal(start) || r.Latency != 700*time.Millisecond {
		t.Fatalf("CheckedAt=%v Latency=%v, want %v and 700ms", r.CheckedAt, r.Latency, start)
	}
}

// TestCheckBodyIsBounded: an endless body must not be read to the end; the
// client goes away after a few KiB and the server sees its writes fail.
//
// Both socket buffers are pinned small: on loopback Linux autotunes them to
// megabytes, which would let the server "write" that much into kernel buffers
// before the client even reads, hiding what the client actually consumed.
func TestCheckBodyIsBounded(t *testing.T) {
	const limit = 1 << 20
	const sockBuf = 32 << 10
	written := make(chan int64, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 16<<10)
		var total int64
		for total < 64*limit { // safety stop, far above what the test allows
			n, err := w.Write(chunk)
			total += int64(n)
			if err != nil {
				break
			}
			w.(http.Flusher).Flush()
		}
		written <- total
	}))
	srv.Config.ErrorLog = quietLog
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(sockBuf)
		}
		return ctx
	}
	srv.Start()
	t.Cleanup(srv.Close)

	tr := NewTransport()
	t.Cleanup(tr.CloseIdleConnections)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		raw := net.Conn(c)
		if w, ok := c.(interface{ NetConn() net.Conn }); ok {
			raw = w.NetConn()
		}
		tc, ok := raw.(*net.TCPConn)
		if !ok {
			t.Errorf("dialled a %T, cannot pin its read buffer", raw)
			return c, err
		}
		_ = tc.SetReadBuffer(sockBuf)
		return c, err
	}
	c := New(Options{Transport: tr})

	began := time.Now()
	r := c.Check(ctxFor(t), Target{URL: srv.URL, Timeout: 30 * time.Second})
	took := time.Since(began)

	if r.Reason != ReasonOK || r.StatusCode != 200 {
		t.Fatalf("got %s %d (%q), want OK 200", r.Reason, r.StatusCode, r.Message)
	}
	if took > 5*time.Second {
		t.Errorf("check took %v; the body was not cut off", took)
	}
	if total := recv(t, written, "server to finish writing"); total >= limit {
		t.Errorf("server wrote %d bytes before the client went away, want < %d", total, limit)
	} else {
		t.Logf("server wrote %d bytes before the client went away", total)
	}
}

// TestRunCancelStopsEverything: cancelling Run's context aborts the requests
// in flight and skips the rest; every result is a cancelled Timeout.
func TestRunCancelStopsEverything(t *testing.T) {
	const n, workers = 10, 3
	arrived := make(chan struct{}, n)
	var aborted atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
		aborted.Add(1)
	})
	c := newChecker(t, nil)
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/%d", srv.URL, i), Timeout: time.Minute}
	}

	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	var reported atomic.Int32
	done := make(chan []Result, 1)
	go func() { done <- c.Run(ctx, targets, workers, func(Result) { reported.Add(1) }) }()
	for i := range workers {
		recv(t, arrived, fmt.Sprintf("request %d to arrive", i+1))
	}
	began := time.Now()
	cancel()
	results := recv(t, done, "Run to return after cancel")
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Run took %v to return after cancel", took)
	}

	if got := reported.Load(); got != n {
		t.Errorf("onResult called %d times, want %d", got, n)
	}
	for i, r := range results {
		if r.Index != i || r.Reason != ReasonTimeout || r.Message != "check cancelled" || r.StatusCode != 0 {
			t.Errorf("results[%d] = {%d %s %q %d}, want cancelled Timeout", i, r.Index, r.Reason, r.Message, r.StatusCode)
		}
	}
	eventually(t, "server to see the 3 in-flight requests aborted", func() bool { return aborted.Load() == workers })
	if len(arrived) != 0 {
		t.Errorf("%d requests started after cancel", len(arrived))
	}
}

func TestRunAlreadyCancelled(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(http.ResponseWriter, *http.Request) { hits.Add(1) })
	ctx, cancel := context.WithCancel(ctxFor(t))
	cancel()
	res := newChecker(t, nil).Run(ctx, []Target{{URL: srv.URL}, {URL: srv.URL}}, 2, nil)
	for i, r := range res {
		if r.Index != i || r.Reason != ReasonTimeout || r.Message != "check cancelled" {
			t.Errorf("results[%d] = %+v, want cancelled", i, r)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("server got %d requests after cancel", hits.Load())
	}
}

// TestSecretsNeverLeak: header values and URL tokens must not reach Message
// for any reason, even when the server echoes them back.
func TestSecretsNeverLeak(t *testing.T) {
	const secret, token = "s3cr3t", "abc"
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("X-Api-Key")+r.URL.RawQuery)
		code := http.StatusOK
		if strings.HasPrefix(r.URL.Path, "/fail") {
			code = http.StatusBadGateway
		}
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, "%s %s %s", r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"), r.URL.RawQuery)
	}
	srv := newServer(t, echo)
	tlsSrv := newTLSServer(t, echo)
	hang := make(chan struct{})
	hangSrv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(hang) })

	urls := []string{
		srv.URL + "/ok",
		srv.URL + "/fail",
		tlsSrv.URL + "/tls",
		hangSrv.URL + "/hang",
		"http://" + refusedAddr(t) + "/refused",
		"http://" + secret + ".nonexistent.invalid/dns",
		garbageServer(t),
		"http://user:" + secret + "@[::1/bad",
		"http://127.0.0.2:1/blocked",
	}
	headers := []Header{{"X-Api-Key", secret}, {"Authorization", "Bearer " + secret}}
	targets := make([]Target, 0, len(urls)*2)
	for _, u := range urls {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		targets = append(targets,
			Target{URL: u + sep + "token=" + token, Headers: headers, Timeout: 2 * time.Second},
			Target{URL: u + sep + "token=" + token, Headers: headers, Timeout: 2 * time.Second, SlowThreshold: time.Nanosecond},
		)
	}
	// The echoed body, which holds the secrets, must not match either.
	targets = append(targets, Target{URL: srv.URL + "/ok?token=" + token, Headers: headers, Timeout: 2 * time.Second, BodyContains: "not there"})
	// Nor fail an assertion that reads it, nor a gRPC service that is down.
	failing := &fakeAssertions{needsBody: true, fail: &FailedAssertion{Message: "assertion failed: body names the key"}}
	targets = append(targets, Target{URL: srv.URL + "/ok?token=" + token, Headers: headers, Timeout: 2 * time.Second, Assertions: failing})
	grpcAddr, hs := healthServer(t, nil)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	targets = append(targets, Target{URL: "grpc://" + grpcAddr + "/down?token=" + token, Timeout: 2 * time.Second})
	// Make the hanging one time out quickly.
	for i := range targets {
		if strings.Contains(targets[i].URL, "/hang") {
			targets[i].Timeout = 50 * time.Millisecond
		}
	}

	reasons := map[Reason]bool{}
	for _, r := range denying(t, "127.0.0.2").Run(ctxFor(t), targets, 4, nil) {
		reasons[r.Reason] = true
		for _, bad := range []string{secret, token, "token", "Bearer", "127.0.0.1", "invalid"} {
			if bad == "invalid" && strings.HasPrefix(r.Message, "invalid request") {
				continue
			}
			if strings.Contains(r.Message, bad) {
				t.Errorf("%s message %q contains %q", r.Reason, r.Message, bad)
			}
		}
	}
	for _, want := range AllReasons {
		if !reasons[want] {
			t.Errorf("reason %s not exercised", want)
		}
	}
}

// TestMethodAndHeadersSent checks what actually reaches the server.
func TestMethodAndHeadersSent(t *testing.T) {
	type seen struct{ method, key, host, ua string }
	got := make(chan seen, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.Header.Get("X-Api-Key"), r.Host, r.Header.Get("User-Agent")}
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	c := newChecker(t, nil)

	tests := []struct {
		name    string
		target  Target
		want    seen
		wantErr bool
	}{
		{"default GET", Target{URL: srv.URL}, seen{"GET", "", host, DefaultUserAgent}, false},
		{"HEAD with header", Target{URL: srv.URL, Method: "HEAD", Headers: []Header{{"X-Api-Key", "k1"}}}, seen{"HEAD", "k1", host, DefaultUserAgent}, false},
		{"GET with host and UA", Target{URL: srv.URL, Method: "GET", Headers: []Header{{"host", "example.test"}, {"User-Agent", "custom/1"}}}, seen{"GET", "", "example.test", "custom/1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(ctxFor(t), tc.target)
			if r.Reason != ReasonOK {
				t.Fatalf("reason %s (%q), want OK", r.Reason, r.Message)
			}
			if s := recv(t, got, "request"); s != tc.want {
				t.Errorf("server saw %+v, want %+v", s, tc.want)
			}
		})
	}
}

// TestCheckerIsReusableConcurrently runs Check from many goroutines at once
// (meaningful under -race).
func TestCheckerIsReusableConcurrently(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	c := newChecker(t, nil)
	ctx := ctxFor(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := c.Check(ctx, Target{URL: srv.URL}); r.Reason != ReasonOK {
				t.Errorf("reason %s", r.Reason)
			}
		})
	}
	wg.Wait()
}
