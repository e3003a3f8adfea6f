package checker

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// fakeAssertions stands in for the CEL programs: it holds or fails as told
// and keeps a copy of every Response it was given.
type fakeAssertions struct {
	needsBody bool
	// fail, if set, is returned by every Evaluate.
	fail *FailedAssertion

	mu       sync.Mutex
	seen     []Response
	deadline []bool // whether each Evaluate's context had a deadline
}

func (f *fakeAssertions) NeedsBody() bool { return f.needsBody }

func (f *fakeAssertions) Evaluate(ctx context.Context, r *Response) *FailedAssertion {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := *r
	c.Body = bytes.Clone(r.Body)
	f.seen = append(f.seen, c)
	_, ok := ctx.Deadline()
	f.deadline = append(f.deadline, ok && ctx.Err() == nil)
	return f.fail
}

// only returns the single Response f saw, failing the test otherwise.
func (f *fakeAssertions) only(t *testing.T) Response {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) != 1 {
		t.Fatalf("assertions evaluated %d times, want once", len(f.seen))
	}
	if !f.deadline[0] {
		t.Error("assertions ran without the check's deadline")
	}
	return f.seen[0]
}

func (f *fakeAssertions) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

var upFailed = &FailedAssertion{Index: 1, Expression: `response.json.status == "UP"`, Message: "assertion failed: actuator reports UP"}

// TestAssertionsOnHTTP: assertions judge an answer that passed its status and
// body checks, before the latency; a failure is AssertionFailed with the
// assertion and a message built from the answer.
func TestAssertionsOnHTTP(t *testing.T) {
	const body = `{"status":"DOWN"}`
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Status", "down")
		if r.URL.Path == "/500" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write([]byte(body))
	})
	tests := []struct {
		name    string
		path    string
		step    time.Duration
		fails   bool
		needs   bool
		target  Target
		reason  Reason
		message string
		called  bool
	}{
		{"hold", "/", 3 * time.Millisecond, false, false, Target{}, ReasonOK, "returned 200 in 3ms", true},
		{"hold, slow", "/", 2500 * time.Millisecond, false, false, Target{}, ReasonSlowResponse, "returned 200 in 2.5s, slower than 2s", true},
		{"fail", "/", 3 * time.Millisecond, true, false, Target{}, ReasonAssertionFailed, "returned 200 in 3ms, but assertion failed: actuator reports UP", true},
		{"fail, slow", "/", 2500 * time.Millisecond, true, false, Target{}, ReasonAssertionFailed, "returned 200 in 2.5s, but assertion failed: actuator reports UP", true},
		{"fail, body needed", "/", 3 * time.Millisecond, true, true, Target{}, ReasonAssertionFailed, "returned 200 in 3ms, but assertion failed: actuator reports UP", true},
		{"unexpected status first", "/500", 3 * time.Millisecond, true, true, Target{}, ReasonUnexpectedStatus, "returned 500 in 3ms, expected 200-299", false},
		{"body mismatch first", "/", 3 * time.Millisecond, true, true, Target{BodyContains: "UP"}, ReasonBodyMismatch, "returned 200 in 3ms, but the body did not match", false},
		{"body check and body", "/", 3 * time.Millisecond, true, true, Target{BodyContains: "DOWN"}, ReasonAssertionFailed, "returned 200 in 3ms, but assertion failed: actuator reports UP", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeAssertions{needsBody: tc.needs}
			if tc.fails {
				fake.fail = upFailed
			}
			tg := tc.target
			tg.URL, tg.Assertions = srv.URL+tc.path, fake
			r := newChecker(t, newFakeClock(tc.step)).Check(ctxFor(t), tg)
			if r.Reason != tc.reason || r.Message != tc.message {
				t.Fatalf("got %s %q, want %s %q", r.Reason, r.Message, tc.reason, tc.message)
			}
			if (r.Assertion != nil) != (tc.reason == ReasonAssertionFailed) || (r.Assertion != nil && *r.Assertion != *upFailed) {
				t.Errorf("Result.Assertion = %+v", r.Assertion)
			}
			if r.Reason == ReasonAssertionFailed && (r.OK() || r.Slow || r.StatusCode != 200 || r.Seen != "") {
				t.Errorf("result shape: %+v", r)
			}
			if !tc.called {
				if n := fake.calls(); n != 0 {
					t.Fatalf("assertions evaluated %d times", n)
				}
				return
			}
			got := fake.only(t)
			if got.Code != 200 || got.Headers.Get("X-Status") != "down" || got.Latency != tc.step || got.TLS != nil || got.GRPC != nil {
				t.Errorf("response: %+v", got)
			}
			if wantBody := map[bool]string{true: body}[tc.needs]; string(got.Body) != wantBody || (got.Body == nil) != !tc.needs {
				t.Errorf("body %q, want %q", got.Body, wantBody)
			}
		})
	}
}

