package ha

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
)

// outageProxy stands between the operator and the API server on loopback. While
// down it drops every connection and refuses new ones, as an API server that has
// stopped would.
type outageProxy struct {
	listener net.Listener
	upstream string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newOutageProxy(t *testing.T, apiServerURL string) *outageProxy {
	t.Helper()
	u, err := url.Parse(apiServerURL)
	if err != nil {
		t.Fatalf("parsing API server URL: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	p := &outageProxy{listener: l, upstream: u.Host, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { _ = l.Close(); p.setDown(true) })
	return p
}

// config is the suite's REST config, pointed at the proxy.
func (p *outageProxy) config() *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Host = "https://" + p.listener.Addr().String()
	return c
}

func (p *outageProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

func (p *outageProxy) serve() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		go p.relay(client)
	}
}

func (p *outageProxy) relay(client net.Conn) {
	upstream, err := net.Dial("tcp", p.upstream)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(client, upstream) {
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(upstream, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, upstream); done <- struct{}{} }()
	<-done
	_ = client.Close()
	_ = upstream.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, upstream)
	p.mu.Unlock()
}

// track registers a connection pair, or refuses it while down.
func (p *outageProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range conns {
		p.conns[c] = true
	}
	return true
}
