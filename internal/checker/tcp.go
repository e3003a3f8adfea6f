package checker

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"time"
)

// checkTCP checks that e accepts TCP connections: connect, then close. The
// dial is the policy-checking dialer's, on this goroutine, and ends with
// reqCtx.
func (c *Checker) checkTCP(ctx, reqCtx context.Context, t Target, e endpoint, res *Result) {
	conn, err := e.plan.dial(reqCtx, &c.transports.plain.dialer.net, e.addr)
	res.Latency = c.clock.Since(res.CheckedAt)
	if err != nil {
		res.Reason, res.Message = failure(ctx, reqCtx, err, t, res.Latency)
		return
	}
	_ = conn.Close()
	res.Seen = seenOpen
	var answer *Response
	if t.Assertions != nil {
		answer = &Response{}
	}
	concludeAnswer(reqCtx, t, res, "connected", answer)
}

// checkTLS checks that e completes a TLS handshake verified like an https
// target's (same configuration, server name = host), then closes. It offers
// no application protocol (ALPN): the server's own is none of its business.
func (c *Checker) checkTLS(ctx, reqCtx context.Context, t Target, e endpoint, res *Result) {
	tr, err := c.transports.get(t)
	if err != nil {
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+err.Error()
		return
	}
	cfg := tr.config.Clone()
	cfg.NextProtos = nil
	if cfg.ServerName == "" {
		cfg.ServerName = e.host
	}
	// Present the configured certificate as crypto/tls would, noting whether
	// the server asked for one: see awaitVerdict.
	certs := cfg.Certificates
	asked := false
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = true
		for i := range certs {
			if cri.SupportsCertificate(&certs[i]) == nil {
				return &certs[i], nil
			}
		}
		return new(tls.Certificate), nil
	}

	conn, err := e.plan.dial(reqCtx, &c.transports.plain.dialer.net, e.addr)
	if err != nil {
		res.Latency = c.clock.Since(res.CheckedAt)
		res.Reason, res.Message = failure(ctx, reqCtx, err, t, res.Latency)
		return
	}
	defer func() { _ = conn.Close() }()
	tc := tls.Client(conn, cfg)
	hsCtx, hsCancel := context.WithTimeout(reqCtx, tlsHandshakeTimeout)
	err = tc.HandshakeContext(hsCtx)
	hsCancel()
	state := tc.ConnectionState()
	if err == nil && asked && state.Version >= tls.VersionTLS13 {
		err = awaitVerdict(reqCtx, tc)
	}
	res.Latency = c.clock.Since(res.CheckedAt)
	if state.HandshakeComplete && len(state.PeerCertificates) > 0 {
		notAfter := state.PeerCertificates[0].NotAfter
		res.CertificateExpiresAt = &notAfter
	}
	if err != nil {
		res.Reason, res.Message = failure(ctx, reqCtx, err, t, res.Latency)
		return
	}
	res.Seen = seenTLS
	var answer *Response
	if t.Assertions != nil {
		answer = &Response{TLS: tlsStateOf(&state)}
	}
	concludeAnswer(reqCtx, t, res, "TLS handshake", answer)
}

// awaitVerdict learns whether a TLS 1.3 server that asked for a client
// certificate accepted the one sent (or its absence).
//
// In TLS 1.3 the client's side of the handshake ends before the server has
// looked at the client's certificate; a server that rejects it says so with an
// alert just after, and one that accepts says nothing. To hear either without
// waiting for data that may never come, the client announces it will send
// nothing more (close_notify): a server that accepted then closes too (or
// answers), while one that rejected has already sent its alert, which arrives
// first. Only a server that accepts and then ignores close_notify keeps the
// check waiting, until its deadline.
func awaitVerdict(ctx context.Context, tc *tls.Conn) error {
	stop := context.AfterFunc(ctx, func() { _ = tc.NetConn().SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// A failed write means the server is gone already; the read says why.
	_ = tc.CloseWrite()
	var b [1]byte
	_, err := tc.Read(b[:])
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case isTLSError(err):
		return err
	}
	// The server hung up without an alert: no verdict against us.
	return nil
}
