package checker

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testservers"
)

// newGRPCServer serves gRPC on 127.0.0.1, over TLS when cfg is set, with the
// services register adds, until the test ends. It returns host:port.
func newGRPCServer(t testing.TB, cfg *tls.Config, register func(*grpc.Server)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if cfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	srv := grpc.NewServer(opts...)
	register(srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return ln.Addr().String()
}

// healthServer serves the real gRPC health service, whose statuses the test
// sets.
func healthServer(t testing.TB, cfg *tls.Config) (string, *health.Server) {
	t.Helper()
	hs := health.NewServer()
	addr := newGRPCServer(t, cfg, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, hs) })
	return addr, hs
}

// TestGRPCHealth: the health status of the whole server and of services,
// switched between checks, with its messages, and latency judged like http's.
func TestGRPCHealth(t *testing.T) {
	addr, hs := healthServer(t, nil)
	hs.SetServingStatus("up", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("undecided", healthpb.HealthCheckResponse_UNKNOWN)

	tests := []struct {
		name    string
		url     string
		step    time.Duration
		reason  Reason
		seen    string
		message string
	}{
		{"whole server", "grpc://" + addr, 4 * time.Millisecond, ReasonOK, "SERVING", "SERVING in 4ms"},
		{"whole server, slash", "grpc://" + addr + "/", 4 * time.Millisecond, ReasonOK, "SERVING", "SERVING in 4ms"},
		{"service", "grpc://" + addr + "/up", 4 * time.Millisecond, ReasonOK, "SERVING", "SERVING in 4ms"},
		{"scheme in capitals", "GRPC://" + addr + "/up", 4 * time.Millisecond, ReasonOK, "SERVING", "SERVING in 4ms"},
		{"slow", "grpc://" + addr + "/up", 2500 * time.Millisecond, ReasonSlowResponse, "SERVING", "SERVING in 2.5s, slower than 2s"},
		{"not serving", "grpc://" + addr + "/down", 4 * time.Millisecond, ReasonNotServing, "NOT_SERVING", "answered NOT_SERVING in 4ms"},
		{"not serving, slow", "grpc://" + addr + "/down", 2500 * time.Millisecond, ReasonNotServing, "NOT_SERVING", "answered NOT_SERVING in 2.5s"},
		{"unknown status", "grpc://" + addr + "/undecided", 4 * time.Millisecond, ReasonNotServing, "UNKNOWN", "answered UNKNOWN in 4ms"},
		{"unknown service", "grpc://" + addr + "/nosuch", 4 * time.Millisecond, ReasonNotServing, "SERVICE_UNKNOWN", "answered SERVICE_UNKNOWN in 4ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newChecker(t, newFakeClock(tc.step)).Check(ctxFor(t), Target{URL: tc.url})
			if r.Reason != tc.reason || r.Seen != tc.seen || r.Message != tc.message {
				t.Fatalf("got {%s %q %q}, want {%s %q %q}", r.Reason, r.Seen, r.Message, tc.reason, tc.seen, tc.message)
			}
			if r.StatusCode != 0 || r.Latency != tc.step || r.URL != tc.url || r.CertificateExpiresAt != nil || r.Slow != (tc.reason == ReasonSlowResponse) {
				t.Errorf("result shape: %+v", r)
			}
		})
	}

	// The same target follows the server's status.
	c := newChecker(t, nil)
	for _, st := range []healthpb.HealthCheckResponse_ServingStatus{
		healthpb.HealthCheckResponse_NOT_SERVING, healthpb.HealthCheckResponse_SERVING, healthpb.HealthCheckResponse_NOT_SERVING,
	} {
		hs.SetServingStatus("flip", st)
		if r := c.Check(ctxFor(t), Target{URL: "grpc://" + addr + "/flip"}); r.Seen != st.String() {
			t.Errorf("server says %s, check saw %s (%s %q)", st, r.Seen, r.Reason, r.Message)
		}
	}
}

