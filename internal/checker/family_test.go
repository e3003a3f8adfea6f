package checker

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

var (
	loopback4 = netip.MustParseAddr("127.0.0.1")
	loopback6 = netip.MustParseAddr("::1")
)

// familyZone is what fakeResolver answers in the IP family tests: one name
// with both loopback addresses, one with each alone.
var familyZone = map[string][]netip.Addr{
	"dual.test.": {loopback4, loopback6},
	"v4.test.":   {loopback4},
	"v6.test.":   {loopback6},
}

// TestIPFamilyChoosesAddresses: a name with an address of each family is
// reached on the IPv4 listener with IPv4 and on the IPv6 one with IPv6, over
// every protocol; with Any, on one of them. The servers listen on 127.0.0.1
// and ::1 at the same port and note who connected.
func TestIPFamilyChoosesAddresses(t *testing.T) {
	for _, scheme := range []string{"http", "tcp", "tls", "grpc", "grpcs"} {
		t.Run(scheme, func(t *testing.T) {
			port, seen := familyServer(t, scheme)
			c := withFakeResolver(newChecker(t, nil))
			for _, tc := range []struct {
				family IPFamily
				want   []netip.Addr
			}{
				{IPFamilyIPv4, []netip.Addr{loopback4}},
				{IPFamilyIPv6, []netip.Addr{loopback6}},
				{IPFamilyAny, []netip.Addr{loopback4, loopback6}},
				{"Any", []netip.Addr{loopback4, loopback6}},
			} {
				r := c.Check(ctxFor(t), familyTarget(scheme, "dual.test", port, tc.family))
				if !r.OK() {
					t.Fatalf("%q: %s %q", tc.family, r.Reason, r.Message)
				}
				if got := recv(t, seen, "the server's connection"); !slicesContain(tc.want, got) {
					t.Errorf("%q: the server saw a connection from %s, want one of %v", tc.family, got, tc.want)
				}
			}
		})
	}
}

// TestIPFamilyNoAddress: a host without an address of the family, a literal
// or a name, fails as a DNSError with a fixed message, and nothing connects;
// the same hosts are reachable with Any. The https transports get the family
// through the check's context like http's; they resolve names with the real
// resolver, so https is shown with literals.
func TestIPFamilyNoAddress(t *testing.T) {
	for _, scheme := range []string{"http", "https", "tcp", "tls", "grpc", "grpcs"} {
		t.Run(scheme, func(t *testing.T) {
			port, seen := familyServer(t, scheme)
			c := withFakeResolver(newChecker(t, nil))
			tests := []struct {
				host    string
				family  IPFamily
				message string
			}{
				{"127.0.0.1", IPFamilyIPv6, "no IPv6 address"},
				{"[::ffff:127.0.0.1]", IPFamilyIPv6, "no IPv6 address"},
				{"[::1]", IPFamilyIPv4, "no IPv4 address"},
				{"v4.test", IPFamilyIPv6, "no IPv6 address"},
				{"v6.test", IPFamilyIPv4, "no IPv4 address"},
				{"nonexistent.test", IPFamilyIPv4, "no IPv4 address"},
			}
			for _, tc := range tests {
				if scheme == "https" && strings.HasSuffix(tc.host, ".test") {
					continue
				}
				r := c.Check(ctxFor(t), familyTarget(scheme, tc.host, port, tc.family))
				if r.Reason != ReasonDNSError || r.Message != tc.message || r.StatusCode != 0 || r.Seen != "" {
					t.Errorf("%s with %s: got {%s %d %q %q}, want {DNSError %q}", tc.host, tc.family, r.Reason, r.StatusCode, r.Seen, r.Message, tc.message)
				}
				select {
				case from := <-seen:
					t.Errorf("%s with %s: the server accepted a connection from %s", tc.host, tc.family, from)
				default:
				}
			}
			// The same hosts with Any: the listeners are there.
			for _, host := range []string{"127.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "v4.test", "v6.test"} {
				if scheme == "https" && strings.HasSuffix(host, ".test") {
					continue
				}
				if r := c.Check(ctxFor(t), familyTarget(scheme, host, port, IPFamilyAny)); !r.OK() {
					t.Errorf("%s with Any: %s %q", host, r.Reason, r.Message)
				}
				recv(t, seen, "the server's connection")
			}
		})
	}
}

