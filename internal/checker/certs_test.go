package checker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// pem is the CA certificate, as a Target.CABundle.
	pem []byte
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "checker test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leafOptions describe a server certificate; the zero value is valid for
// 127.0.0.1 for the next hour.
type leafOptions struct {
	dnsNames []string // replaces the 127.0.0.1 IP SAN when set
	expired  bool
	// notAfter, when set, is when the certificate expires.
	notAfter time.Time
	// client makes a client certificate (for mTLS) instead of a server one.
	client bool
}

// issue returns a server certificate signed by ca, or self-signed if ca is nil.
func issue(t testing.TB, ca *testCA, o leafOptions) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "checker test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if o.dnsNames != nil {
		tmpl.IPAddresses, tmpl.DNSNames = nil, o.dnsNames
	}
	if o.expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	if !o.notAfter.IsZero() {
		tmpl.NotAfter = o.notAfter
	}
	if o.client {
		tmpl.Subject.CommonName = "checker test client"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses = nil
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// newCertServer starts an HTTPS server on 127.0.0.1 presenting cert.
func newCertServer(t testing.TB, cert tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = quietLog
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// pemPair encodes cert's chain and key as Target.ClientCertificate and
// ClientKey.
func pemPair(t testing.TB, cert tls.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// pool is a certificate pool holding ca, for servers verifying clients.
func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// tlsListener accepts TLS connections on 127.0.0.1 with cfg, completes each
// handshake, then waits for the client to hang up (or for the handshake error
// to have been sent). It returns the host:port and a channel that receives
// each handshake's outcome and what the client offered.
func tlsListener(t testing.TB, cfg *tls.Config) (string, <-chan tlsAccepted) {
	t.Helper()
	accepted := make(chan tlsAccepted, 16)
	cfg = cfg.Clone()
	var hello tlsAccepted
	var mu sync.Mutex
	cfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		hello.protos, hello.serverName = chi.SupportedProtos, chi.ServerName
		mu.Unlock()
		return nil, nil
	}
	url := tcpServer(t, func(conn net.Conn) {
		tc := tls.Server(conn, cfg)
		err := tc.Handshake()
		mu.Lock()
		a := hello
		mu.Unlock()
		a.err = err
		select {
		case accepted <- a:
		default:
		}
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, tc) // until the client's close_notify or hang-up
	})
	return strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"), accepted
}

// tlsAccepted is what tlsListener saw of one connection.
type tlsAccepted struct {
	err        error
	protos     []string
	serverName string
}
