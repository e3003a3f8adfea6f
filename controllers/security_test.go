package controllers_test

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func TestABlockedAddressIsDownWithoutAConnection(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	listener, err := net.Listen("tcp", blockedAddress+":0")
	g.Expect(err).NotTo(HaveOccurred())
	var accepted atomic.Int32
	go func() {
		for {
			c, err := listener.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = listener.Close() })
	blocked := "http://" + listener.Addr().String() + "/metadata"
	hc := newHealthCheck(ns, "blocked", blocked)
	hc.Spec.FailureThreshold = 3
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := targetState(get(g, hc), blocked)
		g.Expect(got.State).To(Equal(monitoringv1alpha1.StateDown), "Down at once, whatever the failure threshold")
		g.Expect(got.Reason).To(Equal(monitoringv1alpha1.CheckBlocked))
		g.Expect(got.StatusCode).To(BeZero())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "blocked")).To(ConsistOf(eventMatching("Warning", "TargetBlocked",
			`^`+regexp.QuoteMeta(blocked)+` was not checked: its address is blocked by the operator's outbound policy$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(accepted.Load()).To(BeZero(), "no connection was made")
}

func TestRedirectsAreFollowedUnlessTurnedOff(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	redirect := srv.url("/redirect")
	followed := newHealthCheck(ns, "followed", redirect)
	create(t, followed)
	stopped := newHealthCheck(ns, "stopped", redirect)
	stopped.Spec.Targets[0].FollowRedirects = ptr.To(false)
	create(t, stopped)

	g.Eventually(func(g Gomega) {
		g.Expect(targetState(get(g, followed), redirect)).To(beTarget(redirect, monitoringv1alpha1.StateUp, 200, monitoringv1alpha1.CheckOK))
		g.Expect(targetState(get(g, stopped), redirect)).To(beTarget(redirect, monitoringv1alpha1.StateDown, 302, monitoringv1alpha1.CheckUnexpectedStatus))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestTLSIsVerifiedUnlessTheTargetSaysOtherwise(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	tlsServer := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(tlsServer.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw})
	g.Expect(k8sClient.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "private-ca"},
		Data:       map[string][]byte{"ca.crt": caPEM},
	})).To(Succeed())

	verified := newHealthCheck(ns, "verified", tlsServer.URL+"/default")
	create(t, verified)
	insecure := newHealthCheck(ns, "insecure", tlsServer.URL+"/insecure")
	insecure.Spec.Targets[0].TLS = &monitoringv1alpha1.TLSSpec{InsecureSkipVerify: true}
	create(t, insecure)
	privateCA := newHealthCheck(ns, "private-ca", tlsServer.URL+"/private-ca")
	privateCA.Spec.Targets[0].TLS = &monitoringv1alpha1.TLSSpec{
		CABundleSecretRef: &monitoringv1alpha1.SecretKeySelector{Name: "private-ca", Key: "ca.crt"},
	}
	create(t, privateCA)

	g.Eventually(func(g Gomega) {
		v := get(g, verified).Status.Targets
		g.Expect(v).To(HaveLen(1))
		g.Expect(v[0].Reason).To(Equal(monitoringv1alpha1.CheckTLSError))
		g.Expect(v[0].InsecureSkipVerify).To(BeFalse())

		i := get(g, insecure).Status.Targets
		g.Expect(i).To(HaveLen(1))
		g.Expect(i[0].State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(i[0].InsecureSkipVerify).To(BeTrue(), "skipped verification shows in status")

		p := get(g, privateCA).Status.Targets
		g.Expect(p).To(HaveLen(1))
		g.Expect(p[0].State).To(Equal(monitoringv1alpha1.StateUp), "the CA bundle from the Secret verifies the certificate")
		g.Expect(p[0].CertificateExpiresAt).NotTo(BeNil())
		g.Expect(p[0].CertificateExpiresAt.Time.Unix()).To(Equal(tlsServer.Certificate().NotAfter.Unix()))
		g.Expect(seriesOf(g, ns)).To(HaveKeyWithValue("healthcheck_target_certificate_expiry_timestamp_seconds{healthcheck=private-ca,target="+tlsServer.URL+"/private-ca}",
			float64(tlsServer.Certificate().NotAfter.Unix())))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
