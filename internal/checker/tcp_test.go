package checker

import (
	"crypto/tls"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testservers"
)

// TestTCPCheck: an open port is OK (or slow), a closed one refused, an
// unknown host a DNS error; no status code either way.
func TestTCPCheck(t *testing.T) {
	open := "tcp://" + testservers.Listen(t, nil)

	tests := []struct {
		name    string
		url     string
		step    time.Duration
		reason  Reason
		seen    string
		message string
	}{
		{"open", open, 3 * time.Millisecond, ReasonOK, "OPEN", "connected in 3ms"},
		{"open, scheme in capitals", strings.Replace(open, "tcp:", "TCP:", 1), 3 * time.Millisecond, ReasonOK, "OPEN", "connected in 3ms"},
		{"open, trailing slash", open + "/", 3 * time.Millisecond, ReasonOK, "OPEN", "connected in 3ms"},
		{"slow", open, 2500 * time.Millisecond, ReasonSlowResponse, "OPEN", "connected in 2.5s, slower than 2s"},
		{"closed port", "tcp://" + refusedAddr(t), time.Millisecond, ReasonConnectionRefused, "", "connection refused"},
		{"unknown host", "tcp://nonexistent.invalid:80", time.Millisecond, ReasonDNSError, "", "DNS lookup failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(tc.step)
			r := newChecker(t, clk).Check(ctxFor(t), Target{URL: tc.url})
			if r.Reason != tc.reason || r.Seen != tc.seen || r.Message != tc.message {
				t.Fatalf("got {%s %q %q}, want {%s %q %q}", r.Reason, r.Seen, r.Message, tc.reason, tc.seen, tc.message)
			}
			if r.StatusCode != 0 || r.URL != tc.url || r.Latency != tc.step || r.CheckedAt.IsZero() || r.CertificateExpiresAt != nil {
				t.Errorf("result shape: %+v", r)
			}
			if r.Slow != (tc.reason == ReasonSlowResponse) {
				t.Errorf("Slow = %v for %s", r.Slow, r.Reason)
			}
		})
	}
}

// TestNonHTTPTargetsValidated: what a tcp, tls or gRPC check cannot honour is
// an invalid request, with a fixed message.
func TestNonHTTPTargetsValidated(t *testing.T) {
	tests := []struct {
		target  Target
		message string
	}{
		{Target{URL: "tcp://127.0.0.1"}, "invalid request: URL has no port"},
		{Target{URL: "grpc://127.0.0.1/svc"}, "invalid request: URL has no port"},
		{Target{URL: "tls://:443"}, "invalid request: URL has no host"},
		{Target{URL: "tcp://127.0.0.1:80/path"}, "invalid request: tcp and tls URLs take no path"},
		{Target{URL: "tcp://[::1"}, "invalid request: malformed URL"},
		{Target{URL: "grpc://127.0.0.1:80", Headers: []Header{{"Authorization", "Bearer s3cr3t"}}}, "invalid request: headers need an http or https URL"},
		{Target{URL: "tls://127.0.0.1:443", BodyContains: "ok"}, "invalid request: body checks need an http or https URL"},
		{Target{URL: "tcp://127.0.0.1:80", BodyMatches: regexp.MustCompile("ok")}, "invalid request: body checks need an http or https URL"},
		{Target{URL: "udp://127.0.0.1:53"}, "invalid request: URL scheme must be http, https, tcp, tls, grpc or grpcs"},
		{Target{URL: "tls://127.0.0.1:443", CABundle: []byte("not PEM")}, "invalid request: CA bundle contains no PEM certificate"},
		{Target{URL: "grpcs://127.0.0.1:443", CABundle: []byte("not PEM")}, "invalid request: CA bundle contains no PEM certificate"},
	}
	c := newChecker(t, nil)
	for _, tc := range tests {
		r := c.Check(ctxFor(t), tc.target)
		if r.Reason != ReasonNetworkError || r.Message != tc.message {
			t.Errorf("%s: got %s %q, want NetworkError %q", tc.target.URL, r.Reason, r.Message, tc.message)
		}
	}
}

