package checker

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// backendHost is the URL host of the Address tests. No resolver knows it, so
// a check that reaches a server can only have dialled Target.Address.
const backendHost = "backend.test"

// backendCert is a certificate for backendHost only, issued by a CA whose PEM
// it also returns for Target.CABundle.
func backendCert(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	ca := newTestCA(t)
	return issue(t, ca, leafOptions{dnsNames: []string{backendHost}}), ca.pem
}

// tlsRequest is what an https backend saw of a request: its Host header and
// the TLS server name.
type tlsRequest struct{ host, serverName string }

// httpsBackend serves https on 127.0.0.1 with a certificate for backendHost
// until the test ends, reporting each request on seen. It returns the
// server's address and the CA bundle that verifies it.
func httpsBackend(t *testing.T) (addr string, caPEM []byte, seen <-chan tlsRequest) {
	t.Helper()
	cert, caPEM := backendCert(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	requests := make(chan tlsRequest, 4)
	serveHTTP(t, func(_ http.ResponseWriter, r *http.Request) {
		requests <- tlsRequest{r.Host, r.TLS.ServerName}
	}, &tls.Config{Certificates: []tls.Certificate{cert}}, l)
	return l.Addr().String(), caPEM, requests
}

// TestAddressHTTPSKeepsHost: https://backend.test:PORT with Address 127.0.0.1
// reaches the server there, verifies its certificate for backend.test (so
// the server name is the URL's host), and the server sees the URL's Host.
func TestAddressHTTPSKeepsHost(t *testing.T) {
	addr, caPEM, seen := httpsBackend(t)
	_, port, _ := net.SplitHostPort(addr)
	u := "https://" + net.JoinHostPort(backendHost, port) + "/healthz"

	r := newChecker(t, nil).Check(ctxFor(t), Target{URL: u, Address: "127.0.0.1", CABundle: caPEM})
	if r.Reason != ReasonOK || r.StatusCode != http.StatusOK {
		t.Fatalf("got %s %d %q", r.Reason, r.StatusCode, r.Message)
	}
	want := tlsRequest{net.JoinHostPort(backendHost, port), backendHost}
	if got := recv(t, seen, "the request"); got != want {
		t.Errorf("the server saw %+v, want %+v", got, want)
	}
	// The same URL and Address on the certificate's wrong name fails
	// verification: the name checked is the URL's, never the address.
	wrongName := "https://" + net.JoinHostPort("other.test", port) + "/healthz"
	if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: wrongName, Address: "127.0.0.1", CABundle: caPEM}); r.Reason != ReasonTLSError {
		t.Errorf("a name the certificate lacks: got %s %q, want TLSError", r.Reason, r.Message)
	}
}

// TestAddressHTTPChoosesListener: an http check of a name no resolver knows
// reaches the listener of its Address, ::1 or 127.0.0.1, at the URL's port.
func TestAddressHTTPChoosesListener(t *testing.T) {
	port, seen := familyServer(t, "http") // skips without ::1
	c := withFakeResolver(newChecker(t, nil))
	for _, want := range []netip.Addr{loopback6, loopback4} {
		r := c.Check(ctxFor(t), Target{URL: "http://" + net.JoinHostPort(backendHost, port) + "/", Address: want.String()})
		if !r.OK() {
			t.Fatalf("Address %s: %s %q", want, r.Reason, r.Message)
		}
		if got := recv(t, seen, "the server's connection"); got != want {
			t.Errorf("Address %s: the server saw a connection from %s", want, got)
		}
	}
}

// TestAddressRedirects: a hop to the URL's own host goes to Address again; a
// hop to another host resolves that host (v6.test, ::1 only) normally.
func TestAddressRedirects(t *testing.T) {
	v4, v6 := dualStackListeners(t)
	_, port, _ := net.SplitHostPort(v4.Addr().String())
	seen := make(chan netip.Addr, 16)
	serveHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, "http://"+net.JoinHostPort(to, port)+"/", http.StatusFound)
		}
	}, nil, recording(v4, seen), recording(v6, seen))
	c := withFakeResolver(newChecker(t, nil))

	for _, tc := range []struct {
		to   string
		want []netip.Addr
	}{
		{backendHost, []netip.Addr{loopback4, loopback4}},
		{"BACKEND.test", []netip.Addr{loopback4, loopback4}},
		{"v6.test", []netip.Addr{loopback4, loopback6}},
	} {
		u := "http://" + net.JoinHostPort(backendHost, port) + "/?to=" + url.QueryEscape(tc.to)
		if r := c.Check(ctxFor(t), Target{URL: u, Address: "127.0.0.1"}); !r.OK() {
			t.Fatalf("to %s: %s %q", tc.to, r.Reason, r.Message)
		}
		for i, want := range tc.want {
			if got := recv(t, seen, "a hop's connection"); got != want {
				t.Errorf("to %s: hop %d came from %s, want %s", tc.to, i+1, got, want)
			}
		}
	}
}

