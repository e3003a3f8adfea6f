package checker

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// dialer makes the connections of one probe transport: every resolved
// address is checked against the policy before connecting, and HTTP/1
// connections are wrapped in writeFirstConn.
type dialer struct {
	net net.Dialer
	tls *tls.Config
}

// newDialer returns a dialer that applies policy, with TCP keep-alive off:
// every connection it makes is single-use and lives at most one check (or one
// notification), so probes would be sent only on a connection idle for 15 s,
// and would find a dead peer only after 150 s. A check that waits that long
// on a dead peer now ends at its own deadline, a Timeout, instead of as a
// network error; keep-alive would cost four setsockopt calls per connection.
func newDialer(policy *netpolicy.Policy, tlsConfig *tls.Config) *dialer {
	return &dialer{
		net: net.Dialer{Timeout: dialTimeout, KeepAlive: -1, Control: policy.Control},
		tls: tlsConfig,
	}
}

// checkKey is the context key under which withCheck stores a checkScope.
type checkKey struct{}

// checkScope is what the dialers of one http or https check find in its
// context: the check's own context, and what its TLS connections saw. One
// value, so that a check pays one allocation for both.
type checkScope struct {
	ctx  context.Context
	seen tlsSeen
}

// withCheck returns ctx carrying itself, for the dialer, and what the
// check's TLS connections will have seen. net/http detaches a dial from the
// request's cancellation so that a late connection can serve another
// request, keeping only the context's values. Probe connections are never
// reused, so a dial must not outlive its check: the dialer finds the check's
// context here and stops when it ends.
func withCheck(ctx context.Context) (context.Context, *tlsSeen) {
	scope := &checkScope{ctx: ctx}
	return context.WithValue(ctx, checkKey{}, scope), &scope.seen
}

// scopeOf is the checkScope withCheck stored in ctx, nil if none.
func scopeOf(ctx context.Context) *checkScope {
	scope, _ := ctx.Value(checkKey{}).(*checkScope)
	return scope
}

// boundToCheck returns a context that also ends when the check that started
// the dial (see withCheck) ends.
func boundToCheck(ctx context.Context) (context.Context, context.CancelFunc) {
	scope := scopeOf(ctx)
	if scope == nil {
		return context.WithCancel(ctx)
	}
	return bindTo(ctx, scope.ctx)
}

// bindTo returns a context that ends with ctx or with check, whichever ends
// first.
func bindTo(ctx, check context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(check, cancel)
	return ctx, func() { stop(); cancel() }
}

// dial is the transport's DialContext, used for http:// URLs. net/http
// always asks for "tcp"; the check's plan (see withPlan) decides.
func (d *dialer) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	ctx, cancel := boundToCheck(ctx)
	defer cancel()
	conn, err := planOf(ctx).dial(ctx, &d.net, addr)
	if err != nil {
		return nil, err
	}
	return newWriteFirstConn(conn), nil
}

// dialTLS is the transport's DialTLSContext, used for https:// URLs. It does
// the handshake net/http would do, so that an HTTP/1 connection can be
// wrapped after it. An HTTP/2 connection is returned as the *tls.Conn that
// net/http needs to recognise it; HTTP/2 frames its traffic and never logs
// what a server sends. Like dial, it connects as the check's plan says; the
// server name stays the URL's host whatever address that is.
func (d *dialer) dialTLS(ctx context.Context, _, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := boundToCheck(ctx)
	defer cancel()
	conn, err := planOf(ctx).dial(ctx, &d.net, addr)
	if err != nil {
		return nil, err
	}
	cfg := d.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	// One allocation for both wrappers (HTTP/1 needs both, HTTP/2 the first).
	wrapped := &tlsProbeConn{below: resetTolerantConn{Conn: conn}}
	tlsConn := tls.Client(&wrapped.below, cfg)
	hsCtx, hsCancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer hsCancel()
	if err := tlsConn.HandshakeContext(hsCtx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	state := tlsConn.ConnectionState()
	recordTLS(ctx, state)
	if state.NegotiatedProtocol == "h2" {
		recordH2(ctx, tlsConn)
		return tlsConn, nil
	}
	wrapped.above = writeFirstConn{Conn: tlsConn, wrote: make(chan struct{})}
	return &wrapped.above, nil
}

// tlsProbeConn holds the wrappers of an https connection: below TLS a
// resetTolerantConn, above it, for HTTP/1, a writeFirstConn.
type tlsProbeConn struct {
	below resetTolerantConn
	above writeFirstConn
}

// resetTolerantConn hides the write errors of a connection the server has
// reset, so that the reader still finds what the server sent before.
//
// A server that refuses a client often says why and hangs up at once: a TLS
// 1.3 server that rejects the client's certificate sends its alert just after
// the client's side of the handshake ended; an HTTP/1 server sends an error
// page. A write that arrives after that is answered with a reset, and the
// next write fails. HTTP/2 clients (net/http's and grpc's) then close the
// connection, often before their reader got to the server's last word, which
// is still waiting in the socket: the check would report a network error
// instead of, say, the TLS alert. A write reported as done instead lets the
// reader find that last word, then the connection's end, at once. Only resets
// are hidden; other write errors, and reads, pass through.
type resetTolerantConn struct{ net.Conn }

func (c *resetTolerantConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return len(p), nil
	}
	return n, err
}