// TestGRPCFailures: what is not a healthy gRPC health service, and why.
func TestGRPCFailures(t *testing.T) {
	noHealth := newGRPCServer(t, nil, func(*grpc.Server) {})
	httpSrv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	h2Srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h2Srv.Config.ErrorLog = quietLog
	h2Srv.EnableHTTP2 = true
	h2Srv.StartTLS()
	t.Cleanup(h2Srv.Close)
	h1TLS := newTLSServer(t, func(http.ResponseWriter, *http.Request) {})
	plainHealth, _ := healthServer(t, nil)
	cert := issue(t, nil, leafOptions{})
	tlsHealth, _ := healthServer(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	hangUp := strings.TrimPrefix(tcpServer(t, func(net.Conn) {}), "http://")
	answersStatus := newGRPCServer(t, nil, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, statusHealth{}) })

	host := func(u string) string {
		return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://"), "/")
	}
	tests := []struct {
		name    string
		target  Target
		reason  Reason
		message string
	}{
		{"no health service", Target{URL: "grpc://" + noHealth}, ReasonUnexpectedStatus, "answered Unimplemented in 5ms: the server has no gRPC health service"},
		{"HTTP/1 server", Target{URL: "grpc://" + host(httpSrv.URL)}, ReasonNetworkError, "network error: not a gRPC server"},
		{"HTTP/1 TLS server", Target{URL: "grpcs://" + host(h1TLS.URL), InsecureSkipVerify: true}, ReasonNetworkError, "network error: not a gRPC server"},
		{"HTTP/2 TLS server", Target{URL: "grpcs://" + host(h2Srv.URL), InsecureSkipVerify: true}, ReasonNetworkError, "network error: not a gRPC server"},
		{"TLS server over grpc", Target{URL: "grpc://" + tlsHealth}, ReasonNetworkError, "network error"},
		{"plain server over grpcs", Target{URL: "grpcs://" + plainHealth, InsecureSkipVerify: true}, ReasonTLSError, "TLS handshake or certificate verification failed"},
		{"untrusted certificate", Target{URL: "grpcs://" + tlsHealth}, ReasonTLSError, "TLS handshake or certificate verification failed"},
		{"refused", Target{URL: "grpc://" + refusedAddr(t)}, ReasonConnectionRefused, "connection refused"},
		{"unknown host", Target{URL: "grpc://nonexistent.invalid:50051"}, ReasonDNSError, "DNS lookup failed"},
		{"hangs up at once", Target{URL: "grpc://" + hangUp}, ReasonNetworkError, "network error"},
		{"answers Unavailable", Target{URL: "grpc://" + answersStatus + "/unavailable"}, ReasonUnexpectedStatus, "answered Unavailable in 5ms"},
		{"answers PermissionDenied", Target{URL: "grpc://" + answersStatus + "/denied"}, ReasonUnexpectedStatus, "answered PermissionDenied in 5ms"},
		{"answers DeadlineExceeded", Target{URL: "grpc://" + answersStatus + "/deadline"}, ReasonTimeout, "timed out after 5ms"},
		{"answers too much", Target{URL: "grpc://" + answersStatus + "/huge"}, ReasonUnexpectedStatus, "answered ResourceExhausted in 5ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newChecker(t, newFakeClock(5*time.Millisecond)).Check(ctxFor(t), tc.target)
			if r.Reason != tc.reason || (tc.message != "" && r.Message != tc.message) {
				t.Fatalf("got %s %q, want %s %q", r.Reason, r.Message, tc.reason, tc.message)
			}
			if r.Seen != "" || r.StatusCode != 0 || r.OK() {
				t.Errorf("result shape: %+v", r)
			}
			t.Logf("%s %q", r.Reason, r.Message)
		})
	}
}

// statusHealth answers Check for a service with a fixed non-OK gRPC status,
// or, for "huge", with a message larger than a health answer can be.
type statusHealth struct {
	healthpb.UnimplementedHealthServer
}

