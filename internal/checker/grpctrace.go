package checker

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/stats"
)

// errNotGRPC is the cause of a gRPC check on a server that does not speak
// HTTP/2: it answered with something else, or, over TLS, did not agree to
// HTTP/2 (ALPN "h2"), which gRPC requires.
var errNotGRPC = errors.New("not a gRPC server")

// requireHTTP2 is a grpcs handshake's VerifyConnection: it fails the handshake
// of a TLS server that did not agree to speak HTTP/2 with errNotGRPC, which
// the check can tell from a TLS failure (grpc's own check fails it with an
// error that only its text describes).
func requireHTTP2(cs tls.ConnectionState) error {
	if cs.NegotiatedProtocol != "h2" {
		return errNotGRPC
	}
	return nil
}

// http2FrameSettings is the type of the frame an HTTP/2 server must send first.
const http2FrameSettings = 0x4

// grpcTrace records what one gRPC check's connection went through: the dial's
// error, the handshake's outcome, and how the server's first bytes and the
// connection's end looked. grpc reports all of that as Unavailable, with the
// detail only in its error text; the trace gives the check the real cause.
type grpcTrace struct {
	mu           sync.Mutex
	dialErr      error
	handshakeErr error
	tls          *TLSState
	// head holds up to the first 4 bytes the server sent, where an HTTP/2
	// frame header has its type; n counts them. The bytes go nowhere else.
	head    [4]byte
	n       int
	readErr error
	// answered is set when gRPC response headers or trailers arrived, that
	// is an HTTP/2 response with a gRPC content type.
	answered bool
}

func (t *grpcTrace) dialed(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dialErr = err
}

func (t *grpcTrace) handshaken(info credentials.AuthInfo, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handshakeErr = err
	if ti, ok := info.(credentials.TLSInfo); ok && err == nil {
		t.tls = tlsStateOf(&ti.State)
	}
}

func (t *grpcTrace) read(b []byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n < len(t.head) {
		t.n += copy(t.head[t.n:], b)
	}
	if err != nil && t.readErr == nil {
		t.readErr = err
	}
}

func (t *grpcTrace) grpcAnswered() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.answered
}

// tlsState is the grpcs handshake's outcome; nil for grpc and failed handshakes.
func (t *grpcTrace) tlsState() *TLSState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tls
}

// cause is the first thing that went wrong below gRPC, nil if nothing did:
// the dial's error, the handshake's, errNotGRPC when the server's first bytes
// were not an HTTP/2 frame of type SETTINGS, or the connection's read error.
func (t *grpcTrace) cause() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.dialErr != nil:
		return t.dialErr
	case t.handshakeErr != nil:
		return t.handshakeErr
	case t.n == len(t.head) && t.head[3] != http2FrameSettings,
		t.n > 0 && t.n < len(t.head) && t.readErr != nil:
		return errNotGRPC
	}
	return t.readErr
}

// grpcDialer returns the dialer of one gRPC check: the policy-checking one of
// every probe, bound to the check, so that neither the dial nor the
// connection outlives it whatever grpc does, and connects as plan says. It
// records a failed dial's error in trace, and hides resets from grpc's writes
// (see resetTolerantConn).
func (c *Checker) grpcDialer(check context.Context, plan dialPlan, trace *grpcTrace) func(context.Context, string) (net.Conn, error) {
	d := &c.transports.plain.dialer.net
	return func(ctx context.Context, addr string) (net.Conn, error) {
		ctx, cancel := bindTo(ctx, check)
		defer cancel()
		conn, err := plan.dial(ctx, d, addr)
		if err != nil {
			trace.dialed(err)
			return nil, err
		}
		context.AfterFunc(check, func() { _ = conn.Close() })
		return &resetTolerantConn{Conn: conn}, nil
	}
}

// tracedCreds are a check's transport credentials (TLS or none) that record
// the handshake's outcome in trace and trace the connection's reads.
type tracedCreds struct {
	credentials.TransportCredentials
	trace *grpcTrace
}

// ClientHandshake implements credentials.TransportCredentials.
func (c *tracedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	c.trace.handshaken(info, err)
	if err != nil {
		return nil, nil, err
	}
	return &tracedConn{Conn: conn, trace: c.trace}, info, nil
}

// Clone implements credentials.TransportCredentials.
func (c *tracedCreds) Clone() credentials.TransportCredentials {
	return &tracedCreds{TransportCredentials: c.TransportCredentials.Clone(), trace: c.trace}
}

// tracedConn is the connection grpc speaks HTTP/2 on (inside TLS for grpcs),
// noting its first bytes and first read error in trace.
type tracedConn struct {
	net.Conn
	trace *grpcTrace
}

func (c *tracedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.trace.read(p[:n], err)
	return n, err
}

// tracedStats notes in trace when a gRPC answer arrived. grpc reports them
// only for responses with a gRPC content type: an HTTP/2 server that is not a
// gRPC one gets a code made up from its HTTP status instead.
type tracedStats struct{ trace *grpcTrace }

func (s tracedStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (s tracedStats) HandleRPC(_ context.Context, st stats.RPCStats) {
	switch st.(type) {
	case *stats.InHeader, *stats.InTrailer:
		s.trace.mu.Lock()
		defer s.trace.mu.Unlock()
		s.trace.answered = true
	}
}

func (s tracedStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (s tracedStats) HandleConn(context.Context, stats.ConnStats) {}
