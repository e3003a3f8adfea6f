package checker

import (
	"crypto/tls"
	"errors"
	"net"
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
	return newTransport(netpolicy.Default(), defaultTLSConfig())
}

func defaultTLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// newTransport is the single place where probe connections are configured.
//
//   - The dialer's Control hook applies policy to every resolved address
//     before connecting, so DNS rebinding and redirects cannot get around it.
//   - Proxy is nil: HTTP(S)_PROXY from the operator's environment must not
//     reroute probes, and a proxy would hide the real destination from policy.
//   - DisableKeepAlives: every check gets a fresh connection that is closed
//     when it ends. Besides keeping file descriptors tied to checks, this
//     stops net/http from logging "Unsolicited response received on idle HTTP
//     channel" with the server's bytes quoted: that log goes to the standard
//     logger, which cannot be set per transport. The log can then only happen
//     if a server answers before the request is sent and wins a
//     microsecond-wide race inside net/http (seen about once in 2,000 TLS
//     connections); it is one %q-quoted line of at most 4 KiB. HTTP/2
//     connections log protocol errors too, but never with server bytes.
//   - DisableCompression: we never ask for gzip, so a compressed "bomb" is
//     never inflated (and we read at most a few KiB of any body anyway).
//   - MaxResponseHeaderBytes bounds memory spent on hostile headers.
func newTransport(policy *netpolicy.Policy, tlsConfig *tls.Config) *http.Transport {
	dialer := &net.Dialer{
		Timeout: dialTimeout,
		Control: policy.Control,
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ExpectContinueTimeout:  time.Second,
	}
}

// errTooManyRedirects is returned by the redirect policy after maxRedirects hops.
var errTooManyRedirects = errors.New("stopped after 10 redirects")

// redirectPolicy returns the http.Client CheckRedirect function for t.
func redirectPolicy(t Target) func(*http.Request, []*http.Request) error {
	if t.NoFollowRedirects {
		return func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return checkRedirect
}

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
