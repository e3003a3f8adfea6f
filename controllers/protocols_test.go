package controllers_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testservers"
)

// createSecretData creates a Secret of type typ in ns.
func createSecretData(t *testing.T, ns, name string, typ corev1.SecretType, data map[string][]byte) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: typ, Data: data}
	if err := k8sClient.Create(context.Background(), s); err != nil {
		t.Fatalf("creating Secret %s: %v", name, err)
	}
}

func TestTCPAndTLSTargetsAreCheckedByConnecting(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	ca := testservers.NewCA(t)
	createSecretData(t, ns, "ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": ca.PEM})
	expiring := ca.Server(t, 48*time.Hour)
	tlsAddr := testservers.Listen(t, func(c net.Conn) {
		_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{expiring.TLS}}).Handshake()
	})

	open := "tcp://" + testservers.Listen(t, nil)
	closed := "tcp://" + testservers.ClosedPort(t)
	metadata := "tcp://169.254.169.254:80"
	listener := "tls://" + tlsAddr
	untrusted := "tls://" + strings.Replace(tlsAddr, "127.0.0.1", "localhost", 1) + "/"
	v4only := "tcp://" + testservers.Listen(t, nil)
	hc := newHealthCheck(ns, "sockets", open, closed, metadata, listener, untrusted, v4only)
	hc.Spec.CertificateExpiryThreshold = duration(168 * time.Hour)
	hc.Spec.Targets[5].IPFamily = monitoringv1alpha1.IPFamilyIPv6
	hc.Spec.Targets[3].TLS = &monitoringv1alpha1.TLSSpec{CABundleSecretRef: &monitoringv1alpha1.SecretKeySelector{Name: "ca", Key: "ca.crt"}}
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, open)).To(beTarget(open, monitoringv1alpha1.StateUp, 0, monitoringv1alpha1.CheckOK))
		g.Expect(targetState(got, open).Message).To(MatchRegexp(`^connected in ` + latency + `$`))
		g.Expect(targetState(got, closed)).To(beTarget(closed, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckConnectionRefused))
		g.Expect(targetState(got, metadata)).To(beTarget(metadata, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckBlocked))
		g.Expect(targetState(got, v4only)).To(beTarget(v4only, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckDNSError))
		g.Expect(targetState(got, v4only).Message).To(Equal("no IPv6 address"), "ipFamily IPv6 never dials an IPv4 address")

		tlsTarget := targetState(got, listener)
		g.Expect(tlsTarget).To(beTarget(listener, monitoringv1alpha1.StateUp, 0, monitoringv1alpha1.CheckCertificateExpiring))
		g.Expect(tlsTarget.CertificateExpiresAt).NotTo(BeNil())
		g.Expect(tlsTarget.CertificateExpiresAt.Time.Equal(expiring.NotAfter)).To(BeTrue())
		g.Expect(targetState(got, untrusted)).To(beTarget(untrusted, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckTLSError),
			"without the CA bundle the certificate is not trusted")
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "sockets")).To(ContainElement(
			eventMatching("Warning", "CertificateExpiring", `^`+regexp.QuoteMeta(listener)+`: certificate expires at `)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestGRPCHealthTransitionsAreEvents(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	addr, hs := testservers.GRPCHealth(t, nil)
	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_SERVING)
	notGRPC := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(notGRPC.Close)

	shop := "grpc://" + addr + "/shop"
	plainHTTP := "grpc://" + notGRPC.Listener.Addr().String()
	hc := newHealthCheck(ns, "grpc", shop, plainHTTP)
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, shop)).To(beTarget(shop, monitoringv1alpha1.StateUp, 0, monitoringv1alpha1.CheckOK))
		g.Expect(targetState(got, shop).Message).To(MatchRegexp(`^SERVING in ` + latency + `$`))
		g.Expect(targetState(got, plainHTTP).State).To(Equal(monitoringv1alpha1.StateDown), "an HTTP server is no gRPC health service")
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_NOT_SERVING)
	g.Eventually(func(g Gomega) {
		g.Expect(targetState(get(g, hc), shop)).To(beTarget(shop, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckNotServing))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	hs.SetServingStatus("shop", healthpb.HealthCheckResponse_SERVING)
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "grpc")).To(ContainElements(
			eventMatching("Warning", "TargetDown", `^`+regexp.QuoteMeta(shop)+` answered NOT_SERVING in `+latency+` \(1 consecutive failure\)$`),
			eventMatching("Normal", "TargetRecovered", `^`+regexp.QuoteMeta(shop)+` SERVING in `+latency+` \(was Down\)$`),
		))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// jsonServer answers /up with {"status":"UP"}, /down with {"status":"DOWN"},
