package controllers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/notify"
)

// webhookReceiver serves a webhook on loopback and creates Secret "hook" in ns
// holding its URL, whose path is a token: what it receives there arrives on the
// channel, and a request to any other path is refused.
func webhookReceiver(t *testing.T, ns string) <-chan notify.Message {
	t.Helper()
	received := make(chan notify.Message, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.Message
		if r.URL.Path != "/hooks/secret-token" || json.NewDecoder(r.Body).Decode(&m) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		received <- m
	}))
	t.Cleanup(srv.Close)
	if err := k8sClient.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
		StringData: map[string]string{"url": srv.URL + "/hooks/secret-token"},
	}); err != nil {
		t.Fatal(err)
	}
	return received
}

func notifySpec() *monitoringv1alpha1.NotifySpec {
	return &monitoringv1alpha1.NotifySpec{WebhookSecretRef: monitoringv1alpha1.SecretKeySelector{Name: "hook", Key: "url"}}
}

func TestTransitionsArePostedToTheWebhookFromTheSecret(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	received := webhookReceiver(t, ns)

	down := srv.url("/status/503")
	hc := newHealthCheck(ns, "notifying", down)
	hc.Spec.Notify = notifySpec()
	create(t, hc)

	var m notify.Message
	g.Eventually(received).WithTimeout(timeout).Should(Receive(&m))
	g.Expect(m.Text).To(MatchRegexp(`^` + regexp.QuoteMeta(down) + ` returned 503 in ` + latency + `, expected 200-299 \(1 consecutive failure\)$`))
	g.Expect(m).To(MatchFields(IgnoreExtras, Fields{
		"HealthCheck": Equal(ns + "/notifying"), "Target": Equal(down), "State": Equal("Down"),
		"PreviousState": Equal("Pending"), "Reason": Equal("TargetDown"), "StatusCode": BeEquivalentTo(503),
	}))
	g.Consistently(received).WithTimeout(3*timeout/10).Should(BeEmpty(), "a target that stays Down is not announced again")
}
