package controllers_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// statusGate sits between the suite's operator and the API server, and holds
// the HealthCheck status writes of chosen namespaces until a test releases
// them: an API server that is slow to write status, for those namespaces only.
type statusGate struct {
	next http.RoundTripper

	mu   sync.Mutex
	held map[string]*heldWrites // by namespace
}

// heldWrites are the status writes of one namespace being held.
type heldWrites struct {
	release chan struct{}
	mu      sync.Mutex
	count   int
}

var gate = &statusGate{held: map[string]*heldWrites{}}

func (s *statusGate) wrap(next http.RoundTripper) http.RoundTripper {
	s.next = next
	return s
}

func (s *statusGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if h := s.holding(req); h != nil {
		h.mu.Lock()
		h.count++
		h.mu.Unlock()
		select {
		case <-h.release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return s.next.RoundTrip(req)
}

// holding returns the holder of req when it writes the status of a HealthCheck
// in a namespace being held.
func (s *statusGate) holding(req *http.Request) *heldWrites {
	if req.Method != http.MethodPatch && req.Method != http.MethodPut {
		return nil
	}
	// /apis/<group>/<version>/namespaces/<ns>/healthchecks/<name>/status
	parts := strings.Split(req.URL.Path, "/")
	if len(parts) != 9 || parts[4] != "namespaces" || parts[6] != "healthchecks" || parts[8] != "status" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[parts[5]]
}

// holdStatusWrites holds every status write of HealthChecks in ns until the
// returned release is called (or the test ends), and counts them.
func holdStatusWrites(t *testing.T, ns string) (held func() int, release func()) {
	h := &heldWrites{release: make(chan struct{})}
	gate.mu.Lock()
	gate.held[ns] = h
	gate.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			gate.mu.Lock()
			delete(gate.held, ns)
			gate.mu.Unlock()
			close(h.release)
		})
	}
	t.Cleanup(release)
	held = func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.count
	}
	return held, release
}

// The reconciler that writes a HealthCheck's status is not what starts its
// rounds: while the API server holds its status writes, rounds go on at their
// interval, and status catches up once the writes go through.
func TestRoundsKeepTheirScheduleWhileTheAPIServerHoldsStatusWrites(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	held, release := holdStatusWrites(t, ns)
	up := srv.url("/status/200")
	hc := newHealthCheck(ns, "held", up)
	create(t, hc)

	// The first round's status write is held, and with it the reconcile
	// that made it.
	g.Eventually(held).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", 1))
	checked := srv.hitCount("/status/200")

	g.Eventually(func() int { return srv.hitCount("/status/200") - checked }).
		WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", 3), "rounds every second while status writes are held")
	g.Expect(get(g, hc).Status.LastRunTime).To(BeNil(), "no status was written meanwhile")

	release()
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(got.Status.LastRunTime).NotTo(BeNil())
		g.Expect(targetState(got, up).State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionHealthy)).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
