package controllers_test

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func withSecretHeader(hc *monitoringv1alpha1.HealthCheck, secretName string) *monitoringv1alpha1.HealthCheck {
	hc.Spec.Targets[0].Headers = []monitoringv1alpha1.HTTPHeader{{
		Name:      "X-Api-Key",
		ValueFrom: &monitoringv1alpha1.HeaderValueSource{SecretKeyRef: monitoringv1alpha1.SecretKeySelector{Name: secretName, Key: "key"}},
	}}
	return hc
}

// createSecret creates a Secret whose key "key" holds apiKey.
func createSecret(t *testing.T, ns, name string) {
	t.Helper()
	createSecretData(t, ns, name, corev1.SecretTypeOpaque, map[string][]byte{"key": []byte(apiKey)})
}

func TestHeaderFromSecretIsSentAndNeverShown(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	secured := srv.url("/secured")
	createSecret(t, ns, "api-key")
	hc := withSecretHeader(newHealthCheck(ns, "secured", secured), "api-key")
	create(t, hc)

	g.Eventually(func(g Gomega) {
		g.Expect(targetState(get(g, hc), secured).State).To(Equal(monitoringv1alpha1.StateUp))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	status, err := json.Marshal(get(g, hc).Status)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(status)).NotTo(ContainSubstring(apiKey))
	for _, e := range eventsFor(g, ns, "secured") {
		g.Expect(e.Note).NotTo(ContainSubstring(apiKey))
	}
}

func TestMissingSecretHoldsTheTargetUntilTheSecretAppears(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	secured := srv.url("/secured")
	hc := withSecretHeader(newHealthCheck(ns, "waiting", secured), "late-key")
	hc.Spec.Interval = duration(time.Hour) // only the Secret's arrival can bring the next round
	create(t, hc)

	g.Eventually(func(g Gomega) {
		ready := readyCondition(g, hc)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(monitoringv1alpha1.ReasonSecretNotFound))
		g.Expect(ready.Message).To(Equal(`Target ` + secured + ` is not checked: Secret "late-key" has no key "key" for header X-Api-Key`))
		target := targetState(get(g, hc), secured)
		g.Expect(target.State).To(Equal(monitoringv1alpha1.StatePending))
		g.Expect(target.Reason).To(Equal(monitoringv1alpha1.CheckSecretNotFound))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(srv.hitCount("/secured")).To(BeZero(), "a target whose Secret is missing is not checked")

	createSecret(t, ns, "late-key")
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, secured).State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
