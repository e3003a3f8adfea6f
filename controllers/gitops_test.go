package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func kstatusOf(g Gomega, hc *monitoringv1alpha1.HealthCheck) status.Status {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(get(g, hc))
	g.Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: obj})
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

func TestKstatusIsInProgressUntilTheFirstRoundThenCurrentWhateverTheTargetsHealth(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "gitops", srv.url("/hang"), srv.url("/status/503"))
	hc.Spec.Interval = duration(3 * time.Second)
	hc.Spec.Timeout = duration(2 * time.Second)
	create(t, hc)

	g.Eventually(srv.hanging).WithTimeout(timeout).Should(Receive(), "the first round is under way")
	// The round's start is written right after it begins (before that the object
	// has no status at all, which kstatus cannot tell from a reconciled one).
	g.Eventually(func(g Gomega) status.Status { return kstatusOf(g, hc) }).WithTimeout(timeout).WithPolling(poll).
		Should(Equal(status.InProgressStatus))
	g.Expect(srv.cancelled).NotTo(Receive(), "still during the first round")
	g.Eventually(func(g Gomega) status.Status { return kstatusOf(g, hc) }).WithTimeout(timeout).WithPolling(poll).
		Should(Equal(status.CurrentStatus), "both targets are Down, yet the object is reconciled")
	g.Expect(get(g, hc).Status.Summary).To(HaveField("Down", BeEquivalentTo(2)))
}

func TestServerSideApplyTwiceShowsNoDriftAndTheOperatorOwnsOnlyStatus(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	manifest := filepath.Join(t.TempDir(), "hc.yaml")
	g.Expect(os.WriteFile(manifest, []byte(`apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata:
  name: applied
spec:
  interval: 1s
  targets:
  - url: `+srv.url("/status/200")+`
  - url: `+srv.url("/status/500")+`
    name: failing
`), 0o600)).To(Succeed())

	kubectl(g, "apply", "--server-side", "-n", ns, "-f", manifest)
	hc := &monitoringv1alpha1.HealthCheck{}
	hc.Namespace, hc.Name = ns, "applied"
	g.Eventually(func(g Gomega) {
		g.Expect(get(g, hc).Status.Summary).To(HaveField("Down", BeEquivalentTo(1)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	generation := get(g, hc).Generation
	kubectl(g, "apply", "--server-side", "-n", ns, "-f", manifest)
	kubectl(g, "diff", "--server-side", "-n", ns, "-f", manifest) // exits 1 on any difference
	g.Expect(get(g, hc).Generation).To(Equal(generation), "a second apply changed nothing")

	for _, entry := range get(g, hc).ManagedFields {
		if entry.Manager == "kubectl" {
			continue
		}
		g.Expect(entry.Subresource).To(Equal("status"), "manager %q writes outside status", entry.Manager)
	}
}

func TestKubectlWaitForHealthy(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	create(t, newHealthCheck(ns, "waited", srv.url("/status/200")))
	kubectl(g, "wait", "--for=condition=Healthy", "healthcheck/waited", "-n", ns, "--timeout=20s")
}

func TestRequestedAtAnnotationRunsARoundAtOnce(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "triggered", srv.url("/status/200"))
	hc.Spec.Interval = duration(time.Hour)
	create(t, hc)
	g.Eventually(func(g Gomega) {
		g.Expect(get(g, hc).Status.Summary).To(HaveField("Up", BeEquivalentTo(1)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(srv.hitCount("/status/200")).To(Equal(1))

	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Annotations = map[string]string{monitoringv1alpha1.RequestedAtAnnotation: "2026-11-24T12:00:00Z"}
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(get(g, hc).Status.LastHandledRequestedAt).To(Equal("2026-11-24T12:00:00Z"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(srv.hitCount("/status/200")).To(Equal(2), "exactly one extra round for the request")
}