// TestIPFamilyRedirectHops: every hop of a redirect connects with the
// target's family, and a hop to a host without an address of it fails the
// check as the first hop would.
func TestIPFamilyRedirectHops(t *testing.T) {
	v4, v6 := dualStackListeners(t)
	_, port, _ := net.SplitHostPort(v4.Addr().String())
	seen := make(chan netip.Addr, 16)
	serveHTTP(t, func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, "http://"+net.JoinHostPort(to, port)+"/", http.StatusFound)
		}
	}, nil, recording(v4, seen), recording(v6, seen))
	c := withFakeResolver(newChecker(t, nil))

	tests := []struct {
		name     string
		from, to string
		family   IPFamily
		reason   Reason
		message  string
		want     []netip.Addr // where the server saw the hops come from
	}{
		{"name to name, IPv4", "dual.test", "dual.test", IPFamilyIPv4, ReasonOK, "", []netip.Addr{loopback4, loopback4}},
		{"name to name, IPv6", "dual.test", "dual.test", IPFamilyIPv6, ReasonOK, "", []netip.Addr{loopback6, loopback6}},
		{"to a v6 address, IPv4", "127.0.0.1", "::1", IPFamilyIPv4, ReasonDNSError, "no IPv4 address", []netip.Addr{loopback4}},
		{"to a v4-only name, IPv6", "::1", "v4.test", IPFamilyIPv6, ReasonDNSError, "no IPv6 address", []netip.Addr{loopback6}},
		{"to a v6 address, Any", "127.0.0.1", "::1", IPFamilyAny, ReasonOK, "", []netip.Addr{loopback4, loopback6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := "http://" + net.JoinHostPort(tc.from, port) + "/?to=" + url.QueryEscape(tc.to)
			r := c.Check(ctxFor(t), Target{URL: u, IPFamily: tc.family})
			if r.Reason != tc.reason || (tc.message != "" && r.Message != tc.message) {
				t.Fatalf("got {%s %q}, want {%s %q}", r.Reason, r.Message, tc.reason, tc.message)
			}
			for i, want := range tc.want {
				if got := recv(t, seen, "a hop's connection"); got != want {
					t.Errorf("hop %d came from %s, want %s", i+1, got, want)
				}
			}
			select {
			case from := <-seen:
				t.Errorf("an extra connection from %s", from)
			default:
			}
		})
	}
}

// TestIPFamilyPolicy: the outbound policy judges the addresses of the
// check's family: denying ::1 blocks an IPv6 check of a name that also has
// 127.0.0.1, and leaves its IPv4 check alone.
func TestIPFamilyPolicy(t *testing.T) {
	port, seen := familyServer(t, "http")
	tests := []struct {
		deny   string
		family IPFamily
		reason Reason
	}{
		{"::1", IPFamilyIPv6, ReasonBlocked},
		{"::1", IPFamilyIPv4, ReasonOK},
		{"127.0.0.1", IPFamilyIPv4, ReasonBlocked},
		{"127.0.0.1", IPFamilyIPv6, ReasonOK},
	}
	for _, tc := range tests {
		c := withFakeResolver(denying(t, tc.deny))
		r := c.Check(ctxFor(t), familyTarget("http", "dual.test", port, tc.family))
		if r.Reason != tc.reason {
			t.Errorf("deny %s, %s: got {%s %q}, want %s", tc.deny, tc.family, r.Reason, r.Message, tc.reason)
		}
		if tc.reason == ReasonOK {
			recv(t, seen, "the server's connection")
		}
	}
	select {
	case from := <-seen:
		t.Errorf("a blocked check connected from %s", from)
	default:
	}
}

