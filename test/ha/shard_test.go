package ha

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

// pathRecorder records which paths each replica asked for, told apart by a
// header that each replica's transport sets.
type pathRecorder struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // replica -> paths
}

func (p *pathRecorder) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	replica := r.Header.Get("X-Replica")
	if p.seen[replica] == nil {
		p.seen[replica] = map[string]bool{}
	}
	p.seen[replica][r.URL.Path] = true
}

func (p *pathRecorder) paths(replica string) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for k := range p.seen[replica] {
		out[k] = true
	}
	return out
}

func TestTwoShardsCheckEveryHealthCheckExactlyOnce(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	rec := &pathRecorder{seen: map[string]map[string]bool{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	startShard(t, ns, controllers.Shard{Index: 0, Total: 2}, "shard-0")
	startShard(t, ns, controllers.Shard{Index: 1, Total: 2}, "shard-1")
	const count = 20
	for i := range count {
		hc := healthCheck(ns, fmt.Sprintf("hc-%02d", i), time.Second, fmt.Sprintf("%s/hc-%02d", srv.URL, i))
		g.Expect(k8sClient.Create(context.Background(), hc)).To(Succeed())
	}

	g.Eventually(func() int { return len(rec.paths("shard-0")) + len(rec.paths("shard-1")) }).
		WithTimeout(timeout).WithPolling(poll).Should(Equal(count), "every HealthCheck is checked")
	// More rounds pass; still no HealthCheck is checked by both shards.
	g.Consistently(func(g Gomega) {
		zero, one := rec.paths("shard-0"), rec.paths("shard-1")
		for path := range zero {
			g.Expect(one).NotTo(HaveKey(path), "both shards checked %s", path)
		}
		g.Expect(len(zero) + len(one)).To(Equal(count))
	}).WithTimeout(3 * time.Second).WithPolling(poll).Should(Succeed())
	g.Expect(rec.paths("shard-0")).NotTo(BeEmpty())
	g.Expect(rec.paths("shard-1")).NotTo(BeEmpty())
}
