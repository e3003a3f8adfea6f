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
// is written by http.Request.Write and the answer parsed by http.ReadResponse.
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
	conn, err := planOf(ctx).dial(ctx, &t.dialer.net, hostPort(req))
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
	if err := out.Write(conn); err != nil {
		return abort(err)
	}

	limited := &limitedConn{Conn: conn}
	br := bufio.NewReader(limited)
	resp, err := readFinalResponse(br, limited, req)
	if err != nil {
		return abort(err)
	}
	limited.limit = math.MaxInt64 // the body is bounded by whoever reads it
	resp.Body = &singleUseBody{Reader: resp.Body, conn: conn, stop: stop}
	return resp, nil
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

// singleUseBody closes the connection with the body. It never closes the
// body net/http parsed: that would read the rest of it, and an endless body
// has no rest. Closing the connection is all there is to do.
type singleUseBody struct {
	io.Reader
	conn net.Conn
	stop func() bool
}

func (b *singleUseBody) Close() error {
	b.stop()
	return b.conn.Close()
}

// hostPort is the address to dial for an http:// request.
func hostPort(req *http.Request) string {
	port := req.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(req.URL.Hostname(), port)
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
}

// RoundTrip implements http.RoundTripper.
func (t *probeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		return t.plain.RoundTrip(req)
	}
	return t.tls.RoundTrip(req)
}
