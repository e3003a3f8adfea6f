package checker

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// TestBlockedMakesNoConnection: a denied address is refused at dial time, so
// the listener on it never accepts a connection, however the address is
// reached: directly, in IPv4-mapped form, through a host name, or through a
// redirect from an allowed server.
func TestBlockedMakesNoConnection(t *testing.T) {
	denied, accepted := countingServer(t, "127.0.0.2:0")
	_, port, _ := net.SplitHostPort(denied.Listener.Addr().String())
	local, localAccepted := countingServer(t, "127.0.0.1:0")
	_, localPort, _ := net.SplitHostPort(local.Listener.Addr().String())
	redirector := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, denied.URL+"/after-redirect", http.StatusFound)
	})

	tests := []struct {
		name   string
		deny   string
		url    string
		counts *atomic.Int32
	}{
		{"direct", "127.0.0.2", denied.URL, accepted},
		{"ipv4-mapped url", "127.0.0.2", "http://[::ffff:127.0.0.2]:" + port + "/", accepted},
		{"ipv4-mapped deny entry", "::ffff:127.0.0.2", denied.URL, accepted},
		{"host name resolved first", "127.0.0.1,::1", "http://localhost:" + localPort + "/", localAccepted},
		{"redirect hop", "127.0.0.2", redirector.URL, accepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.counts.Load()
			r := denying(t, tc.deny).Check(ctxFor(t), Target{URL: tc.url})
			if r.Reason != ReasonBlocked || r.Message != "blocked by the outbound policy" || r.StatusCode != 0 || r.OK() {
				t.Fatalf("got {%s %d %q}, want Blocked", r.Reason, r.StatusCode, r.Message)
			}
			if n := tc.counts.Load() - before; n != 0 {
				t.Fatalf("the denied listener accepted %d connections", n)
			}
		})
	}

	// The same listeners are reachable under the default policy, so the
	// zero counts above are the policy's doing.
	for _, u := range []string{denied.URL, local.URL, redirector.URL} {
		if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: u}); r.Reason != ReasonOK {
			t.Errorf("default policy: %s %q for %s", r.Reason, r.Message, u)
		}
	}
}

// TestDefaultPolicy: a Checker without a configured policy uses the default
// one, which blocks metadata but not loopback. (Tested on the policy itself,
// so the test never dials a real metadata address.)
func TestDefaultPolicy(t *testing.T) {
	c := New(Options{})
	if c.transports.policy != netpolicy.Default() {
		t.Fatal("New(Options{}) does not use netpolicy.Default()")
	}
	tr, err := c.transports.get(Target{})
	if err != nil {
		t.Fatal(err)
	}
	if tls := tr.tls; tls.Proxy != nil || !tls.DisableKeepAlives || !tls.DisableCompression {
		t.Error("https probe transport is not built by newTransport")
	}
	if tr.plain.dialer.net.Control == nil {
		t.Error("http probe transport dials without the policy")
	}
	for addr, wantBlocked := range map[string]bool{
		"169.254.169.254:80":          true,
		"[::ffff:169.254.169.254]:80": true,
		"[fd00:ec2::254]:80":          true,
		"127.0.0.1:80":                false,
	} {
		err := c.transports.policy.Control("tcp", addr, nil)
		if blocked := err != nil; blocked != wantBlocked {
			t.Errorf("default policy on %s: %v", addr, err)
		}
	}
}

// TestProxyEnvironmentIgnored: with HTTP_PROXY and HTTPS_PROXY pointing at a
// local proxy, no probe reaches the proxy. The targets are on a documentation
// network the test policy denies, so they are never dialled either: going
// direct, they are Blocked; going through the proxy (which net/http never
// does for loopback targets), the proxy would have answered.
func TestProxyEnvironmentIgnored(t *testing.T) {
	proxy, proxied := countingServer(t, "127.0.0.1:0")
	for _, env := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(env, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	c := denying(t, "192.0.2.0/24")
	for _, u := range []string{"http://192.0.2.1/", "https://192.0.2.1/"} {
		r := c.Check(ctxFor(t), Target{URL: u})
		if r.Reason != ReasonBlocked {
			t.Errorf("%s: got %s %q, want Blocked", u, r.Reason, r.Message)
		}
	}
	if n := proxied.Load(); n != 0 {
		t.Fatalf("the proxy from the environment got %d connections", n)
	}
}

// TestClassifyBlocked: a dial error from the policy classifies as Blocked,
// and its message does not name the address.
func TestClassifyBlocked(t *testing.T) {
	blocked := netpolicy.Default().Control("tcp", "169.254.169.254:80", nil)
	if blocked == nil {
		t.Fatal("default policy allowed 169.254.169.254")
	}
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: blocked}
	if got := Classify(dialErr); got != ReasonBlocked {
		t.Errorf("Classify(dial error) = %s", got)
	}
	if strings.Contains(failureMessage(ReasonBlocked, 0), "169.254") {
		t.Error("the Blocked message names the address")
	}
}

// TestBlockedNonHTTPMakesNoConnection: tcp, tls and gRPC checks dial through
// the same policy: a denied address is Blocked and its listener never sees a
// connection, and a metadata address is Blocked under the default policy
// before any connection is attempted.
func TestBlockedNonHTTPMakesNoConnection(t *testing.T) {
	denied, accepted := countingServer(t, "127.0.0.2:0")
	addr := denied.Listener.Addr().String()
	c := denying(t, "127.0.0.2")
	for _, scheme := range []string{"tcp", "tls", "grpc", "grpcs"} {
		for _, u := range []string{scheme + "://" + addr, strings.ToUpper(scheme) + "://" + addr} {
			r := c.Check(ctxFor(t), Target{URL: u})
			if r.Reason != ReasonBlocked || r.Message != "blocked by the outbound policy" || r.OK() || r.Seen != "" {
				t.Errorf("%s: got {%s %q %q}, want Blocked", u, r.Reason, r.Message, r.Seen)
			}
		}
		r := New(Options{}).Check(ctxFor(t), Target{URL: scheme + "://169.254.169.254:80"})
		if r.Reason != ReasonBlocked {
			t.Errorf("%s on the metadata address: got %s %q, want Blocked", scheme, r.Reason, r.Message)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the denied listener accepted %d connections", n)
	}
	// Reachable under the default policy, so the zero above is the policy's.
	if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: "tcp://" + addr}); r.Reason != ReasonOK {
		t.Errorf("default policy: %s %q", r.Reason, r.Message)
	}
	eventually(t, "the listener to count the allowed connection", func() bool { return accepted.Load() == 1 })
}