// TestAssertionsReadOnlyWhatTheyNeed: without NeedsBody a few KiB of the body
// are read, as without assertions; with it, MaxAssertedBodyBytes.
func TestAssertionsReadOnlyWhatTheyNeed(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 2*MaxAssertedBodyBytes)
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(big) })
	tr, err := newChecker(t, nil).transports.get(Target{})
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	counting := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body = countingBody{resp.Body, &read}
		}
		return resp, err
	})
	c := New(Options{Transport: counting})
	for _, needs := range []bool{false, true} {
		read.Store(0)
		fake := &fakeAssertions{needsBody: needs}
		if r := c.Check(ctxFor(t), Target{URL: srv.URL, Assertions: fake}); r.Reason != ReasonOK {
			t.Fatalf("NeedsBody %v: %s %q", needs, r.Reason, r.Message)
		}
		got := fake.only(t)
		switch {
		case !needs && (got.Body != nil || read.Load() > DefaultMaxBodyBytes):
			t.Errorf("NeedsBody false: read %d bytes, Body %d bytes", read.Load(), len(got.Body))
		case needs && (len(got.Body) != MaxAssertedBodyBytes || read.Load() != MaxAssertedBodyBytes):
			t.Errorf("NeedsBody true: read %d bytes, Body %d bytes; want %d", read.Load(), len(got.Body), MaxAssertedBodyBytes)
		}
	}
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestAssertionsSeeTLS: an https answer carries the handshake's version and
// the leaf's expiry, over HTTP/1 and HTTP/2; one that ends on http does not.
func TestAssertionsSeeTLS(t *testing.T) {
	ca := newTestCA(t)
	soon := time.Now().Add(36 * time.Hour).Truncate(time.Second)
	cert := issue(t, ca, leafOptions{notAfter: soon})
	plain := newServer(t, func(http.ResponseWriter, *http.Request) {})
	tests := []struct {
		name       string
		maxVersion uint16
		h2         bool
		redirect   bool
		version    string
	}{
		{"TLS 1.3", 0, false, false, "TLS1.3"},
		{"TLS 1.2", tls.VersionTLS12, false, false, "TLS1.2"},
		{"HTTP/2", 0, true, false, "TLS1.3"},
		{"redirected to http", 0, false, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.redirect {
					http.Redirect(w, r, plain.URL, http.StatusFound)
				}
			}))
			srv.Config.ErrorLog = quietLog
			srv.EnableHTTP2 = tc.h2
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tc.maxVersion}
			srv.StartTLS()
			t.Cleanup(srv.Close)

			fake := &fakeAssertions{}
			if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL, CABundle: ca.pem, Assertions: fake}); r.Reason != ReasonOK {
				t.Fatalf("%s %q", r.Reason, r.Message)
			}
			got := fake.only(t)
			if tc.version == "" {
				if got.TLS != nil {
					t.Errorf("TLS %+v for an answer over http", got.TLS)
				}
				return
			}
			if got.TLS == nil || got.TLS.Version != tc.version || !got.TLS.NotAfter.Equal(soon) {
				t.Errorf("TLS %+v, want %s and %v", got.TLS, tc.version, soon)
			}
		})
	}
}

