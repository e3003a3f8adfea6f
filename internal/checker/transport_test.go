package checker

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	if !tr.DisableKeepAlives {
		t.Error("DisableKeepAlives must be true")
	}
	if tr.MaxResponseHeaderBytes <= 0 || tr.MaxResponseHeaderBytes > 1<<20 {
		t.Errorf("MaxResponseHeaderBytes = %d", tr.MaxResponseHeaderBytes)
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.DialContext == nil || tr.DialTLSContext == nil {
		t.Error("dial and TLS handshake must be bounded")
	}
	if NewTransport() == tr {
		t.Error("NewTransport must return a fresh transport")
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

// TestRedirectLimit: up to 10 redirects are followed; the 11th ends the check
// with a clear message, so a loop costs exactly 11 requests.
func TestRedirectLimit(t *testing.T) {
	var requests atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// /chain/N redirects N more times, then answers; /loop never stops.
		if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/chain/")); err == nil && n > 0 {
			http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
		}
	})
	c := newChecker(t, nil)
	tests := []struct {
		path     string
		reason   Reason
		message  string
		requests int32
	}{
		{"/chain/10", ReasonOK, "", 11},
		{"/chain/11", ReasonNetworkError, "network error: stopped after 10 redirects", 11},
		{"/loop", ReasonNetworkError, "network error: stopped after 10 redirects", 11},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			requests.Store(0)
			r := c.Check(ctxFor(t), Target{URL: srv.URL + tc.path})
			if r.Reason != tc.reason || (tc.message != "" && r.Message != tc.message) {
				t.Fatalf("got %s %q, want %s %q", r.Reason, r.Message, tc.reason, tc.message)
			}
			if n := requests.Load(); n != tc.requests {
				t.Errorf("server saw %d requests, want %d", n, tc.requests)
			}
		})
	}
}

// TestNoFollowRedirects: the first answer is judged by its own status code,
// and the redirect target is never asked.
func TestNoFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/final", http.StatusMovedPermanently)
			return
		}
		followed.Add(1)
	})
	moved, err := ParseStatusCodes([]string{"301"})
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(t, newFakeClock(120*time.Millisecond))
	tests := []struct {
		name    string
		target  Target
		reason  Reason
		code    int
		message string
	}{
		{"301 not expected", Target{URL: srv.URL + "/moved", NoFollowRedirects: true}, ReasonUnexpectedStatus, 301, "returned 301 in 120ms, expected 200-299"},
		{"301 expected", Target{URL: srv.URL + "/moved", NoFollowRedirects: true, Expected: moved}, ReasonOK, 301, "returned 301 in 120ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(ctxFor(t), tc.target)
			if r.Reason != tc.reason || r.StatusCode != tc.code || r.Message != tc.message {
				t.Fatalf("got {%s %d %q}, want {%s %d %q}", r.Reason, r.StatusCode, r.Message, tc.reason, tc.code, tc.message)
			}
		})
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	if r := c.Check(ctxFor(t), Target{URL: srv.URL + "/moved"}); r.Reason != ReasonOK || followed.Load() != 1 {
		t.Errorf("by default the redirect must be followed: %s, followed %d", r.Reason, followed.Load())
	}
}