func (statusHealth) Check(_ context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	switch in.GetService() {
	case "unavailable":
		return nil, status.Error(codes.Unavailable, "SERVER-BYTES no upstream")
	case "denied":
		return nil, status.Error(codes.PermissionDenied, "SERVER-BYTES go away")
	case "deadline":
		return nil, status.Error(codes.DeadlineExceeded, "SERVER-BYTES too slow upstream")
	case "huge":
		// An unknown field makes the answer as large as wanted.
		resp := &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}
		resp.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 15, protowire.BytesType), make([]byte, 32<<10)))
		return resp, nil
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// TestGRPCS: a grpcs check verifies the server like https (CA bundle), reports
// the certificate's expiry, offers ALPN h2 and names itself.
func TestGRPCS(t *testing.T) {
	ca := newTestCA(t)
	soon := time.Now().Add(36 * time.Hour).Truncate(time.Second)
	cert := issue(t, ca, leafOptions{notAfter: soon})
	seen := make(chan string, 4)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	addr := newGRPCServer(t, cfg, func(s *grpc.Server) { healthpb.RegisterHealthServer(s, uaHealth{seen: seen}) })

	r := newChecker(t, newFakeClock(4*time.Millisecond)).Check(ctxFor(t), Target{URL: "grpcs://" + addr + "/svc", CABundle: ca.pem})
	if r.Reason != ReasonOK || r.Message != "SERVING in 4ms" || r.Seen != "SERVING" {
		t.Fatalf("got %s %q (%s)", r.Reason, r.Message, r.Seen)
	}
	if r.CertificateExpiresAt == nil || !r.CertificateExpiresAt.Equal(soon) {
		t.Errorf("CertificateExpiresAt = %v, want %v", r.CertificateExpiresAt, soon)
	}
	if ua := recv(t, seen, "the request"); !strings.HasPrefix(ua, DefaultUserAgent+" ") {
		t.Errorf("user agent %q", ua)
	}
	if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: "grpcs://" + addr + "/svc"}); r.Reason != ReasonTLSError {
		t.Errorf("without the CA bundle: %s %q", r.Reason, r.Message)
	}
}

// uaHealth reports each request's service and user agent, and is SERVING.
type uaHealth struct {
	healthpb.UnimplementedHealthServer
	seen chan<- string
}

