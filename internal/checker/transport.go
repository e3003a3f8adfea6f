package checker

import (
	"crypto/tls"
	"errors"
	"net/http"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// Transport limits. Per-request deadlines come from Target.Timeout via the
// request context; these only stop a single phase from hogging a whole long
// deadline and keep a hostile server from making us buffer a lot.
const (
	dialTimeout            = 10 * time.Second
	tlsHandshakeTimeout    = 10 * time.Second
	maxResponseHeaderBytes = 64 << 10
	maxRedirects           = 10
)

// NewTransport returns a transport configured like the ones probes use, with
// the default outbound policy and TLS settings.
func NewTransport() *http.Transport {
	return NewTransportWithPolicy(netpolicy.Default())
}

// NewTransportWithPolicy returns a probe-like transport that enforces policy, for
// other user-supplied destinations such as notification webhooks.
func NewTransportWithPolicy(policy *netpolicy.Policy) *http.Transport {
	return newTransport(policy, defaultTLSConfig())
}

// defaultTLSConfig offers HTTP/2 and HTTP/1.1, as net/http would: dialTLS
// negotiates the protocol itself.
func defaultTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}

// newTransport is the single place where pooled probe transports are
// configured: probes use them for https:// (http:// goes through a
// singleUseTransport with the same dialer settings), notifications for both.
//
//   - Its dialer applies policy to every resolved address before connecting,
//     so DNS rebinding and redirects cannot get around it, and never outlives
//     the check it dials for (see dialer and withCheck).
//   - Proxy is nil: HTTP(S)_PROXY from the operator's environment must not
//     reroute probes, and a proxy would hide the real destination from policy.
//   - DisableKeepAlives: every check gets a fresh connection, closed when the
//     check ends, so file descriptors never outlive checks. It also means
//     net/http never reads an idle connection: bytes a server sent on one
//     would be logged, quoted ("Unsolicited response received on idle HTTP
//     channel starting with ..."), through the standard logger, which cannot
//     be set per transport. writeFirstConn closes the other way into that
//     log, a server talking first. HTTP/2 may log protocol errors, never
//     server bytes.
//   - DisableCompression: we never ask for gzip, so a compressed "bomb" is
//     never inflated (and we read at most a few KiB of any body anyway).
//   - MaxResponseHeaderBytes bounds memory spent on hostile headers.
func newTransport(policy *netpolicy.Policy, tlsConfig *tls.Config) *http.Transport {
	d := newDialer(policy, tlsConfig)
	return &http.Transport{
		Proxy:          nil,
		DialContext:    d.dial,
		DialTLSContext: d.dialTLS,
		// dialTLS does the handshake, so TLSClientConfig and
		// TLSHandshakeTimeout are not used; they are set to show the config.
		TLSClientConfig:        tlsConfig.Clone(),
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ForceAttemptHTTP2:      true,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ExpectContinueTimeout:  time.Second,
	}
}

// errTooManyRedirects is returned by the redirect policy after maxRedirects hops.
var errTooManyRedirects = errors.New("stopped after 10 redirects")

// probeClients are the two clients of one round tripper, built once: one
// follows redirects, the other stops at the first answer. A client is
// stateless, so checks share them. No Client.Timeout: each request carries
// its own context deadline. These clients are separate from any Kubernetes
// client, so nothing they send can carry the operator's credentials.
type probeClients struct {
	follow, noFollow *http.Client
}

func newProbeClients(rt http.RoundTripper) probeClients {
	return probeClients{
		follow:   &http.Client{Transport: rt, CheckRedirect: checkRedirect},
		noFollow: &http.Client{Transport: rt, CheckRedirect: useLastResponse},
	}
}

// forTarget returns the client with t's redirect policy.
func (p probeClients) forTarget(t Target) *http.Client {
	if t.NoFollowRedirects {
		return p.noFollow
	}
	return p.follow
}

// useLastResponse is the redirect policy of NoFollowRedirects.
func useLastResponse(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// checkRedirect follows up to maxRedirects hops; each new hop is dialled, and
// so checked against the outbound policy, like the first request. It also
// never sends a Referer (it would carry the previous URL, query tokens
// included) and drops all configured headers when a redirect leaves the
// original origin or downgrades from https to http: net/http only strips
// Authorization and Cookie, but any configured header (X-Api-Key, ...) may
// hold a Secret's value.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errTooManyRedirects
	}
	req.Header.Del("Referer")
	orig := via[0].URL
	sameOrigin := req.URL.Host == orig.Host &&
		(req.URL.Scheme == orig.Scheme || req.URL.Scheme == "https") // http->https upgrade is fine
	if !sameOrigin {
		ua := req.Header.Get("User-Agent")
		req.Header = make(http.Header)
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
	}
	return nil
}