// TestAssertionsOnOtherProtocols: tcp, tls and gRPC answers are judged too,
// with Code 0, TLS where there is TLS and the gRPC status for gRPC; a gRPC
// service that is not serving is not asserted on.
func TestAssertionsOnOtherProtocols(t *testing.T) {
	ca := newTestCA(t)
	soon := time.Now().Add(36 * time.Hour).Truncate(time.Second)
	cert := issue(t, ca, leafOptions{notAfter: soon})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	tlsAddr, _ := tlsListener(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	grpcAddr, hs := healthServer(t, nil)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	grpcsAddr, _ := healthServer(t, &tls.Config{Certificates: []tls.Certificate{cert}})

	tests := []struct {
		url     string
		message string
		tls     bool
		grpc    string
		reason  Reason
	}{
		{"tcp://" + ln.Addr().String(), "connected in 3ms, but assertion failed: actuator reports UP", false, "", ReasonAssertionFailed},
		{"tls://" + tlsAddr, "TLS handshake in 3ms, but assertion failed: actuator reports UP", true, "", ReasonAssertionFailed},
		{"grpc://" + grpcAddr, "SERVING in 3ms, but assertion failed: actuator reports UP", false, "SERVING", ReasonAssertionFailed},
		{"grpcs://" + grpcsAddr, "SERVING in 3ms, but assertion failed: actuator reports UP", true, "SERVING", ReasonAssertionFailed},
		{"grpc://" + grpcAddr + "/down", "answered NOT_SERVING in 3ms", false, "", ReasonNotServing},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			fake := &fakeAssertions{fail: upFailed}
			r := newChecker(t, newFakeClock(3*time.Millisecond)).Check(ctxFor(t), Target{URL: tc.url, CABundle: ca.pem, Assertions: fake})
			if r.Reason != tc.reason || r.Message != tc.message {
				t.Fatalf("got %s %q, want %s %q", r.Reason, r.Message, tc.reason, tc.message)
			}
			if tc.reason != ReasonAssertionFailed {
				if fake.calls() != 0 || r.Assertion != nil {
					t.Fatal("assertions ran on an answer that had failed already")
				}
				return
			}
			if r.Assertion == nil || r.Seen == "" || r.StatusCode != 0 {
				t.Errorf("result shape: %+v", r)
			}
			got := fake.only(t)
			if got.Code != 0 || got.Headers != nil || got.Body != nil || got.Latency != 3*time.Millisecond {
				t.Errorf("response: %+v", got)
			}
			if (got.TLS != nil) != tc.tls || (got.TLS != nil && (got.TLS.Version != "TLS1.3" || !got.TLS.NotAfter.Equal(soon))) {
				t.Errorf("TLS %+v", got.TLS)
			}
			if (got.GRPC == nil && tc.grpc != "") || (got.GRPC != nil && got.GRPC.Status != tc.grpc) {
				t.Errorf("GRPC %+v, want status %q", got.GRPC, tc.grpc)
			}
		})
	}
}

// TestAssertionMessageIsBounded: a long assertion message is cut to fit.
func TestAssertionMessageIsBounded(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	long := &FailedAssertion{Message: "assertion failed: " + strings.Repeat("é", 2*MaxMessageLength)}
	r := newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL, Assertions: &fakeAssertions{fail: long}})
	if r.Reason != ReasonAssertionFailed || utf8.RuneCountInString(r.Message) != MaxMessageLength || !strings.HasPrefix(r.Message, "returned 200 in ") {
		t.Fatalf("got %s %q (%d runes)", r.Reason, r.Message, utf8.RuneCountInString(r.Message))
	}
}