func (h uaHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	h.seen <- strings.Join(md.Get("user-agent"), ",")
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// TestGRPCCancelled: a check whose server never answers ends at its deadline,
// or when cancelled, and leaves no connection or goroutine behind; the server
// sees the call end.
func TestGRPCCancelled(t *testing.T) {
	arrived := make(chan struct{}, 64)
	ended := make(chan struct{}, 64)
	addr := newGRPCServer(t, nil, func(s *grpc.Server) {
		healthpb.RegisterHealthServer(s, hangingHealth{arrived: arrived, ended: ended})
	})
	clientGone := make(chan struct{}, 64)
	silent := strings.TrimPrefix(tcpServer(t, func(conn net.Conn) {
		_, _ = io.Copy(io.Discard, conn) // returns when the client hangs up
		clientGone <- struct{}{}
	}), "http://")
	c := newChecker(t, nil)
	// Warm up whatever is created once.
	c.Check(ctxFor(t), Target{URL: "grpc://" + addr, Timeout: 50 * time.Millisecond})
	recv(t, arrived, "the warm-up call")
	recv(t, ended, "the warm-up call to end")
	goroutines := runtime.NumGoroutine()

	const timeout = 300 * time.Millisecond
	for i := range 2 {
		began := time.Now()
		r := c.Check(ctxFor(t), Target{URL: "grpc://" + addr, Timeout: timeout})
		if r.Reason != ReasonTimeout || r.Message != "timed out after 300ms" {
			t.Fatalf("check %d: %s %q", i, r.Reason, r.Message)
		}
		if took := time.Since(began); took > timeout+deadlineSlack {
			t.Fatalf("check %d took %v", i, took)
		}
		recv(t, arrived, "the call")
		recv(t, ended, "the server to see the call end")

		r = c.Check(ctxFor(t), Target{URL: "grpc://" + silent, Timeout: timeout})
		if r.Reason != ReasonTimeout || r.Message != "timed out after 300ms" {
			t.Fatalf("silent server, check %d: %s %q", i, r.Reason, r.Message)
		}
		recv(t, clientGone, "the client to hang up on the silent server")
	}

	ctx, cancel := context.WithCancel(ctxFor(t))
	done := make(chan Result, 1)
	go func() { done <- c.Check(ctx, Target{URL: "grpc://" + addr, Timeout: waitLimit}) }()
	recv(t, arrived, "the call")
	cancel()
	if r := recv(t, done, "the cancelled check"); r.Reason != ReasonTimeout || r.Message != "check cancelled" {
		t.Errorf("cancelled: %s %q", r.Reason, r.Message)
	}
	recv(t, ended, "the server to see the cancelled call end")

	eventually(t, fmt.Sprintf("goroutines back to %d", goroutines), func() bool { return runtime.NumGoroutine() <= goroutines })
}

// hangingHealth never answers: Check returns only when the call ends.
type hangingHealth struct {
	healthpb.UnimplementedHealthServer
	arrived, ended chan<- struct{}
}

func (h hangingHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.arrived <- struct{}{}
	<-ctx.Done()
	h.ended <- struct{}{}
	return nil, ctx.Err()
}

// TestNoLeaksOtherProtocols: after many tcp, tls and gRPC checks, good and
// bad, goroutines and open files are back where they started.
func TestNoLeaksOtherProtocols(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 checks")
	}
	ca := newTestCA(t)
	cert := issue(t, ca, leafOptions{})
	tcpAddr := testservers.Listen(t, nil)
	tlsAddr, _ := tlsListener(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	grpcAddr, hs := healthServer(t, nil)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	grpcsAddr, _ := healthServer(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	hanging := newGRPCServer(t, nil, func(s *grpc.Server) {
		healthpb.RegisterHealthServer(s, hangingHealth{arrived: make(chan struct{}, 1000), ended: make(chan struct{}, 1000)})
	})
	silent := strings.TrimPrefix(tcpServer(t, func(conn net.Conn) { _, _ = io.Copy(io.Discard, conn) }), "http://")
	httpSrv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	kinds := []struct {
		target Target
		ok     bool
	}{
		{Target{URL: "tcp://" + tcpAddr}, true},
		{Target{URL: "tls://" + tlsAddr, CABundle: ca.pem}, true},
		{Target{URL: "tls://" + tlsAddr}, false},
		{Target{URL: "grpc://" + grpcAddr}, true},
		{Target{URL: "grpc://" + grpcAddr + "/down"}, false},
		{Target{URL: "grpcs://" + grpcsAddr, CABundle: ca.pem}, true},
		{Target{URL: "grpcs://" + grpcsAddr}, false},
		{Target{URL: "grpc://" + hanging, Timeout: 20 * time.Millisecond}, false},
		{Target{URL: "grpc://" + silent, Timeout: 20 * time.Millisecond}, false},
		{Target{URL: "grpc://" + strings.TrimPrefix(httpSrv.URL, "http://")}, false},
		{Target{URL: "grpc://" + refusedAddr(t)}, false},
		{Target{URL: "tcp://127.0.0.2:1"}, false},
	}
	targets := make([]Target, 1000)
	wantOK := 0
	for i := range targets {
		k := kinds[i%len(kinds)]
		targets[i] = k.target
		if k.ok {
			wantOK++
		}
	}
	c := denying(t, "127.0.0.2")
	warm := make([]Target, len(kinds))
	for i, k := range kinds {
		warm[i] = k.target
	}
	c.Run(ctxFor(t), warm, len(warm), nil)
	goroutines, files := runtime.NumGoroutine(), openFiles(t)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if ok := countOK(c.Run(ctx, targets, 50, nil)); ok != wantOK {
		t.Errorf("%d good, want %d", ok, wantOK)
	}
	eventually(t, fmt.Sprintf("goroutines back to %d", goroutines), func() bool { return runtime.NumGoroutine() <= goroutines })
	eventually(t, fmt.Sprintf("open files back to %d", files), func() bool { return openFiles(t) <= files })
}