// TestIPFamilyValues: "Any" is IPFamilyAny; anything else unknown is an
// invalid request that connects nowhere.
func TestIPFamilyValues(t *testing.T) {
	if got := (Target{IPFamily: "Any"}).withDefaults().IPFamily; got != IPFamilyAny {
		t.Errorf(`"Any" became %q`, got)
	}
	for _, f := range []IPFamily{IPFamilyAny, IPFamilyIPv4, IPFamilyIPv6} {
		if got := (Target{IPFamily: f}).withDefaults().IPFamily; got != f {
			t.Errorf("%q became %q", f, got)
		}
	}
	srv, accepted := countingServer(t, "127.0.0.1:0")
	for _, f := range []IPFamily{"ipv4", "IPv5", "any", " IPv4"} {
		for _, u := range []string{srv.URL, "tcp://" + srv.Listener.Addr().String()} {
			r := newChecker(t, nil).Check(ctxFor(t), Target{URL: u, IPFamily: f})
			if r.Reason != ReasonNetworkError || r.Message != "invalid request: ipFamily must be Any, IPv4 or IPv6" {
				t.Errorf("%q for %s: got {%s %q}", f, u, r.Reason, r.Message)
			}
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections for invalid families", n)
	}
}

// TestNoAddressFound: the errors net.Dialer returns for a host without an
// address of the asked family, and only those, mean "no such address". The
// AddrError is net's own, so a change of its text shows here.
func TestNoAddressFound(t *testing.T) {
	var d net.Dialer
	_, goNoAddress := d.DialContext(t.Context(), "tcp6", "127.0.0.1:1")
	_, badPort := d.DialContext(t.Context(), "tcp6", "[::1]:99999")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"net's no suitable address", goNoAddress, true},
		{"not found", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.test", IsNotFound: true}}, true},
		{"invalid port", badPort, false},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "x.test", IsTimeout: true}, false},
		{"dns server failure", &net.DNSError{Err: "server misbehaving", Name: "x.test", IsTemporary: true}, false},
		{"refused", syscall.ECONNREFUSED, false},
	}
	for _, tc := range tests {
		if got := noAddressFound(tc.err); got != tc.want {
			t.Errorf("%s (%v): %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	for _, err := range []error{errNoIPv4Address, errNoIPv6Address} {
		wrapped := &url.Error{Op: "Get", URL: "http://x.test/?token=abc", Err: err}
		if got := Classify(wrapped); got != ReasonDNSError {
			t.Errorf("Classify(%v) = %s, want DNSError", err, got)
		}
	}
}

// familyTarget is a target of scheme on host:port with family, accepting
// the test servers' self-signed certificates.
func familyTarget(scheme, host, port string, family IPFamily) Target {
	if strings.HasPrefix(host, "[") {
		host = strings.Trim(host, "[]")
	}
	return Target{
		URL:                scheme + "://" + net.JoinHostPort(host, port) + "/",
		IPFamily:           family,
		InsecureSkipVerify: scheme == "https" || scheme == "tls" || scheme == "grpcs",
	}
}

func slicesContain(addrs []netip.Addr, a netip.Addr) bool {
	for _, b := range addrs {
		if a == b {
			return true
		}
	}
	return false
}

// withFakeResolver makes c's http, tcp, tls and gRPC checks resolve names
// with fakeResolver(familyZone). (https has dialers of its own, built per TLS
// setting, that keep the system's resolver.)
func withFakeResolver(c *Checker) *Checker {
	c.transports.plain.dialer.net.Resolver = fakeResolver(familyZone)
	return c
}

// dualStackListeners listens on 127.0.0.1 and ::1 at the same port until the
// test ends. It skips the test where this machine has no IPv6 loopback.
func dualStackListeners(t testing.TB) (v4, v6 net.Listener) {
	t.Helper()
	for range 20 {
		l4, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(l4.Addr().String())
		l6, err := net.Listen("tcp6", net.JoinHostPort("::1", port))
		if err == nil {
			t.Cleanup(func() { _ = l4.Close(); _ = l6.Close() })
			return l4, l6
		}
		_ = l4.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Skipf("IPv6 cases need the IPv6 loopback address ::1, which this machine cannot listen on: %v", err)
		}
	}
	t.Fatal("found no port free on both 127.0.0.1 and ::1")
	return nil, nil
}

// recordingListener sends the remote address of every connection it
// accepts to seen, or drops it if seen is full.
type recordingListener struct {
	net.Listener
	seen chan<- netip.Addr
}

func recording(l net.Listener, seen chan<- netip.Addr) net.Listener {
	return recordingListener{Listener: l, seen: seen}
}

func (l recordingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		select {
		case l.seen <- conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr():
		default:
		}
	}
	return conn, err
}

// familyServer serves scheme (http, https, tcp, tls, grpc or grpcs: for
// gRPC, the health service, SERVING) on 127.0.0.1 and ::1 at one port until
// the test ends, with a self-signed certificate for the TLS ones. It returns
// the port and a channel that receives the remote address of every
// connection accepted.
func familyServer(t testing.TB, scheme string) (string, <-chan netip.Addr) {
	t.Helper()
	v4, v6 := dualStackListeners(t)
	_, port, _ := net.SplitHostPort(v4.Addr().String())
	seen := make(chan netip.Addr, 64)
	listeners := []net.Listener{recording(v4, seen), recording(v6, seen)}
	cfg := &tls.Config{Certificates: []tls.Certificate{issue(t, nil, leafOptions{})}}

	switch scheme {
	case "http":
		serveHTTP(t, func(http.ResponseWriter, *http.Request) {}, nil, listeners...)
	case "https":
		serveHTTP(t, func(http.ResponseWriter, *http.Request) {}, cfg, listeners...)
	case "tcp", "tls":
		for _, l := range listeners {
			serveConns(t, l, func(conn net.Conn) {
				if scheme == "tls" {
					tc := tls.Server(conn, cfg)
					if tc.Handshake() == nil {
						_, _ = io.Copy(io.Discard, tc) // until the client hangs up
					}
				}
			})
		}
	case "grpc", "grpcs":
		var opts []grpc.ServerOption
		if scheme == "grpcs" {
			opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
		}
		srv := grpc.NewServer(opts...)
		healthpb.RegisterHealthServer(srv, health.NewServer())
		var wg sync.WaitGroup
		for _, l := range listeners {
			wg.Go(func() { _ = srv.Serve(l) })
		}
		t.Cleanup(func() { srv.Stop(); wg.Wait() })
	default:
		t.Fatalf("no server for %s", scheme)
	}
	return port, seen
}

