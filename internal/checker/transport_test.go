package checker

import (
	"net/http"
	"strings"
	"testing"
)

func TestNewTransportSettings(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	tr := NewTransport()
	if tr.Proxy != nil {
		t.Error("Proxy must be nil so the environment cannot reroute probes")
	}
	if !tr.DisableCompression {
		t.Error("DisableCompression must be true")
	}
	if tr.MaxResponseHeaderBytes <= 0 || tr.MaxResponseHeaderBytes > 1<<20 {
		t.Errorf("MaxResponseHeaderBytes = %d", tr.MaxResponseHeaderBytes)
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.DialContext == nil {
		t.Error("dial and TLS handshake must be bounded")
	}
	if NewTransport() == tr {
		t.Error("NewTransport must return a fresh transport")
	}
}

// TestProxyEnvironmentIgnored: with a proxy in the environment pointing at a
// dead port, a probe still reaches the server directly.
func TestProxyEnvironmentIgnored(t *testing.T) {
	dead := "http://" + refusedAddr(t)
	t.Setenv("HTTP_PROXY", dead)
	t.Setenv("http_proxy", dead)
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	if r := newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL}); r.Reason != ReasonOK {
		t.Fatalf("reason %s (%q), want OK", r.Reason, r.Message)
	}
}

// TestNoImplicitGzip: we never ask for compression, so a server cannot make
// us inflate a bomb.
func TestNoImplicitGzip(t *testing.T) {
	got := make(chan string, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Get("Accept-Encoding") })
	newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL})
	if ae := recv(t, got, "request"); ae != "" {
		t.Fatalf("Accept-Encoding = %q, want none", ae)
	}
}

// TestHugeResponseHeaderRejected: a header block beyond the limit is refused
// instead of buffered.
func TestHugeResponseHeaderRejected(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("a", 2*maxResponseHeaderBytes))
	})
	r := newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL})
	if r.Reason != ReasonNetworkError || r.Message != "network error" {
		t.Fatalf("got %s %q, want NetworkError", r.Reason, r.Message)
	}
}

// TestRedirectHeaders: same-origin redirects keep configured headers;
// cross-origin ones drop them; Referer (which would carry the query token) is
// never sent.
func TestRedirectHeaders(t *testing.T) {
	type seen struct{ key, auth, referer string }
	otherGot := make(chan seen, 1)
	other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		otherGot <- seen{r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"), r.Header.Get("Referer")}
	})
	sameGot := make(chan seen, 1)
	origin := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/cross":
			http.Redirect(w, r, other.URL+"/final", http.StatusFound)
		case "/final":
			sameGot <- seen{r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"), r.Header.Get("Referer")}
		}
	})
	c := newChecker(t, nil)
	headers := []Header{{"X-Api-Key", "s3cr3t"}, {"Authorization", "Bearer s3cr3t"}}

	if r := c.Check(ctxFor(t), Target{URL: origin.URL + "/same?token=abc", Headers: headers}); r.Reason != ReasonOK {
		t.Fatalf("same-origin: %s %q", r.Reason, r.Message)
	}
	if got, want := recv(t, sameGot, "same-origin hop"), (seen{"s3cr3t", "Bearer s3cr3t", ""}); got != want {
		t.Errorf("same-origin hop saw %+v, want %+v", got, want)
	}

	if r := c.Check(ctxFor(t), Target{URL: origin.URL + "/cross?token=abc", Headers: headers}); r.Reason != ReasonOK {
		t.Fatalf("cross-origin: %s %q", r.Reason, r.Message)
	}
	if got := recv(t, otherGot, "cross-origin hop"); got != (seen{}) {
		t.Errorf("cross-origin hop saw %+v, want no secrets and no Referer", got)
	}
}
