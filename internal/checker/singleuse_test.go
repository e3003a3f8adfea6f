package checker

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// answerWith is a raw server that reads the request head, then writes answer.
func answerWith(t *testing.T, answer string) string {
	t.Helper()
	return tcpServer(t, func(conn net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		_, _ = conn.Write([]byte(answer))
	})
}

// TestInformationalResponsesSkipped: 1xx answers before the real one (103
// Early Hints, 100 Continue) are skipped, as net/http's Transport does, but
// only a few of them, and a 101 is an answer of its own.
func TestInformationalResponsesSkipped(t *testing.T) {
	const early = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
	const final = "HTTP/1.1 204 No Content\r\n\r\n"
	tests := []struct {
		name   string
		answer string
		reason Reason
		code   int
	}{
		{"one 103", early + final, ReasonOK, 204},
		{"100 then 103", "HTTP/1.1 100 Continue\r\n\r\n" + early + final, ReasonOK, 204},
		{"as many as allowed", strings.Repeat(early, maxInformationalResponses) + final, ReasonOK, 204},
		{"one too many", strings.Repeat(early, maxInformationalResponses+1) + final, ReasonNetworkError, 0},
		{"101 is final", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", ReasonUnexpectedStatus, 101},
	}
	c := newChecker(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(ctxFor(t), Target{URL: answerWith(t, tc.answer)})
			if r.Reason != tc.reason || r.StatusCode != tc.code {
				t.Errorf("got %s %d %q, want %s %d", r.Reason, r.StatusCode, r.Message, tc.reason, tc.code)
			}
		})
	}
}

// TestHTTPCheckNeedsNoTransportGoroutines: an http:// check is done on the
// goroutine that runs it. While one is in flight there is none of net/http's
// per-connection goroutines (a dialer, a reader and a writer), whose
// hand-offs would be counted in the check's latency on a busy node.
func TestHTTPCheckNeedsNoTransportGoroutines(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	})
	pooled := []string{"net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop", "net/http.(*Transport).dialConnFor"}
	running := func() []string {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var found []string
		for _, p := range pooled {
			if strings.Contains(stacks, p) {
				found = append(found, p)
			}
		}
		return found
	}
	// Connections of earlier tests' https:// checks may still be closing.
	eventually(t, "no transport goroutine left from earlier tests", func() bool { return len(running()) == 0 })

	done := make(chan Result, 1)
	go func() { done <- newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL}) }()
	recv(t, arrived, "the request")
	during := running()
	close(release)
	if r := recv(t, done, "the check"); r.Reason != ReasonOK {
		t.Fatalf("got %s %q, want OK", r.Reason, r.Message)
	}
	for _, p := range during {
		t.Errorf("a goroutine runs %s during an http:// check", p)
	}
}

// TestRedirectsAcrossSchemes: a redirect from http:// to https:// and back
// changes transport mid-check and keeps the target's TLS settings.
func TestRedirectsAcrossSchemes(t *testing.T) {
	plain := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-tls" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
		}
	})
	secure := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-plain" {
			http.Redirect(w, r, plain.URL+"/done", http.StatusFound)
		}
	})
	c := newChecker(t, nil)

	// http -> https -> http, verified against the target's insecure setting.
	url := plain.URL + "/to-tls?to=" + secure.URL + "/to-plain"
	if r := c.Check(ctxFor(t), Target{URL: url, InsecureSkipVerify: true}); r.Reason != ReasonOK {
		t.Errorf("insecure target: got %s %q, want OK", r.Reason, r.Message)
	}
	// The same hops with verification on fail at the https:// hop.
	if r := c.Check(ctxFor(t), Target{URL: url}); r.Reason != ReasonTLSError {
		t.Errorf("verifying target: got %s %q, want TLSError", r.Reason, r.Message)
	}
}

// TestHostPort: the address dialled for an http:// URL is the URL's host and
// port, 80 by default, whether or not it is u.Host itself.
func TestHostPort(t *testing.T) {
	for _, raw := range []string{
		"http://example.com/", "http://example.com:8080/x", "http://10.0.0.1:80",
		"http://[::1]:8080/", "http://[::1]/", "http://[fe80::1%25eth0]:81/",
		"http://example.com:/", "http://EXAMPLE.com:9/",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		port := u.Port()
		if port == "" {
			port = "80"
		}
		if got, want := hostPort(u), net.JoinHostPort(u.Hostname(), port); got != want {
			t.Errorf("hostPort(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestSingleUseBodyAfterClose: a closed body has given its pooled buffer
// back, so a later read fails instead of reading what another check buffered.
func TestSingleUseBodyAfterClose(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })
	client := &http.Client{Transport: newTransportCache(netpolicy.Default()).plain}
	req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b [2]byte
	if n, err := resp.Body.Read(b[:]); n != 2 || err != nil || string(b[:]) != "he" {
		t.Fatalf("first read: %d %v %q", n, err, b[:n])
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := resp.Body.Read(b[:]); n != 0 || err == nil {
		t.Errorf("read after Close: %d %v, want an error", n, err)
	}
	_ = resp.Body.Close() // a second Close is harmless
}
