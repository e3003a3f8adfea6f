package checker

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
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

// NewTransport returns the transport probes use. It is the single place where
// probe connections are configured, so that a dial-time policy (e.g. SSRF
// protection) can be added here later.
//
//   - Proxy is nil: HTTP(S)_PROXY from the operator's environment must not
//     silently reroute probes of in-cluster endpoints.
//   - DisableCompression: we never ask for gzip, so a compressed "bomb" is
//     never inflated (and we read at most a few KiB of any body anyway).
//   - MaxResponseHeaderBytes bounds memory spent on hostile headers.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
	}
}

// errTooManyRedirects is returned by the redirect policy after maxRedirects hops.
var errTooManyRedirects = errors.New("stopped after 10 redirects")

// checkRedirect follows at most maxRedirects hops. It also never sends a
// Referer (it would carry the previous URL, query tokens included) and drops
// all configured headers when a redirect leaves the original origin or
// downgrades from https to http: net/http only strips Authorization and
// Cookie, but any configured header (X-Api-Key, ...) may be a secret.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
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
