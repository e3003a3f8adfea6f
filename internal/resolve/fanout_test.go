package resolve

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

func TestMinHealthyCountsBackendsRoundingPercentagesUp(t *testing.T) {
	for _, tc := range []struct {
		min   intstr.IntOrString
		total int
		want  int
	}{
		{intstr.FromString("100%"), 3, 3},
		{intstr.FromString("50%"), 3, 2},
		{intstr.FromString("34%"), 3, 2},
		{intstr.FromString("1%"), 200, 2},
		{intstr.FromString("100%"), 0, 1},
		{intstr.FromInt32(2), 3, 2},
		{intstr.FromInt32(5), 3, 5},
	} {
		if got := (FanOut{MinHealthy: tc.min}).needed(tc.total); got != tc.want {
			t.Errorf("minHealthy %s of %d backends: %d, want %d", tc.min.String(), tc.total, got, tc.want)
		}
	}
}

// backendServer serves HTTP on addr:port with the given status code and
// records the Host headers it sees.
type backendServer struct {
	mu    sync.Mutex
	code  int
	hosts []string
}

func (b *backendServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hosts = append(b.hosts, r.Host)
	w.WriteHeader(b.code)
}

func (b *backendServer) set(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.code = code
}

func (b *backendServer) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.hosts...)
}

// twoBackends starts HTTP servers on 127.0.0.1 and 127.0.0.2 at one port, as
// two addresses of one host would be, and returns the port.
func twoBackends(t *testing.T) (port string, first, second *backendServer) {
	t.Helper()
	first, second = &backendServer{code: 200}, &backendServer{code: 200}
	for range 20 {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ = net.SplitHostPort(l1.Addr().String())
		l2, err := net.Listen("tcp", "127.0.0.2:"+port)
		if err != nil {
			_ = l1.Close() // the port is taken on 127.0.0.2: try another
			continue
		}
		for _, s := range []struct {
			l net.Listener
			h http.Handler
		}{{l1, first}, {l2, second}} {
			srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(s.l) }()
			t.Cleanup(func() { _ = srv.Close() })
		}
		return port, first, second
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return "", nil, nil
}

// withLookup answers lookups of host with addrs for one test, as a name with
// two A records would; any other host fails the test.
func withLookup(t *testing.T, host string, addrs []netip.Addr) {
	t.Helper()
	old := lookup
	lookup = func(_ context.Context, h string, _ checker.IPFamily) ([]netip.Addr, error) {
		if h != host {
			t.Errorf("looked up %q, want %q", h, host)
		}
		return addrs, nil
	}
	t.Cleanup(func() { lookup = old })
}

