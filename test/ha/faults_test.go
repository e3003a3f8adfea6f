package ha

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func healthCheck(ns, name string, interval time.Duration, urls ...string) *monitoringv1alpha1.HealthCheck {
	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: interval}},
	}
	for _, u := range urls {
		hc.Spec.Targets = append(hc.Spec.Targets, monitoringv1alpha1.Target{URL: u})
	}
	return hc
}

func summaryOf(g Gomega, hc *monitoringv1alpha1.HealthCheck) monitoringv1alpha1.Summary {
	got := &monitoringv1alpha1.HealthCheck{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(hc), got)).To(Succeed())
	g.Expect(got.Status.Summary).NotTo(BeNil())
	return *got.Status.Summary
}

// TestStatusCatchesUpAfterTheAPIServerReturns cuts the operator off from the API
// server (every connection dropped, new ones refused) while a target goes down,
// then lets it back: the operator keeps running and status shows the change
// within a few rounds.
func TestStatusCatchesUpAfterTheAPIServerReturns(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	var code atomic.Int32
	code.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(code.Load())) }))
	t.Cleanup(srv.Close)

	apiServer := newOutageProxy(t, cfg.Host)
	rep := startReplicaWith(t, apiServer.config(), ns, "")
	hc := healthCheck(ns, "outage", time.Second, srv.URL)
	g.Expect(k8sClient.Create(context.Background(), hc)).To(Succeed())
	g.Eventually(func(g Gomega) int32 { return summaryOf(g, hc).Up }).WithTimeout(timeout).WithPolling(poll).Should(BeEquivalentTo(1))

	apiServer.setDown(true)
	code.Store(http.StatusServiceUnavailable)
	checks := rep.checks.Load()
	g.Eventually(rep.checks.Load).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", checks+3),
		"rounds go on while the API server is away")
	g.Expect(summaryOf(g, hc).Up).To(BeEquivalentTo(1), "no status could be written meanwhile")
	apiServer.setDown(false)

	g.Eventually(func(g Gomega) int32 { return summaryOf(g, hc).Down }).WithTimeout(timeout).WithPolling(poll).Should(BeEquivalentTo(1))
	g.Expect(rep.op.Running()).To(BeTrue(), "the operator kept running")
}

// TestSigtermWithChecksInFlightExitsPromptly runs the real manager binary, lets a
// check hang, and sends SIGTERM: the process exits well within the Deployment's
// 10s grace period, and the hanging check is cancelled.
func TestSigtermWithChecksInFlightExitsPromptly(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	arrived, cancelled := make(chan struct{}, 1), make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
		cancelled <- struct{}{}
	}))
	t.Cleanup(srv.Close)

	manager := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", manager, "../../cmd/manager")
	build.Stderr = os.Stderr
	g.Expect(build.Run()).To(Succeed())
	kubeconfigPath := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(env.WriteKubeconfig(kubeconfigPath, "operator")).To(Succeed())

	cmd := exec.Command(manager, "--kubeconfig", kubeconfigPath, "--health-probe-bind-address=0", "--metrics-bind-address=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	g.Expect(cmd.Start()).To(Succeed())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	hc := healthCheck(ns, "inflight", time.Minute, srv.URL+"/hang")
	hc.Spec.Timeout = &metav1.Duration{Duration: 50 * time.Second}
	g.Expect(k8sClient.Create(context.Background(), hc)).To(Succeed())
	g.Eventually(arrived).WithTimeout(timeout).Should(Receive(), "the check is in flight")

	g.Expect(cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	var exitErr error
	g.Eventually(exited).WithTimeout(5*time.Second).Should(Receive(&exitErr), "exited within 5s of SIGTERM")
	g.Expect(exitErr).NotTo(HaveOccurred(), "a clean exit")
	g.Eventually(cancelled).WithTimeout(5*time.Second).Should(Receive(), "the in-flight check was cancelled")
}