// TestTLSCheck: a tls:// check is verified exactly like https (private CA
// through CABundle, InsecureSkipVerify), reports the certificate's expiry,
// sends the host as SNI and offers no application protocol.
func TestTLSCheck(t *testing.T) {
	ca := newTestCA(t)
	soon := time.Now().Add(36 * time.Hour).Truncate(time.Second)
	expiring, accepted := tlsListener(t, &tls.Config{Certificates: []tls.Certificate{issue(t, ca, leafOptions{notAfter: soon})}})
	selfSigned, _ := tlsListener(t, &tls.Config{Certificates: []tls.Certificate{issue(t, nil, leafOptions{})}})
	named, namedAccepted := tlsListener(t, &tls.Config{Certificates: []tls.Certificate{issue(t, ca, leafOptions{dnsNames: []string{"localhost"}})}})
	_, namedPort, _ := net.SplitHostPort(named)
	// A server that talks first, and not TLS (as SSH does).
	plainTCP := strings.TrimSuffix(strings.TrimPrefix(tcpServer(t, func(conn net.Conn) {
		_, _ = conn.Write([]byte("SSH-2.0-NOT-TLS\r\n"))
		_, _ = io.Copy(io.Discard, conn)
	}), "http://"), "/")

	const tlsMsg = "TLS handshake or certificate verification failed"
	tests := []struct {
		name    string
		target  Target
		reason  Reason
		message string
	}{
		{"private CA with bundle", Target{URL: "tls://" + expiring, CABundle: ca.pem}, ReasonOK, "TLS handshake in 12ms"},
		{"private CA without bundle", Target{URL: "tls://" + expiring}, ReasonTLSError, tlsMsg},
		{"self-signed", Target{URL: "tls://" + selfSigned, CABundle: ca.pem}, ReasonTLSError, tlsMsg},
		{"self-signed, insecure", Target{URL: "tls://" + selfSigned, InsecureSkipVerify: true}, ReasonOK, "TLS handshake in 12ms"},
		{"host name", Target{URL: "tls://localhost:" + namedPort, CABundle: ca.pem}, ReasonOK, "TLS handshake in 12ms"},
		{"not TLS", Target{URL: "tls://" + plainTCP}, ReasonTLSError, tlsMsg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newChecker(t, newFakeClock(12*time.Millisecond)).Check(ctxFor(t), tc.target)
			if r.Reason != tc.reason || r.Message != tc.message || r.StatusCode != 0 {
				t.Fatalf("got {%s %d %q}, want {%s 0 %q}", r.Reason, r.StatusCode, r.Message, tc.reason, tc.message)
			}
			if ok := r.Reason == ReasonOK; (r.Seen == "TLS") != ok || (r.CertificateExpiresAt != nil) != ok {
				t.Errorf("Seen %q, CertificateExpiresAt %v for %s", r.Seen, r.CertificateExpiresAt, r.Reason)
			}
		})
	}

	r := newChecker(t, nil).Check(ctxFor(t), Target{URL: "tls://" + expiring, CABundle: ca.pem})
	if r.CertificateExpiresAt == nil || !r.CertificateExpiresAt.Equal(soon) {
		t.Errorf("CertificateExpiresAt = %v, want %v", r.CertificateExpiresAt, soon)
	}
	n := 0
	for a := range drain(accepted) {
		n++
		if len(a.protos) != 0 || a.serverName != "" {
			t.Errorf("client offered ALPN %q, SNI %q; want no ALPN and no SNI for an IP", a.protos, a.serverName)
		}
	}
	for a := range drain(namedAccepted) {
		n++
		if a.serverName != "localhost" {
			t.Errorf("SNI %q, want localhost", a.serverName)
		}
	}
	if n == 0 {
		t.Error("the servers saw no handshake")
	}
}

// drain yields what ch holds now, without waiting.
func drain[T any](ch <-chan T) func(func(T) bool) {
	return func(yield func(T) bool) {
		for {
			select {
			case v := <-ch:
				if !yield(v) {
					return
				}
			default:
				return
			}
		}
	}
}
