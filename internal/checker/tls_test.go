package checker

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTLSVerification: bad certificates are TLSError by default; a private CA
// is trusted only through Target.CABundle; InsecureSkipVerify is the only way
// to accept a self-signed certificate.
func TestTLSVerification(t *testing.T) {
	ca := newTestCA(t)
	otherCA := newTestCA(t)
	valid := newCertServer(t, issue(t, ca, leafOptions{}))
	selfSigned := newCertServer(t, issue(t, nil, leafOptions{}))
	expired := newCertServer(t, issue(t, ca, leafOptions{expired: true}))
	wrongHost := newCertServer(t, issue(t, ca, leafOptions{dnsNames: []string{"wrong.example"}}))
	c := newChecker(t, nil)

	const tlsMsg = "TLS handshake or certificate verification failed"
	tests := []struct {
		name    string
		target  Target
		reason  Reason
		message string
	}{
		{"private CA without bundle", Target{URL: valid.URL}, ReasonTLSError, tlsMsg},
		{"private CA with bundle", Target{URL: valid.URL, CABundle: ca.pem}, ReasonOK, ""},
		{"bundle of another CA", Target{URL: valid.URL, CABundle: otherCA.pem}, ReasonTLSError, tlsMsg},
		{"self-signed", Target{URL: selfSigned.URL}, ReasonTLSError, tlsMsg},
		{"self-signed with a bundle", Target{URL: selfSigned.URL, CABundle: ca.pem}, ReasonTLSError, tlsMsg},
		{"self-signed, insecure", Target{URL: selfSigned.URL, InsecureSkipVerify: true}, ReasonOK, ""},
		{"expired", Target{URL: expired.URL, CABundle: ca.pem}, ReasonTLSError, tlsMsg},
		{"expired, insecure", Target{URL: expired.URL, InsecureSkipVerify: true}, ReasonOK, ""},
		{"wrong host", Target{URL: wrongHost.URL, CABundle: ca.pem}, ReasonTLSError, tlsMsg},
		{"bad bundle", Target{URL: valid.URL, CABundle: []byte("not PEM")}, ReasonNetworkError, "invalid request: CA bundle contains no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(ctxFor(t), tc.target)
			if r.Reason != tc.reason || (tc.message != "" && r.Message != tc.message) {
				t.Fatalf("got %s %q, want %s %q", r.Reason, r.Message, tc.reason, tc.message)
			}
		})
	}
}

// TestTransportsSharedPerTLSSetting: targets with equal TLS settings share a
// transport, different settings get their own, and the cache stays bounded.
func TestTransportsSharedPerTLSSetting(t *testing.T) {
	c := newChecker(t, nil)
	get := func(tg Target) *probeTransport {
		t.Helper()
		tr, err := c.transports.get(tg)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	ca := newTestCA(t)
	plain := get(Target{URL: "https://a.test/"})
	if get(Target{URL: "https://b.test/"}) != plain {
		t.Error("two default targets got different transports")
	}
	withCA := get(Target{CABundle: ca.pem})
	if withCA == plain || get(Target{CABundle: append([]byte(nil), ca.pem...)}) != withCA {
		t.Error("CA bundle transports are not keyed by the bundle's content")
	}
	insecure := get(Target{InsecureSkipVerify: true})
	if insecure == plain || insecure == withCA || get(Target{InsecureSkipVerify: true, CABundle: ca.pem}) != insecure {
		t.Error("InsecureSkipVerify transports are not shared")
	}
	if !insecure.tls.TLSClientConfig.InsecureSkipVerify || plain.tls.TLSClientConfig.InsecureSkipVerify || withCA.tls.TLSClientConfig.RootCAs == nil {
		t.Error("transports do not carry their TLS settings")
	}

	for i := range 3 * maxTransports {
		get(Target{CABundle: fmt.Appendf(append([]byte(nil), ca.pem...), "\n# %d\n", i)})
	}
	if n := c.transports.len(); n != maxTransports {
		t.Errorf("cache holds %d transports, want the bound %d", n, maxTransports)
	}
}

// TestHTTPVersions: servers that offer HTTP/2 are spoken to in HTTP/2, the
// others in HTTP/1.1, both through the probe transport's own TLS dialling.
func TestHTTPVersions(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			proto := make(chan int, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proto <- r.ProtoMajor
			}))
			srv.Config.ErrorLog = quietLog
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			t.Cleanup(srv.Close)
			bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

			r := newChecker(t, nil).Check(ctxFor(t), Target{URL: srv.URL, CABundle: bundle})
			if r.Reason != ReasonOK {
				t.Fatalf("got %s %q", r.Reason, r.Message)
			}
			want := 1
			if h2 {
				want = 2
			}
			if got := recv(t, proto, "the request"); got != want {
				t.Errorf("server saw HTTP/%d, want HTTP/%d", got, want)
			}
		})
	}
}