// /text with plain text, /big with 1 MiB of text and /missing with a 404.
func jsonServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/up", "/down":
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"status":%q,"items":[1,2,3]}`, strings.ToUpper(strings.TrimPrefix(r.URL.Path, "/")))
		case "/text":
			_, _ = fmt.Fprint(w, "SECRET-TOKEN is not JSON")
		case "/big":
			_, _ = fmt.Fprint(w, strings.Repeat("a", 1<<20))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAssertionsJudgeTheAnswer(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	srv := jsonServer(t)
	up, down, text, missing := srv.URL+"/up", srv.URL+"/down", srv.URL+"/text", srv.URL+"/missing"
	costly := srv.URL + "/big"
	hc := newHealthCheck(ns, "asserted", up, down, text, missing, costly)
	assertions := func(a ...monitoringv1alpha1.Assertion) []monitoringv1alpha1.Assertion { return a }
	hc.Spec.Targets[0].Assertions = assertions(
		monitoringv1alpha1.Assertion{Expression: `response.json.status == "UP"`, Message: "actuator reports UP"},
		monitoringv1alpha1.Assertion{Expression: `response.headers["content-type"].startsWith("application/json")`},
		monitoringv1alpha1.Assertion{Expression: `response.latency < duration("5s")`},
	)
	hc.Spec.Targets[1].Assertions = assertions(monitoringv1alpha1.Assertion{Expression: `response.json.status == "UP"`, Message: "actuator reports UP"})
	hc.Spec.Targets[2].Assertions = assertions(monitoringv1alpha1.Assertion{Expression: `response.json.status == "UP"`})
	hc.Spec.Targets[3].Assertions = assertions(monitoringv1alpha1.Assertion{Expression: `response.json.status == "UP"`})
	hc.Spec.Targets[4].Assertions = assertions(monitoringv1alpha1.Assertion{
		Expression: `response.body.replace("a", "bb").replace("b", "cc").contains("x")`,
	})
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, up)).To(beTarget(up, monitoringv1alpha1.StateUp, 200, monitoringv1alpha1.CheckOK))
		g.Expect(targetState(got, down)).To(beTarget(down, monitoringv1alpha1.StateDown, 200, monitoringv1alpha1.CheckAssertionFailed))
		g.Expect(targetState(got, down).Message).To(MatchRegexp(`^returned 200 in ` + latency + `, but assertion failed: actuator reports UP$`))
		g.Expect(targetState(got, text)).To(beTarget(text, monitoringv1alpha1.StateDown, 200, monitoringv1alpha1.CheckAssertionFailed),
			"a body that is not JSON has a null json")
		g.Expect(targetState(got, text).Message).NotTo(ContainSubstring("SECRET-TOKEN"), "body bytes never reach status")
		g.Expect(targetState(got, missing)).To(beTarget(missing, monitoringv1alpha1.StateDown, 404, monitoringv1alpha1.CheckUnexpectedStatus),
			"assertions apply after expectedStatusCodes")
		g.Expect(targetState(got, costly)).To(beTarget(costly, monitoringv1alpha1.StateDown, 200, monitoringv1alpha1.CheckAssertionFailed))
		g.Expect(targetState(got, costly).Message).To(ContainSubstring("exceeded the CEL cost limit"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "asserted")).To(ContainElement(
			eventMatching("Warning", "TargetDown", `^`+regexp.QuoteMeta(down)+` returned 200 in `+latency+`, but assertion failed: actuator reports UP \(1 consecutive failure\)$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestAnExpressionThatDoesNotCompileIsAnInvalidSpecAndNothingIsChecked(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	srv := newTargetServer(t)
	good, bad := srv.url("/status/200"), srv.url("/status/204")
	hc := newHealthCheck(ns, "bad-expression", good, bad)
	hc.Spec.Targets[1].Name = "shop"
	hc.Spec.Targets[1].Assertions = []monitoringv1alpha1.Assertion{
		{Expression: "response.code == 204"},
		{Expression: `response.json.status ==`},
	}
	create(t, hc)

	g.Eventually(func(g Gomega) {
		ready := readyCondition(g, hc)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(monitoringv1alpha1.ReasonInvalidSpec))
		g.Expect(ready.Message).To(HavePrefix("target shop: assertions[1].expression: "))
		g.Expect(ready.Message).To(ContainSubstring("Syntax error"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(func() int { return srv.hitCount("/status/200") + srv.hitCount("/status/204") }).
		WithTimeout(2*time.Second).WithPolling(poll).Should(BeZero(), "no target of an invalid spec is checked")
}

// mtlsServers starts an https, a tls and a grpcs server that all require a
// client certificate signed by ca, and returns their URLs.
func mtlsServers(t *testing.T, ca *testservers.CA) (httpsURL, tlsURL, grpcsURL string) {
	t.Helper()
	serverCert := ca.Server(t, 24*time.Hour)
	config := func() *tls.Config {
		return &tls.Config{
			Certificates: []tls.Certificate{serverCert.TLS},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    ca.Pool(),
		}
	}
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	web.TLS = config()
	web.StartTLS()
	t.Cleanup(web.Close)

	raw := testservers.Listen(t, func(c net.Conn) {
		conn := tls.Server(c, config())
		if conn.Handshake() == nil {
			// TLS 1.3 clients learn of a refused certificate on their first
			// read; a byte to read makes the refusal reach them.
			_, _ = conn.Write([]byte{0})
			_, _ = conn.Read(make([]byte, 1))
		}
	})
	grpcAddr, hs := testservers.GRPCHealth(t, credentials.NewTLS(config()))
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return web.URL + "/", "tls://" + raw, "grpcs://" + grpcAddr
}

func TestMutualTLSPresentsTheClientCertificateOfASecretAndFollowsItsRotation(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	ca := testservers.NewCA(t)
	createSecretData(t, ns, "ca", corev1.SecretTypeOpaque, map[string][]byte{"ca.crt": ca.PEM})
	cert := ca.Client(t, "healthcheck")
	createSecretData(t, ns, "client", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": cert.CertPEM, "tls.key": cert.KeyPEM})

	httpsURL, tlsURL, grpcsURL := mtlsServers(t, ca)
	withCert := newHealthCheck(ns, "mtls", httpsURL, tlsURL, grpcsURL)
	withoutCert := newHealthCheck(ns, "no-client-cert", httpsURL, tlsURL, grpcsURL)
	for i := range withCert.Spec.Targets {
		withCert.Spec.Targets[i].TLS = &monitoringv1alpha1.TLSSpec{
			CABundleSecretRef:          &monitoringv1alpha1.SecretKeySelector{Name: "ca", Key: "ca.crt"},
			ClientCertificateSecretRef: &monitoringv1alpha1.SecretReference{Name: "client"},
		}
		withoutCert.Spec.Targets[i].TLS = &monitoringv1alpha1.TLSSpec{
			CABundleSecretRef: &monitoringv1alpha1.SecretKeySelector{Name: "ca", Key: "ca.crt"},
		}
	}
	create(t, withCert)
	create(t, withoutCert)

	g.Eventually(func(g Gomega) {
		with, without := get(g, withCert), get(g, withoutCert)
		for _, u := range []string{httpsURL, tlsURL, grpcsURL} {
			g.Expect(targetState(with, u).State).To(Equal(monitoringv1alpha1.StateUp), "%s with the client certificate", u)
			g.Expect(targetState(without, u).State).To(Equal(monitoringv1alpha1.StateDown), "%s without a client certificate", u)
		}
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A certificate from another CA replaces the Secret's: the next rounds present it, and fail.
	other := testservers.NewCA(t).Client(t, "healthcheck")
	secret := &corev1.Secret{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "client"}, secret)).To(Succeed())
	secret.Data = map[string][]byte{"tls.crt": other.CertPEM, "tls.key": other.KeyPEM}
	g.Expect(k8sClient.Update(context.Background(), secret)).To(Succeed())
	g.Eventually(func(g Gomega) {
		with := get(g, withCert)
		for _, u := range []string{httpsURL, tlsURL, grpcsURL} {
			g.Expect(targetState(with, u).State).To(Equal(monitoringv1alpha1.StateDown), "%s after the rotation to an untrusted certificate", u)
		}
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// The key never shows in status or events.
	for _, tgt := range get(g, withCert).Status.Targets {
		g.Expect(tgt.Message).NotTo(ContainSubstring("PRIVATE KEY"))
	}
	for _, e := range eventsFor(g, ns, "mtls") {
		g.Expect(e.Note).NotTo(ContainSubstring("PRIVATE KEY"))
	}
}
