package checker

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testservers"
)

// closedPort is a loopback port where nothing listens, for the URLs of the
// Port tests: a check that dialled the URL's port instead of Target.Port
// would be refused there.
func closedPort(t testing.TB) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(testservers.ClosedPort(t))
	return port
}

// portOf is the port of addr (host:port) as a number, for Target.Port.
func portOf(t testing.TB, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPortHTTPKeepsHost: an http check with Port reaches the server at Port,
// not at the URL's port, and the server sees the URL's Host, its port
// included; with Address at that address, without it at the URL host's own
// (a literal, or a name v4.test resolves to).
func TestPortHTTPKeepsHost(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hosts := make(chan string, 4)
	serveHTTP(t, func(_ http.ResponseWriter, r *http.Request) { hosts <- r.Host }, nil, l)
	port := portOf(t, l.Addr().String())
	closed := closedPort(t)
	c := withFakeResolver(newChecker(t, nil))

	for _, tc := range []struct {
		name, url, address, wantHost string
	}{
		{"address", "http://" + net.JoinHostPort(backendHost, closed) + "/", "127.0.0.1", net.JoinHostPort(backendHost, closed)},
		{"address, URL without port", "http://" + backendHost + "/", "127.0.0.1", backendHost},
		{"no address, literal", "http://" + net.JoinHostPort("127.0.0.1", closed) + "/", "", net.JoinHostPort("127.0.0.1", closed)},
		{"no address, name", "http://" + net.JoinHostPort("v4.test", closed) + "/", "", net.JoinHostPort("v4.test", closed)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(ctxFor(t), Target{URL: tc.url, Address: tc.address, Port: port})
			if r.Reason != ReasonOK || r.StatusCode != http.StatusOK {
				t.Fatalf("got %s %d %q", r.Reason, r.StatusCode, r.Message)
			}
			if got := recv(t, hosts, "the request"); got != tc.wantHost {
				t.Errorf("the server saw Host %q, want %q", got, tc.wantHost)
			}
		})
	}
}

// TestPortHTTPSKeepsHost: https://backend.test:CLOSED with Address 127.0.0.1
// and Port reaches the server at Port, verifies its certificate for
// backend.test, and the server sees the URL's Host and server name.
func TestPortHTTPSKeepsHost(t *testing.T) {
	addr, caPEM, seen := httpsBackend(t)
	hostPort := net.JoinHostPort(backendHost, closedPort(t))

	target := Target{URL: "https://" + hostPort + "/healthz", Address: "127.0.0.1", Port: portOf(t, addr), CABundle: caPEM}
	r := newChecker(t, nil).Check(ctxFor(t), target)
	if r.Reason != ReasonOK || r.StatusCode != http.StatusOK {
		t.Fatalf("got %s %d %q", r.Reason, r.StatusCode, r.Message)
	}
	want := tlsRequest{hostPort, backendHost}
	if got := recv(t, seen, "the request"); got != want {
		t.Errorf("the server saw %+v, want %+v", got, want)
	}
}

