package checker

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxInformationalResponses bounds the 1xx answers (103 Early Hints and the
// like) skipped before the real one, as net/http's Transport does.
const maxInformationalResponses = 5

// errTooManyInformational is returned when a server answers with more than
// maxInformationalResponses 1xx responses.
var errTooManyInformational = errors.New("too many 1xx informational responses")

// singleUseTransport performs an http:// request on a connection of its own,
// on the caller's goroutine: dial, write the request, read the answer, close.
//
// A probe never reuses a connection (see newTransport), so net/http's pooled
// Transport would only add its machinery to each check: a dialing goroutine,
// a reading and a writing goroutine per connection, and a hand-off between
// them at every step. On a loaded node each hand-off waits for a CPU, and the
// wait is counted in the check's latency. Here the goroutine that measures
// the latency does all the work. The HTTP itself is net/http's: the request
// is written by http.Request.Write and the answer parsed by http.ReadResponse,
// through pooled buffers. Writing the request each time costs about 2.5% of
// a check's CPU (most of it is the kernel's, for the fresh connection), too
// little to be worth caching each target's request bytes.
//
// It keeps the guarantees of the pooled transport: connections are dialled
// through the policy-checking dialer, the context's end closes the connection
// at once, response headers are bounded by maxResponseHeaderBytes, and
// nothing is ever read from the server before the request has been written
// (so nothing a server sends can end up in a log).
type singleUseTransport struct {
	dialer *dialer
}

// RoundTrip implements http.RoundTripper for http:// URLs.
func (t *singleUseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return nil, errors.New("single-use transport: scheme must be http")
	}
	ctx := req.Context()
	conn, err := planOf(ctx).dial(ctx, &t.dialer.net, hostPort(req.URL))
	if err != nil {
		return nil, err
	}
	// Once the check ends, every blocked read or write returns at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	abort := func(err error) (*http.Response, error) {
		stop()
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	// A shallow copy, because a RoundTripper must not modify its request:
	// Close asks the server to close the connection after its answer.
	out := *req
	out.Close = true
	if err := writeRequest(conn, &out); err != nil {
		return abort(err)
	}

	// One allocation for what lives as long as the connection.
	body := &singleUseBody{limited: limitedConn{Conn: conn}, stop: stop}
	body.br = getReader(&body.limited)
	resp, err := readFinalResponse(body.br, &body.limited, req)
	if err != nil {
		putReader(body.br)
		return abort(err)
	}
	body.limited.limit = math.MaxInt64 // the body is bounded by whoever reads it
	body.Reader = resp.Body
	resp.Body = body
	return resp, nil
}

// Buffers of single-use connections, reused across checks: a check needs a
// writer only while it writes its request and a reader until its body is
// closed, and each would otherwise be a new 4 KiB allocation per check.
var (
	writers = sync.Pool{New: func() any { return bufio.NewWriter(nil) }}
	readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}
)

// writeRequest writes req to conn through a pooled buffer. http.Request.Write
// would allocate a buffer of its own, as conn is no io.ByteWriter.
func writeRequest(conn net.Conn, req *http.Request) error {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(conn)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writers.Put(bw)
	return err
}

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putReader returns br to the pool. What it buffered stays in memory until
// another check overwrites it; it is never read again, because nothing that
// reads br outlives the call (see singleUseBody).
func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readers.Put(br)
}

// readFinalResponse reads the response to req, skipping up to
// maxInformationalResponses 1xx answers (a 101 is final), with at most
// maxResponseHeaderBytes of headers for each.
func readFinalResponse(br *bufio.Reader, limited *limitedConn, req *http.Request) (*http.Response, error) {
	for range maxInformationalResponses + 1 {
		limited.limit = maxResponseHeaderBytes
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			if limited.limit <= 0 {
				return nil, errHeadersTooLarge
			}
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		// A 1xx has no body; the real answer follows.
	}
	return nil, errTooManyInformational
}

// errHeadersTooLarge is returned when the response headers exceed
// maxResponseHeaderBytes.
var errHeadersTooLarge = errors.New("server response headers exceeded the limit")

// limitedConn lets at most limit more bytes be read from the connection, so a
// server cannot make the header parser buffer without end.
type limitedConn struct {
	net.Conn
	limit int64
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, errHeadersTooLarge
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.Conn.Read(p)
	c.limit -= int64(n)
	return n, err
}

// errBodyClosed is returned by a read of a closed singleUseBody.
var errBodyClosed = errors.New("http: read on closed response body")

// singleUseBody is the body of a single-use connection, and the connection's
// state: it closes the connection with the body. It never closes the body
// net/http parsed: that would read the rest of it, and an endless body has no
// rest. Closing the connection is all there is to do.
//
// Closing also returns the pooled reader br to its pool, so nothing may read
// br afterwards: reads hold mu, and Close takes it after closing the
// connection, which ends a blocked read at once; a read after Close fails.
type singleUseBody struct {
	io.Reader // the body net/http parsed, reading from br
	limited   limitedConn
	br        *bufio.Reader
	stop      func() bool

	mu     sync.Mutex
	closed bool
}

func (b *singleUseBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	return b.Reader.Read(p)
}

func (b *singleUseBody) Close() error {
	b.stop()
	err := b.limited.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return err
	}
	b.closed = true
	putReader(b.br)
	b.br, b.Reader = nil, nil
	return err
}

// hostPort is the address to dial for an http:// URL: u.Host itself when it
// already is one (a name or IPv4 address and a port), which spares a string
// per check.
func hostPort(u *url.URL) string {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	} else if len(u.Host) == len(host)+1+len(port) && !strings.Contains(host, ":") {
		return u.Host
	}
	return net.JoinHostPort(host, port)
}

// probeTransport sends http:// requests through a singleUseTransport and
// https:// ones through a pooled transport with keep-alives off, where the
// TLS handshake, and HTTP/2 when the server offers it, are net/http's. A
// redirect from one scheme to the other changes transport, not settings.
type probeTransport struct {
	plain *singleUseTransport
	tls   *http.Transport
	// config is the TLS configuration tls dials with. tls:// and grpcs://
	// checks clone it, so every protocol verifies a server, and presents a
	// client certificate, the same way. Never modified.
	config *tls.Config
	// clients send their requests through this transport.
	clients probeClients
}

// RoundTrip implements http.RoundTripper.
func (t *probeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		return t.plain.RoundTrip(req)
	}
	return t.tls.RoundTrip(req)
}
