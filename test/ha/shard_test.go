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

	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
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
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	rec := &pathRecorder{seen: map[string]map[string]bool{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	shards := []controllers.Shard{{Index: 0, Total: 2}, {Index: 1, Total: 2}}
	replicas := []*replica{
		startShard(t, ns, shards[0], "shard-0"),
		startShard(t, ns, shards[1], "shard-1"),
	}
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

	// Each shard's cache holds every HealthCheck, but the spec and status of
	// its own share only, and no managedFields.
	for i, rep := range replicas {
		for j := range count {
			name := fmt.Sprintf("hc-%02d", j)
			var hc monitoringv1alpha1.HealthCheck
			g.Expect(rep.cache.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &hc)).To(Succeed())
			g.Expect(hc.ManagedFields).To(BeEmpty(), "shard %d caches the managedFields of %s", i, name)
			if shards[i].Owns(ns, name) {
				g.Expect(hc.Spec.Targets).To(HaveLen(1), "shard %d caches the spec of its own %s", i, name)
			} else {
				g.Expect(hc.Spec.Targets).To(BeEmpty(), "shard %d caches the spec of the other shard's %s", i, name)
				g.Expect(hc.Status.Targets).To(BeEmpty(), "shard %d caches the status of the other shard's %s", i, name)
			}
		}
	}
}