// serveHTTP serves h on listeners, over TLS with cfg if set, until the test
// ends.
func serveHTTP(t testing.TB, h http.HandlerFunc, cfg *tls.Config, listeners ...net.Listener) {
	t.Helper()
	srv := &http.Server{Handler: h, ErrorLog: quietLog, TLSConfig: cfg, ReadHeaderTimeout: waitLimit}
	var wg sync.WaitGroup
	for _, l := range listeners {
		wg.Go(func() {
			if cfg != nil {
				_ = srv.ServeTLS(l, "", "")
				return
			}
			_ = srv.Serve(l)
		})
	}
	t.Cleanup(func() { _ = srv.Close(); wg.Wait() })
}

// serveConns runs serve for every connection l accepts, closing it after,
// until the test ends, when it waits for every serve to return.
func serveConns(t testing.TB, l net.Listener, serve func(net.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(waitLimit))
				serve(conn)
			})
		}
	})
	t.Cleanup(func() { _ = l.Close(); wg.Wait() })
}

// fakeResolver is a Go resolver that asks zone instead of the network. A
// name of zone (fully qualified: "dual.test.") has exactly the addresses
// listed, and no records of the other family, as a real server answers;
// every other name does not exist. The hosts file is read first, as always.
func fakeResolver(zone map[string][]netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go answerDNS(server, zone)
		return client, nil
	}}
}

// answerDNS answers one DNS query on a stream connection (each message after
// its two-byte length, as over TCP: the resolver frames messages so on any
// connection that is not a net.PacketConn).
func answerDNS(conn net.Conn, zone map[string][]netip.Addr) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	var n [2]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		return
	}
	query := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(conn, query); err != nil {
		return
	}
	answer := dnsAnswer(query, zone)
	if answer == nil {
		return
	}
	_, _ = conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(answer))), answer...))
}

// dnsAnswer is the answer to query (RFC 1035): the addresses of zone of the
// type asked for, NXDOMAIN for a name zone lacks; nil for a message it cannot
// read.
func dnsAnswer(query []byte, zone map[string][]netip.Addr) []byte {
	const (
		headerLen         = 12
		typeA, typeAAAA   = 1, 28
		classIN           = 1
		flagResponse      = 0x8000
		flagAuthoritative = 0x0400
		flagRecursionAsk  = 0x0100
		flagRecursionOK   = 0x0080
		rcodeNXDomain     = 3
	)
	if len(query) < headerLen {
		return nil
	}
	// The question: the name as length-prefixed labels, then type and class.
	var labels []string
	i := headerLen
	for i < len(query) && query[i] != 0 {
		end := i + 1 + int(query[i])
		if end > len(query) {
			return nil
		}
		labels = append(labels, string(query[i+1:end]))
		i = end
	}
	questionEnd := i + 1 + 4
	if questionEnd > len(query) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(query[i+1:])
	addrs, known := zone[strings.ToLower(strings.Join(labels, "."))+"."]

	var records [][]byte
	for _, a := range addrs {
		if (qtype == typeA && a.Is4()) || (qtype == typeAAAA && a.Is6()) {
			records = append(records, a.AsSlice())
		}
	}
	flags := uint16(flagResponse|flagAuthoritative|flagRecursionOK) | binary.BigEndian.Uint16(query[2:])&flagRecursionAsk
	if !known {
		flags |= rcodeNXDomain
	}
	out := append([]byte(nil), query[:2]...) // the query's ID
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1) // the question
	out = binary.BigEndian.AppendUint16(out, uint16(len(records)))
	out = binary.BigEndian.AppendUint32(out, 0) // no authority, no additional records
	out = append(out, query[headerLen:questionEnd]...)
	for _, r := range records {
		out = append(out, 0xc0, headerLen) // the name: a pointer to the question's
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, classIN)
		out = binary.BigEndian.AppendUint32(out, 60) // TTL
		out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
		out = append(out, r...)
	}
	return out
}
