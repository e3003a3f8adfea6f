package checker

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// TestClientCertificates: servers that require a client certificate
// (tls.RequireAndVerifyClientCert) accept the configured one over https, tls
// and grpcs, and turn the check into a TLSError without it or with one from
// another CA: a TLS 1.2 server fails the handshake itself; a TLS 1.3 one
// sends its alert just after the client's side of the handshake ended, and
// every protocol reads it (tls:// by awaiting the server's verdict).
func TestClientCertificates(t *testing.T) {
	ca, otherCA := newTestCA(t), newTestCA(t)
	certPEM, keyPEM := pemPair(t, issue(t, ca, leafOptions{client: true}))
	otherCertPEM, otherKeyPEM := pemPair(t, issue(t, otherCA, leafOptions{client: true}))
	serverCert := issue(t, ca, leafOptions{})
	mtls := func(maxVersion uint16) *tls.Config {
		return &tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    ca.pool(),
			MaxVersion:   maxVersion,
		}
	}

	urls := map[string]string{}
	for _, v := range []struct {
		name    string
		version uint16
	}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}} {
		for _, h2 := range []bool{false, true} {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			srv.Config.ErrorLog = quietLog
			srv.EnableHTTP2 = h2
			srv.TLS = mtls(v.version)
			srv.StartTLS()
			t.Cleanup(srv.Close)
			urls[fmt.Sprintf("https %s h2=%v", v.name, h2)] = srv.URL
		}
		addr, _ := tlsListener(t, mtls(v.version))
		urls["tls "+v.name] = "tls://" + addr
		grpcAddr := newGRPCServer(t, mtls(v.version), func(s *grpc.Server) {
			healthpb.RegisterHealthServer(s, statusHealth{})
		})
		urls["grpcs "+v.name] = "grpcs://" + grpcAddr
	}

	c := newChecker(t, nil)
	const tlsMsg = "TLS handshake or certificate verification failed"
	// A TLS 1.3 refusal races the client's next steps (its writes meet a
	// reset; net/http's HTTP/2 may drop the cause): repeat it so that a
	// reason that depends on the race shows.
	t.Run("TLS1.3 refusal is always a TLSError", func(t *testing.T) {
		for range 25 {
			for name, u := range urls {
				if !strings.Contains(name, "TLS1.3") {
					continue
				}
				if r := c.Check(ctxFor(t), Target{URL: u, CABundle: ca.pem}); r.Reason != ReasonTLSError {
					t.Fatalf("%s: got %s %q", name, r.Reason, r.Message)
				}
			}
		}
	})
	for name, u := range urls {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name      string
				cert, key []byte
				reason    Reason
				message   string
			}{
				{"with the certificate", certPEM, keyPEM, ReasonOK, ""},
				{"without a certificate", nil, nil, ReasonTLSError, tlsMsg},
				{"another CA's certificate", otherCertPEM, otherKeyPEM, ReasonTLSError, tlsMsg},
				{"key of another certificate", certPEM, otherKeyPEM, ReasonNetworkError, "invalid request: client certificate and key do not form a valid pair"},
				{"no key", certPEM, nil, ReasonNetworkError, "invalid request: client certificate and key do not form a valid pair"},
				{"not PEM", []byte("cert"), []byte("key"), ReasonNetworkError, "invalid request: client certificate and key do not form a valid pair"},
			}
			for _, tc := range tests {
				r := c.Check(ctxFor(t), Target{URL: u, CABundle: ca.pem, ClientCertificate: tc.cert, ClientKey: tc.key})
				if r.Reason != tc.reason || (tc.message != "" && r.Message != tc.message) {
					t.Errorf("%s: got %s %q, want %s %q", tc.name, r.Reason, r.Message, tc.reason, tc.message)
				}
				if len(tc.key) > 0 && (strings.Contains(r.Message, "PRIVATE") || bytes.Contains(tc.key, []byte(r.Message))) {
					t.Errorf("%s: message %q shows the key", tc.name, r.Message)
				}
			}
		})
	}
}

// TestClientCertificateInTransportKey: targets with different client
// certificates get different transports, equal ones share one, and the key
// is keyed by digest only.
func TestClientCertificateInTransportKey(t *testing.T) {
	ca := newTestCA(t)
	certA, keyA := pemPair(t, issue(t, ca, leafOptions{client: true}))
	certB, keyB := pemPair(t, issue(t, ca, leafOptions{client: true}))
	c := newChecker(t, nil)
	get := func(tg Target) *probeTransport {
		t.Helper()
		tr, err := c.transports.get(tg)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	plain := get(Target{})
	a := get(Target{ClientCertificate: certA, ClientKey: keyA})
	if a == plain || get(Target{ClientCertificate: bytes.Clone(certA), ClientKey: bytes.Clone(keyA)}) != a {
		t.Error("client certificate transports are not keyed by the pair's content")
	}
	if b := get(Target{ClientCertificate: certB, ClientKey: keyB}); b == a {
		t.Error("two client certificates share a transport")
	}
	if len(a.config.Certificates) != 1 || len(plain.config.Certificates) != 0 {
		t.Error("transports do not carry their client certificate")
	}
	// The split between certificate and key is part of the digest.
	if tlsKeyFor(Target{ClientCertificate: []byte("ab"), ClientKey: []byte("c")}) == tlsKeyFor(Target{ClientCertificate: []byte("a"), ClientKey: []byte("bc")}) {
		t.Error("pairs that differ only in where they split share a key")
	}
}
