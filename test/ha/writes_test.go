package ha

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

// countingClient counts the status writes a reconciler makes in one namespace
// (HealthChecks of earlier tests live on in the shared API server: envtest runs
// no namespace controller).
type countingClient struct {
	client.Client
	namespace string
	writes    *atomic.Int64
}

func (c countingClient) Status() client.SubResourceWriter {
	return countingStatus{SubResourceWriter: c.Client.Status(), namespace: c.namespace, writes: c.writes}
}

type countingStatus struct {
	client.SubResourceWriter
	namespace string
	writes    *atomic.Int64
}

func (s countingStatus) count(obj client.Object) {
	if obj.GetNamespace() == s.namespace {
		s.writes.Add(1)
	}
}

func (s countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.count(obj)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.count(obj)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// TestStatusIsWrittenOncePerChangingRoundAndNeverForSteadyOnes counts the status
// writes of one replica: a target that changes state every round costs one write
// a round; a steady one costs none after its first round.
func TestStatusIsWrittenOncePerChangingRoundAndNeverForSteadyOnes(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	var flips atomic.Int64
	flapping := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if flips.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(flapping.Close)
	var steadyHits atomic.Int64
	steady := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { steadyHits.Add(1) }))
	t.Cleanup(steady.Close)

	var writes atomic.Int64
	startReplicaWith(t, cfg, ns, "", func(r *controllers.HealthCheckReconciler, _ *replica) {
		r.StatusRefreshInterval = time.Hour // no heartbeat writes within the test
		r.Client = countingClient{Client: r.Client, namespace: ns, writes: &writes}
	})

	// Steady first: after its first round (two writes: the round starting, the
	// round's result), nothing more.
	hc := healthCheck(ns, "steady", time.Second, steady.URL)
	g.Expect(k8sClient.Create(context.Background(), hc)).To(Succeed())
	g.Eventually(func(g Gomega) int32 { return summaryOf(g, hc).Up }).WithTimeout(timeout).WithPolling(poll).Should(BeEquivalentTo(1))
	settled := writes.Load()
	hits := steadyHits.Load()
	g.Eventually(steadyHits.Load).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", hits+3))
	g.Expect(writes.Load()).To(Equal(settled), "steady rounds wrote status")
	g.Expect(k8sClient.Delete(context.Background(), hc)).To(Succeed())

	// A target that alternates between 200 and 503: one write per round.
	flappingHC := healthCheck(ns, "flapping", time.Second, flapping.URL)
	g.Expect(k8sClient.Create(context.Background(), flappingHC)).To(Succeed())
	g.Eventually(flips.Load).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", 1))
	startWrites, startRounds := writes.Load(), flips.Load()
	g.Eventually(flips.Load).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", startRounds+4))
	// Each finished round wrote once; allow for a round in flight at either end.
	g.Eventually(func() int64 { return (writes.Load() - startWrites) - (flips.Load() - startRounds) }).
		WithTimeout(timeout).WithPolling(poll).Should(BeNumerically("~", 0, 1))
}