// TestAddressTCPTLSAndGRPC: tcp, tls, grpc and grpcs checks of backend.test
// connect to Address; tls and grpcs verify the certificate for, and send as
// server name, backend.test; grpc's :authority is the URL's host:port.
func TestAddressTCPTLSAndGRPC(t *testing.T) {
	cert, caPEM := backendCert(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	c := newChecker(t, nil)
	at := func(scheme, addr string) Target {
		_, port, _ := net.SplitHostPort(addr)
		return Target{URL: scheme + "://" + net.JoinHostPort(backendHost, port), Address: "127.0.0.1", CABundle: caPEM}
	}

	t.Run("tcp", func(t *testing.T) {
		srv, accepted := countingServer(t, "127.0.0.1:0")
		if r := c.Check(ctxFor(t), at("tcp", srv.Listener.Addr().String())); r.Reason != ReasonOK || r.Seen != "OPEN" {
			t.Fatalf("got %s %q (%s)", r.Reason, r.Message, r.Seen)
		}
		eventually(t, "the server's connection", func() bool { return accepted.Load() == 1 })
	})
	t.Run("tls", func(t *testing.T) {
		addr, accepted := tlsListener(t, cfg)
		if r := c.Check(ctxFor(t), at("tls", addr)); r.Reason != ReasonOK {
			t.Fatalf("got %s %q", r.Reason, r.Message)
		}
		if a := recv(t, accepted, "the handshake"); a.err != nil || a.serverName != backendHost {
			t.Errorf("the server saw server name %q, error %v", a.serverName, a.err)
		}
	})
	for _, scheme := range []string{"grpc", "grpcs"} {
		t.Run(scheme, func(t *testing.T) {
			var srvCfg *tls.Config
			if scheme == "grpcs" {
				srvCfg = cfg
			}
			authorities := make(chan string, 4)
			addr := newGRPCServer(t, srvCfg, func(s *grpc.Server) {
				healthpb.RegisterHealthServer(s, authorityHealth{seen: authorities})
			})
			target := at(scheme, addr)
			if r := c.Check(ctxFor(t), target); r.Reason != ReasonOK || r.Seen != "SERVING" {
				t.Fatalf("got %s %q (%s)", r.Reason, r.Message, r.Seen)
			}
			want := strings.TrimPrefix(target.URL, scheme+"://")
			if got := recv(t, authorities, "the request"); got != want {
				t.Errorf(":authority %q, want %q", got, want)
			}
		})
	}
}

// authorityHealth reports each request's :authority, and is SERVING.
type authorityHealth struct {
	healthpb.UnimplementedHealthServer
	seen chan<- string
}

func (h authorityHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	h.seen <- strings.Join(md.Get(":authority"), ",")
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// TestAddressBlocked: the outbound policy judges Address. The metadata
// address is Blocked by default over every protocol; a denied loopback
// Address is Blocked, and its server, listening there, sees no connection.
func TestAddressBlocked(t *testing.T) {
	srv, accepted := countingServer(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	hostPort := net.JoinHostPort(backendHost, port)
	for _, scheme := range []string{"http", "https", "tcp", "tls", "grpc", "grpcs"} {
		u := scheme + "://" + hostPort + "/"
		for _, tc := range []struct {
			c       *Checker
			address string
		}{
			{newChecker(t, nil), "169.254.169.254"},
			{denying(t, "127.0.0.1"), "127.0.0.1"},
		} {
			r := tc.c.Check(ctxFor(t), Target{URL: u, Address: tc.address})
			if r.Reason != ReasonBlocked || r.Message != "blocked by the outbound policy" {
				t.Errorf("%s at %s: got %s %q, want Blocked", scheme, tc.address, r.Reason, r.Message)
			}
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections to a denied Address", n)
	}
}

// TestAddressInvalid: an Address that is not a bare IP address is an invalid
// request with a fixed message that does not echo it, and connects nowhere.
func TestAddressInvalid(t *testing.T) {
	srv, accepted := countingServer(t, "127.0.0.1:0")
	hostPort := srv.Listener.Addr().String()
	for _, address := range []string{"localhost", "127.0.0.1:80", "[::1]", " 127.0.0.1", "10.0.0.0/8", "secret-token"} {
		for _, u := range []string{"http://" + hostPort, "https://" + hostPort, "tcp://" + hostPort, "grpc://" + hostPort} {
			r := newChecker(t, nil).Check(ctxFor(t), Target{URL: u, Address: address})
			if r.Reason != ReasonNetworkError || r.Message != "invalid request: address must be an IPv4 or IPv6 address" {
				t.Errorf("%q for %s: got %s %q", address, u, r.Reason, r.Message)
			}
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections for invalid addresses", n)
	}
}

// TestAddressFamily: an Address of the other family than IPFamily fails as a
// host without an address of the family does, and connects nowhere.
func TestAddressFamily(t *testing.T) {
	srv, accepted := countingServer(t, "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	hostPort := net.JoinHostPort(backendHost, port)
	for _, scheme := range []string{"http", "https", "tcp", "tls", "grpc", "grpcs"} {
		for _, tc := range []struct {
			address string
			family  IPFamily
			message string
		}{
			{"127.0.0.1", IPFamilyIPv6, "no IPv6 address"},
			{"::ffff:127.0.0.1", IPFamilyIPv6, "no IPv6 address"},
			{"::1", IPFamilyIPv4, "no IPv4 address"},
		} {
			r := newChecker(t, nil).Check(ctxFor(t), Target{URL: scheme + "://" + hostPort + "/", Address: tc.address, IPFamily: tc.family})
			if r.Reason != ReasonDNSError || r.Message != tc.message {
				t.Errorf("%s at %s with %s: got %s %q, want DNSError %q", scheme, tc.address, tc.family, r.Reason, r.Message, tc.message)
			}
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections for addresses of the other family", n)
	}
}

// TestLookupAddresses: a name's addresses of the family, sorted and without
// duplicates; an IP address gives itself; failures have fixed messages that
// Classify makes DNSErrors.
func TestLookupAddresses(t *testing.T) {
	r := fakeResolver(map[string][]netip.Addr{
		"two.test.":   {netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1")},
		"multi.test.": {netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("::2"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("::1")},
		"v4.test.":    {loopback4},
	})
	addrs := func(s ...string) []netip.Addr {
		out := make([]netip.Addr, 0, len(s))
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	tests := []struct {
		host    string
		family  IPFamily
		want    []netip.Addr
		message string // of the error, when want is nil
		reason  Reason
	}{
		{host: "two.test", want: addrs("10.0.0.1", "10.0.0.2")},
		{host: "multi.test", want: addrs("10.0.0.1", "10.0.0.2", "::1", "::2")},
		{host: "multi.test", family: "Any", want: addrs("10.0.0.1", "10.0.0.2", "::1", "::2")},
		{host: "multi.test", family: IPFamilyIPv4, want: addrs("10.0.0.1", "10.0.0.2")},
		{host: "multi.test", family: IPFamilyIPv6, want: addrs("::1", "::2")},
		{host: "10.1.2.3", want: addrs("10.1.2.3")},
		{host: "::ffff:10.1.2.3", family: IPFamilyIPv4, want: addrs("10.1.2.3")},
		{host: "2001:db8::1", family: IPFamilyIPv6, want: addrs("2001:db8::1")},
		{host: "v4.test", family: IPFamilyIPv6, message: "no IPv6 address", reason: ReasonDNSError},
		{host: "10.1.2.3", family: IPFamilyIPv6, message: "no IPv6 address", reason: ReasonDNSError},
		{host: "::1", family: IPFamilyIPv4, message: "no IPv4 address", reason: ReasonDNSError},
		{host: "nonexistent.test", message: "DNS lookup failed", reason: ReasonDNSError},
		{host: "nonexistent.test", family: IPFamilyIPv4, message: "no IPv4 address", reason: ReasonDNSError},
		{host: "", message: "invalid request: host must not be empty", reason: ReasonNetworkError},
		{host: "two.test", family: "ipv4", message: "invalid request: ipFamily must be Any, IPv4 or IPv6", reason: ReasonNetworkError},
	}
	for _, tc := range tests {
		got, err := lookupAddresses(ctxFor(t), r, tc.host, tc.family)
		if tc.want != nil {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%q, %q: got %v, %v; want %v", tc.host, tc.family, got, err, tc.want)
			}
			continue
		}
		if err == nil || err.Error() != tc.message || Classify(err) != tc.reason {
			t.Errorf("%q, %q: got %v, %v (%s); want error %q (%s)", tc.host, tc.family, got, err, Classify(err), tc.message, tc.reason)
		}
	}

	// The exported function, with the system's resolver, on literals.
	if got, err := LookupAddresses(ctxFor(t), "127.0.0.1", IPFamilyAny); err != nil || !slices.Equal(got, []netip.Addr{loopback4}) {
		t.Errorf("LookupAddresses(127.0.0.1) = %v, %v", got, err)
	}
	if _, err := LookupAddresses(ctxFor(t), "::1", IPFamilyIPv4); !errors.Is(err, errNoIPv4Address) {
		t.Errorf("LookupAddresses(::1, IPv4) = %v", err)
	}
}

// TestLookupAddressesCancelled: a lookup cut short by its context is a
// Timeout, with the fixed message.
func TestLookupAddressesCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := lookupAddresses(ctx, fakeResolver(nil), "two.test", IPFamilyAny)
	if err == nil || err.Error() != "DNS lookup failed" || Classify(err) != ReasonTimeout {
		t.Errorf("got %v (%s), want \"DNS lookup failed\" (Timeout)", err, Classify(err))
	}
}

// TestZeroPlanAllocatesNothing: a check without IPFamily or Address pays
// nothing for the dial plan (BenchmarkCheckHTTP counts the whole check).
func TestZeroPlanAllocatesNothing(t *testing.T) {
	ctx := t.Context()
	if n := testing.AllocsPerRun(100, func() { _ = planOf(withPlan(ctx, dialPlan{})) }); n != 0 {
		t.Errorf("%v allocations for the zero plan", n)
	}
}