// writeFirstConn holds back reads until the first write has begun.
//
// net/http's HTTP/1 client reads a connection from the moment it has it.
// Bytes that arrive before it has noted the request it is about to write are
// "unsolicited": it fails the request and logs the bytes, quoted, through the
// standard logger, which cannot be set per transport. A server that talks
// first wins that race often on a busy machine. In HTTP/1 the client always
// speaks first, so holding reads back delays nothing legitimate.
type writeFirstConn struct {
	net.Conn
	once  sync.Once
	wrote chan struct{} // closed by the first Write or by Close
}

func newWriteFirstConn(c net.Conn) *writeFirstConn {
	return &writeFirstConn{Conn: c, wrote: make(chan struct{})}
}

func (c *writeFirstConn) open() { c.once.Do(func() { close(c.wrote) }) }

// Read waits for the first Write or Close, then reads.
func (c *writeFirstConn) Read(p []byte) (int, error) {
	<-c.wrote
	return c.Conn.Read(p)
}

// Write lets reads through, then writes.
func (c *writeFirstConn) Write(p []byte) (int, error) {
	c.open()
	return c.Conn.Write(p)
}

// Close lets blocked reads through (they then fail) and closes.
func (c *writeFirstConn) Close() error {
	c.open()
	return c.Conn.Close()
}

// NetConn returns the wrapped connection, like tls.Conn.NetConn.
func (c *writeFirstConn) NetConn() net.Conn { return c.Conn }

// tlsSeen records the leaf certificate's expiry and the version of a check's
// TLS connections. net/http keeps a dial context's values, so the dialer finds
// it there (see withCheck).
type tlsSeen struct {
	mu       sync.Mutex
	notAfter time.Time
	version  uint16
	// h2 is the last HTTP/2 connection, for h2Failure.
	h2 *tls.Conn
}

// recordTLS notes the peer's leaf certificate; the last connection (after
// redirects, the final host's) wins.
func recordTLS(ctx context.Context, state tls.ConnectionState) {
	scope := scopeOf(ctx)
	if scope == nil || len(state.PeerCertificates) == 0 {
		return
	}
	seen := &scope.seen
	seen.mu.Lock()
	defer seen.mu.Unlock()
	seen.notAfter = state.PeerCertificates[0].NotAfter
	seen.version = state.Version
}

// recordH2 notes the check's HTTP/2 connection.
func recordH2(ctx context.Context, conn *tls.Conn) {
	scope := scopeOf(ctx)
	if scope == nil {
		return
	}
	seen := &scope.seen
	seen.mu.Lock()
	defer seen.mu.Unlock()
	seen.h2 = conn
}

// h2Failure is the error that ended the check's HTTP/2 connection, if any;
// call it only once the request failed. net/http does not always return it:
// a connection that fails before its first request got a stream, as when a
// TLS 1.3 server refuses the client's certificate with an alert just after the
// handshake, yields only "http2: client conn could not be established".
// crypto/tls keeps a connection's read error and returns it to every later
// Read, so one more Read, which the deadline stops at once if there is none,
// finds it.
func (s *tlsSeen) h2Failure() error {
	s.mu.Lock()
	conn := s.h2
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	_ = conn.SetReadDeadline(time.Unix(1, 0))
	var b [1]byte
	_, err := conn.Read(b[:])
	return err
}

// expiry is the certificate expiry the check saw: from the response's TLS state
// when net/http kept it, else from what the dialer recorded.
func (s *tlsSeen) expiry(resp *http.Response) *time.Time {
	if resp != nil && resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		t := resp.TLS.PeerCertificates[0].NotAfter
		return &t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notAfter.IsZero() {
		return nil
	}
	t := s.notAfter
	return &t
}

// state is the TLS connection the answer came on, for assertions: nil when
// the final request was plain http.
func (s *tlsSeen) state(resp *http.Response) *TLSState {
	if resp.Request != nil && resp.Request.URL != nil && resp.Request.URL.Scheme == "http" {
		return nil
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		return &TLSState{NotAfter: resp.TLS.PeerCertificates[0].NotAfter, Version: tlsVersionName(resp.TLS.Version)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notAfter.IsZero() {
		return nil
	}
	return &TLSState{NotAfter: s.notAfter, Version: tlsVersionName(s.version)}
}

// tlsStateOf is what assertions see of a handshake's result.
func tlsStateOf(state *tls.ConnectionState) *TLSState {
	if state == nil || len(state.PeerCertificates) == 0 {
		return nil
	}
	return &TLSState{NotAfter: state.PeerCertificates[0].NotAfter, Version: tlsVersionName(state.Version)}
}

// tlsVersionName names a TLS version as assertions see it: "TLS1.3".
func tlsVersionName(v uint16) string {
	return strings.ReplaceAll(tls.VersionName(v), " ", "")
}
