package checker

import (
	"container/list"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"sync"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// maxTransports bounds the transport cache. Probe transports keep no idle
// connections, so evicting one frees nothing but a little memory and costs
// only a rebuild, but the number of distinct CA bundles is user-controlled.
const maxTransports = 32

// errBadCABundle is reported when Target.CABundle holds no certificate.
var errBadCABundle = errors.New("CA bundle contains no PEM certificate")

// tlsKey identifies the TLS settings of a target: targets that share them
// share a transport.
type tlsKey struct {
	insecureSkipVerify bool
	// caBundle is the SHA-256 of Target.CABundle, zero when there is none.
	caBundle [sha256.Size]byte
}

func tlsKeyFor(t Target) tlsKey {
	if t.InsecureSkipVerify {
		// Nothing is verified, so the bundle is irrelevant.
		return tlsKey{insecureSkipVerify: true}
	}
	if len(t.CABundle) == 0 {
		return tlsKey{}
	}
	return tlsKey{caBundle: sha256.Sum256(t.CABundle)}
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
// The only error is errBadCABundle.
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
	tr := &probeTransport{plain: c.plain, tls: newTransport(c.policy, cfg)}
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
