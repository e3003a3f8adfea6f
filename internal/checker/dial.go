package checker

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
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

func newDialer(policy *netpolicy.Policy, tlsConfig *tls.Config) *dialer {
	return &dialer{
		net: net.Dialer{Timeout: dialTimeout, Control: policy.Control},
		tls: tlsConfig,
	}
}

// checkKey is the context key under which withCheck stores a check's context.
type checkKey struct{}

// withCheck returns ctx carrying itself, for the dialer. net/http detaches a
// dial from the request's cancellation so that a late connection can serve
// another request, keeping only the context's values. Probe connections are
// never reused, so a dial must not outlive its check: the dialer finds the
// check's context here and stops when it ends.
func withCheck(ctx context.Context) context.Context {
	return context.WithValue(ctx, checkKey{}, ctx)
}

// boundToCheck returns a context that also ends when the check that started
// the dial (see withCheck) ends.
func boundToCheck(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	check, ok := ctx.Value(checkKey{}).(context.Context)
	if !ok {
		return ctx, cancel
	}
	stop := context.AfterFunc(check, cancel)
	return ctx, func() { stop(); cancel() }
}

// dial is the transport's DialContext, used for http:// URLs.
func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := boundToCheck(ctx)
	defer cancel()
	conn, err := d.net.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return newWriteFirstConn(conn), nil
}

// dialTLS is the transport's DialTLSContext, used for https:// URLs. It does
// the handshake net/http would do, so that an HTTP/1 connection can be
// wrapped after it. An HTTP/2 connection is returned as the *tls.Conn that
// net/http needs to recognise it; HTTP/2 frames its traffic and never logs
// what a server sends.
func (d *dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := boundToCheck(ctx)
	defer cancel()
	conn, err := d.net.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := d.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	tlsConn := tls.Client(conn, cfg)
	hsCtx, hsCancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer hsCancel()
	if err := tlsConn.HandshakeContext(hsCtx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	recordTLS(ctx, tlsConn.ConnectionState())
	if tlsConn.ConnectionState().NegotiatedProtocol == "h2" {
		return tlsConn, nil
	}
	return newWriteFirstConn(tlsConn), nil
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

// tlsSeen records the leaf certificate's expiry of a check's TLS connections.
// net/http keeps a dial context's values, so the dialer finds it there.
type tlsSeen struct {
	mu       sync.Mutex
	notAfter time.Time
}

type tlsSeenKey struct{}

func withTLSSeen(ctx context.Context, seen *tlsSeen) context.Context {
	return context.WithValue(ctx, tlsSeenKey{}, seen)
}

// recordTLS notes the peer's leaf certificate; the last connection (after
// redirects, the final host's) wins.
func recordTLS(ctx context.Context, state tls.ConnectionState) {
	seen, ok := ctx.Value(tlsSeenKey{}).(*tlsSeen)
	if !ok || len(state.PeerCertificates) == 0 {
		return
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	seen.notAfter = state.PeerCertificates[0].NotAfter
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