func fannedOut(t *testing.T, url string, mode monitoringv1alpha1.FanOutMode, minHealthy intstr.IntOrString) Target {
	t.Helper()
	r, err := One(monitoringv1alpha1.HealthCheckSpec{}, monitoringv1alpha1.Target{URL: url, Name: "shop", TargetSettings: monitoringv1alpha1.TargetSettings{
		FanOut: &monitoringv1alpha1.FanOut{Mode: mode, MinHealthy: &minHealthy},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAnAddressesFanOutChecksEveryAddressWithTheURLsHost(t *testing.T) {
	port, first, second := twoBackends(t)
	withLookup(t, "shop.test", []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")})
	url := "http://shop.test:" + port + "/healthz"
	runner := Runner{Run: checker.New(checker.Options{}).Run}

	for _, tc := range []struct {
		name       string
		secondCode int
		minHealthy intstr.IntOrString
		reason     checker.Reason
		message    string
	}{
		{"all healthy", 200, intstr.FromString("100%"), checker.ReasonOK, "2 of 2 backends healthy: the slowest, "},
		{"one down, all needed", 503, intstr.FromString("100%"), checker.ReasonUnexpectedStatus, "1 of 2 backends healthy, fewer than 2: 127.0.0.2 returned 503 in "},
		{"one down, one needed", 503, intstr.FromInt32(1), checker.ReasonOK, "1 of 2 backends healthy, 1 Down: 127.0.0.2 returned 503 in "},
		{"one down, half needed", 503, intstr.FromString("50%"), checker.ReasonOK, "1 of 2 backends healthy, 1 Down: 127.0.0.2 returned 503 in "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			second.set(tc.secondCode)
			targets := []Target{fannedOut(t, url, monitoringv1alpha1.FanOutAddresses, tc.minHealthy)}
			var each []Result
			results := runner.Check(context.Background(), targets, 1, func(i int, res Result) { each = append(each, res) })
			res := results[0]
			if res.Reason != tc.reason || !strings.HasPrefix(res.Message, tc.message) || res.URL != url {
				t.Fatalf("result %s %q (%s), want %s %q…", res.Reason, res.Message, res.URL, tc.reason, tc.message)
			}
			if len(each) != 1 || each[0].Reason != res.Reason {
				t.Fatalf("each was called %d times: %+v", len(each), each)
			}
			if len(res.Backends) != 2 || res.Backends[0].Backend.Address.String() != "127.0.0.1" || res.Backends[1].Backend.Address.String() != "127.0.0.2" ||
				res.Backends[1].Result.StatusCode != tc.secondCode {
				t.Fatalf("backends %+v", res.Backends)
			}
			if got := targets[0].FanOut.Backends; len(got) != 2 {
				t.Fatalf("the target does not record the backends looked up: %+v", got)
			}
		})
	}
	for _, s := range []*backendServer{first, second} {
		for _, host := range s.seen() {
			if host != "shop.test:"+port {
				t.Fatalf("a backend saw Host %q, want the URL's", host)
			}
		}
	}
}

func TestAFailedLookupIsTheTargetsResult(t *testing.T) {
	// The real lookup, of an IPv4 literal for IPv6 addresses: it fails as a
	// name without an address of the family would, without asking DNS.
	target, err := One(monitoringv1alpha1.HealthCheckSpec{}, monitoringv1alpha1.Target{URL: "http://127.0.0.1:1/", TargetSettings: monitoringv1alpha1.TargetSettings{
		IPFamily: monitoringv1alpha1.IPFamilyIPv6, FanOut: &monitoringv1alpha1.FanOut{Mode: monitoringv1alpha1.FanOutAddresses},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	run := func(_ context.Context, checks []checker.Target, _ int, _ func(checker.Result)) []checker.Result {
		ran += len(checks)
		return nil
	}
	res := Runner{Run: run}.Check(context.Background(), []Target{target}, 4, nil)[0]
	if res.Reason != checker.ReasonDNSError || res.Message != "no IPv6 address" || ran != 0 || res.CheckedAt.IsZero() {
		t.Fatalf("result %+v after %d checks, want a DNSError and no check", res, ran)
	}
}

func TestAnEndpointsFanOutWithoutBackendsSaysWhy(t *testing.T) {
	target := fannedOut(t, "http://web.shop.svc:8080/", monitoringv1alpha1.FanOutEndpoints, intstr.FromString("100%"))
	target.FanOut.Problem = "Service web has no ready endpoint for port 8080"
	res := Runner{Run: checker.New(checker.Options{}).Run}.Check(context.Background(), []Target{target}, 1, nil)[0]
	if res.Reason != checker.Reason(monitoringv1alpha1.CheckNoBackends) || res.Message != target.FanOut.Problem {
		t.Fatalf("result %s %q", res.Reason, res.Message)
	}
}

func TestEveryBackendIsACheckOfTheRound(t *testing.T) {
	target := fannedOut(t, "http://web.shop.svc:8080/", monitoringv1alpha1.FanOutEndpoints, intstr.FromString("50%"))
	for i := range 300 {
		target.FanOut.Backends = append(target.FanOut.Backends, discover.Backend{
			Address: netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i % 256)}), Port: 9000, Pod: fmt.Sprintf("web-%d", i)})
	}
	plain := Target{URL: "http://plain.test/", Check: checker.Target{URL: "http://plain.test/"}}
	var checks []checker.Target
	run := func(_ context.Context, c []checker.Target, workers int, onResult func(checker.Result)) []checker.Result {
		checks = c
		if workers != 7 {
			t.Errorf("workers %d, want the HealthCheck's 7", workers)
		}
		out := make([]checker.Result, len(c))
		for i := range c {
			out[i] = checker.Result{Index: i, URL: c[i].URL, Reason: checker.ReasonOK, StatusCode: 200}
			onResult(out[i])
		}
		return out
	}
	results := Runner{Run: run}.Check(context.Background(), []Target{target, plain}, 7, nil)
	if len(checks) != 301 {
		t.Fatalf("%d checks, want 300 backends and the plain target", len(checks))
	}
	if c := checks[0]; c.Address != "10.0.0.0" || c.Port != 9000 || c.URL != target.URL {
		t.Fatalf("first backend's check %+v", c)
	}
	res := results[0]
	if len(res.Backends) != 300 || !strings.HasPrefix(res.Message, "300 of 300 backends healthy: ") {
		t.Fatalf("result %q, %d backends", res.Message, len(res.Backends))
	}
	if results[1].URL != plain.URL || results[1].Backends != nil {
		t.Fatalf("plain target's result %+v", results[1])
	}
}

func TestJudgingBackends(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	expiresSoon, expiresLate := at.Add(24*time.Hour), at.Add(48*time.Hour)
	backend := func(last byte, reason checker.Reason, code int, latency time.Duration, slow bool, expires *time.Time) BackendResult {
		return BackendResult{
			Backend: discover.Backend{Address: netip.AddrFrom4([4]byte{10, 0, 0, last}), Pod: fmt.Sprintf("web-%d", last), Zone: "b"},
			Result: checker.Result{Reason: reason, StatusCode: code, Latency: latency, Slow: slow, CheckedAt: at.Add(time.Duration(last) * time.Millisecond),
				Message: fmt.Sprintf("returned %d", code), CertificateExpiresAt: expires},
		}
	}
	all := FanOut{MinHealthy: intstr.FromString("100%")}
	res := judgeBackends(all, []BackendResult{
		backend(1, checker.ReasonOK, 200, 3*time.Millisecond, false, &expiresLate),
		backend(2, checker.ReasonSlowResponse, 200, 3*time.Second, true, &expiresSoon),
	})
	if res.Reason != checker.ReasonSlowResponse || !res.Slow || res.Latency != 3*time.Second || !res.CheckedAt.Equal(at.Add(time.Millisecond)) ||
		!res.CertificateExpiresAt.Equal(expiresSoon) || res.Message != "2 of 2 backends healthy, 1 Slow: pod web-2 (10.0.0.2, zone b) returned 200" {
		t.Fatalf("a slow backend: %+v", res)
	}
	res = judgeBackends(all, []BackendResult{
		backend(1, checker.ReasonTimeout, 0, time.Second, false, nil),
		backend(2, checker.ReasonConnectionRefused, 0, time.Millisecond, false, nil),
	})
	if res.OK() || res.Reason != checker.ReasonTimeout || res.Message != "0 of 2 backends healthy, fewer than 2: pod web-1 (10.0.0.1, zone b) returned 0" {
		t.Fatalf("every backend failing: %+v", res)
	}
	res = judgeBackends(FanOut{MinHealthy: intstr.FromInt32(3)}, []BackendResult{
		backend(1, checker.ReasonOK, 200, time.Millisecond, false, nil),
		backend(2, checker.ReasonOK, 200, time.Millisecond, false, nil),
	})
	if res.OK() || res.Reason != checker.Reason(monitoringv1alpha1.CheckNoBackends) || res.Message != "2 of 2 backends healthy, fewer than minHealthy, 3" {
		t.Fatalf("fewer backends than minHealthy: %+v", res)
	}
}