// TestPortTCPTLSAndGRPC: tcp, tls, grpc and grpcs checks of
// backend.test:CLOSED with Address 127.0.0.1 and Port reach the server at
// Port; tls and grpcs verify the certificate for, and send as server name,
// backend.test; grpc's :authority is the URL's host:port.
func TestPortTCPTLSAndGRPC(t *testing.T) {
	cert, caPEM := backendCert(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	closed := closedPort(t)
	c := newChecker(t, nil)
	at := func(scheme, addr, path string) Target {
		return Target{
			URL:     scheme + "://" + net.JoinHostPort(backendHost, closed) + path,
			Address: "127.0.0.1", Port: portOf(t, addr), CABundle: caPEM,
		}
	}

	t.Run("tcp", func(t *testing.T) {
		accepted := make(chan struct{}, 4)
		addr := testservers.Listen(t, func(net.Conn) {
			select {
			case accepted <- struct{}{}:
			default:
			}
		})
		if r := c.Check(ctxFor(t), at("tcp", addr, "")); r.Reason != ReasonOK || r.Seen != "OPEN" {
			t.Fatalf("got %s %q (%s)", r.Reason, r.Message, r.Seen)
		}
		recv(t, accepted, "the server's connection")
	})
	t.Run("tls", func(t *testing.T) {
		addr, accepted := tlsListener(t, cfg)
		if r := c.Check(ctxFor(t), at("tls", addr, "")); r.Reason != ReasonOK {
			t.Fatalf("got %s %q", r.Reason, r.Message)
		}
		if a := recv(t, accepted, "the handshake"); a.err != nil || a.serverName != backendHost {
			t.Errorf("the server saw server name %q, error %v", a.serverName, a.err)
		}
	})
	for _, scheme := range []string{"grpc", "grpcs"} {
		t.Run(scheme, func(t *testing.T) {
			var creds credentials.TransportCredentials
			if scheme == "grpcs" {
				creds = credentials.NewTLS(cfg)
			}
			// A service only this server knows: any other answers NOT_FOUND.
			addr, hs := testservers.GRPCHealth(t, creds)
			hs.SetServingStatus("port.test", healthpb.HealthCheckResponse_SERVING)
			if r := c.Check(ctxFor(t), at(scheme, addr, "/port.test")); r.Reason != ReasonOK || r.Seen != "SERVING" {
				t.Fatalf("got %s %q (%s)", r.Reason, r.Message, r.Seen)
			}
		})
	}
	t.Run("grpc authority", func(t *testing.T) {
		authorities := make(chan string, 4)
		addr := newGRPCServer(t, nil, func(s *grpc.Server) {
			healthpb.RegisterHealthServer(s, authorityHealth{seen: authorities})
		})
		if r := c.Check(ctxFor(t), at("grpc", addr, "")); r.Reason != ReasonOK || r.Seen != "SERVING" {
			t.Fatalf("got %s %q (%s)", r.Reason, r.Message, r.Seen)
		}
		want := net.JoinHostPort(backendHost, closed)
		if got := recv(t, authorities, "the request"); got != want {
			t.Errorf(":authority %q, want %q", got, want)
		}
	})
}

// TestPortRedirects: a hop to the URL's own host, at whatever port, goes to
// Address and Port again; a hop to another host dials that host's own port.
func TestPortRedirects(t *testing.T) {
	type hop struct{ server, host string }
	hops := make(chan hop, 16)
	other, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, func(_ http.ResponseWriter, r *http.Request) { hops <- hop{"other", r.Host} }, nil, other)
	backend, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		hops <- hop{"backend", r.Host}
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, "http://"+to+"/", http.StatusFound)
		}
	}, nil, backend)
	start := net.JoinHostPort(backendHost, closedPort(t))
	sameHost := net.JoinHostPort(backendHost, closedPort(t))
	otherHost := other.Addr().String()
	c := newChecker(t, nil)

	for _, tc := range []struct {
		name string
		to   string
		want []hop
	}{
		{"same host, another port", sameHost, []hop{{"backend", start}, {"backend", sameHost}}},
		{"another host", otherHost, []hop{{"backend", start}, {"other", otherHost}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := Target{URL: "http://" + start + "/?to=" + tc.to, Address: "127.0.0.1", Port: portOf(t, backend.Addr().String())}
			if r := c.Check(ctxFor(t), target); !r.OK() {
				t.Fatalf("got %s %q", r.Reason, r.Message)
			}
			for i, want := range tc.want {
				if got := recv(t, hops, "a hop's request"); got != want {
					t.Errorf("hop %d reached %+v, want %+v", i+1, got, want)
				}
			}
		})
	}
}

// TestPortBlocked: the outbound policy judges the address dialled at Port.
// The metadata address is Blocked by default over every protocol; a denied
// loopback address, given as Address or as the URL's host, is Blocked, and
// the server listening there at Port sees no connection.
func TestPortBlocked(t *testing.T) {
	srv, accepted := countingServer(t, "127.0.0.1:0")
	port := portOf(t, srv.Listener.Addr().String())
	closed := closedPort(t)
	for _, scheme := range []string{"http", "https", "tcp", "tls", "grpc", "grpcs"} {
		for _, tc := range []struct {
			c       *Checker
			host    string
			address string
		}{
			{newChecker(t, nil), backendHost, "169.254.169.254"},
			{denying(t, "127.0.0.1"), backendHost, "127.0.0.1"},
			{denying(t, "127.0.0.1"), "127.0.0.1", ""},
		} {
			u := scheme + "://" + net.JoinHostPort(tc.host, closed) + "/"
			r := tc.c.Check(ctxFor(t), Target{URL: u, Address: tc.address, Port: port})
			if r.Reason != ReasonBlocked || r.Message != "blocked by the outbound policy" {
				t.Errorf("%s at %s (Address %q): got %s %q, want Blocked", scheme, tc.host, tc.address, r.Reason, r.Message)
			}
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections to a denied address", n)
	}

	// The same server is reachable under the default policy, so the zero
	// count above is the policy's doing.
	u := "http://" + net.JoinHostPort(backendHost, closed) + "/"
	if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: u, Address: "127.0.0.1", Port: port}); r.Reason != ReasonOK {
		t.Errorf("default policy: got %s %q", r.Reason, r.Message)
	}
}

// TestPortInvalid: a Port outside 1 to 65535 is an invalid request with a
// fixed message, with or without Address, and connects nowhere.
func TestPortInvalid(t *testing.T) {
	srv, accepted := countingServer(t, "127.0.0.1:0")
	hostPort := srv.Listener.Addr().String()
	for _, port := range []int{-1, 65536, 70000} {
		for _, address := range []string{"", "127.0.0.1"} {
			for _, scheme := range []string{"http", "https", "tcp", "tls", "grpc", "grpcs"} {
				u := scheme + "://" + hostPort
				r := newChecker(t, nil).Check(ctxFor(t), Target{URL: u, Address: address, Port: port})
				if r.Reason != ReasonNetworkError || r.Message != "invalid request: port must be between 1 and 65535" {
					t.Errorf("Port %d, Address %q for %s: got %s %q", port, address, u, r.Reason, r.Message)
				}
			}
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections for invalid ports", n)
	}
}
