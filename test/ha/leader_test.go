package ha

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

const (
	timeout = 30 * time.Second
	poll    = 100 * time.Millisecond
)

func TestExactlyOneReplicaChecksAndAnotherTakesOverWhenItStops(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	srv := newOKServer(t)
	first := startReplica(t, ns, "healthcheck-operator-leader")
	second := startReplica(t, ns, "healthcheck-operator-leader")

	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "elected"},
		Spec: monitoringv1alpha1.HealthCheckSpec{
			Interval: &metav1.Duration{Duration: time.Second},
			Targets:  []monitoringv1alpha1.Target{{URL: srv.URL + "/healthz"}},
		},
	}
	g.Expect(k8sClient.Create(context.Background(), hc)).To(Succeed())

	// Several rounds run, all of them by one replica.
	g.Eventually(func() int64 { return first.checks.Load() + second.checks.Load() }).
		WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", 3))
	leader, standby := first, second
	if second.checks.Load() > 0 {
		leader, standby = second, first
	}
	g.Expect(standby.checks.Load()).To(BeZero(), "both replicas checked")

	// The leader steps down; the standby takes over the checks.
	leader.stop()
	stopped := leader.checks.Load()
	g.Eventually(standby.checks.Load).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", 2))
	g.Expect(leader.checks.Load()).To(Equal(stopped), "a stopped replica checked")
}
