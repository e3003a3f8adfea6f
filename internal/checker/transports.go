package checker

import (
	"container/list"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// maxTransports bounds the transport cache. Probe transports keep no idle
// connections, so evicting one frees nothing but a little memory and costs
// only a rebuild, but the number of distinct CA bundles is user-controlled.
const maxTransports = 32

// Errors reported, after "invalid request: ", for unusable TLS settings. They
// are fixed texts: the parser's own would describe the key.
var (
	// errBadCABundle is reported when Target.CABundle holds no certificate.
	errBadCABundle = errors.New("CA bundle contains no PEM certificate")
	// errBadClientPair is reported when Target.ClientCertificate and ClientKey
	// are not a PEM certificate chain and its private key.
	errBadClientPair = errors.New("client certificate and key do not form a valid pair")
)

// tlsKey identifies the TLS settings of a target: targets that share them
// share a transport. It holds digests only, so the cache never keeps a copy
// of a private key in its index.
type tlsKey struct {
	insecureSkipVerify bool
	// caBundle is the SHA-256 of Target.CABundle, zero when there is none.
	caBundle [sha256.Size]byte
	// clientPair is the SHA-256 of Target.ClientCertificate and ClientKey,
	// zero when neither is set.
	clientPair [sha256.Size]byte
}

func tlsKeyFor(t Target) tlsKey {
	var key tlsKey
	if len(t.ClientCertificate) > 0 || len(t.ClientKey) > 0 {
		key.clientPair = pairDigest(t.ClientCertificate, t.ClientKey)
	}
	switch {
	case t.InsecureSkipVerify:
		// Nothing is verified, so the bundle is irrelevant.
		key.insecureSkipVerify = true
	case len(t.CABundle) > 0:
		key.caBundle = sha256.Sum256(t.CABundle)
	}
	return key
}

// pairDigest hashes a certificate and its key so that no two pairs collide,
// however their bytes are split between the two.
func pairDigest(cert, key []byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(cert)))
	h.Write(n[:])
	h.Write(cert)
	h.Write(key)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// transportCache hands out one transport per distinct TLS setting, so
// requests never build their own, and keeps the most recently used
// maxTransports of them.
type transportCache struct {
	policy *netpolicy.Policy
	// plain carries every http:// request: it has no TLS settings to vary.
	plain *singleUseTransport

	mu    sync.Mutex
	byKey map[tlsKey]*list.Element // values are *cachedTransport
	lru   *list.List               // front is most recently used
}

type cachedTransport struct {
	key tlsKey
	tr  *probeTransport
}

func newTransportCache(policy *netpolicy.Policy) *transportCache {
	return &transportCache{policy: policy, plain: &singleUseTransport{dialer: newDialer(policy, nil)}, byKey: map[tlsKey]*list.Element{}, lru: list.New()}
}

// get returns the transport for t's TLS settings, building it on first use.
// The only errors are errBadCABundle and errBadClientPair.
func (c *transportCache) get(t Target) (*probeTransport, error) {
	key := tlsKeyFor(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedTransport).tr, nil
	}

	cfg := defaultTLSConfig()
	switch {
	case key.insecureSkipVerify:
		cfg.InsecureSkipVerify = true
	case len(t.CABundle) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CABundle) {
			return nil, errBadCABundle
		}
		cfg.RootCAs = pool
	}
	if key.clientPair != (tlsKey{}).clientPair {
		pair, err := tls.X509KeyPair(t.ClientCertificate, t.ClientKey)
		if err != nil {
			return nil, errBadClientPair
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	tr := &probeTransport{plain: c.plain, tls: newTransport(c.policy, cfg), config: cfg}
	tr.clients = newProbeClients(tr)
	c.byKey[key] = c.lru.PushFront(&cachedTransport{key: key, tr: tr})

	if c.lru.Len() > maxTransports {
		oldest := c.lru.Remove(c.lru.Back()).(*cachedTransport)
		delete(c.byKey, oldest.key)
		// Requests still running on it finish normally.
		oldest.tr.tls.CloseIdleConnections()
	}
	return tr, nil
}

// len reports how many transports are cached (tests only).
func (c *transportCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
