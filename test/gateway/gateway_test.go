// Package gateway_test runs the operator against an API server that serves the
// Gateway API, installed from the module go.mod names, and proves that
// httpRoutes sources follow HTTPRoutes and read their Gateways' listeners.
package gateway_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

const (
	timeout = 20 * time.Second
	poll    = 100 * time.Millisecond
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env, err := testenv.Start(testenv.WithGatewayAPI())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8sClient = env.Client
	op, err := testenv.StartOperator(env.Config, testenv.OperatorOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = op.Stop() }()
	return m.Run()
}

func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gateway-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// gateway has one listener of protocol for hostname, on the protocol's own port.
func gateway(ns, name string, protocol gatewayv1.ProtocolType, hostname string) *gatewayv1.Gateway {
	listener := gatewayv1.Listener{Name: "web", Protocol: protocol, Port: 80}
	if hostname != "" {
		listener.Hostname = ptr.To(gatewayv1.Hostname(hostname))
	}
	if protocol == gatewayv1.HTTPSProtocolType {
		listener.Port = 443
		listener.TLS = &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}}
	}
	return &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       gatewayv1.GatewaySpec{GatewayClassName: "example", Listeners: []gatewayv1.Listener{listener}},
	}
}

// route is an HTTPRoute of parent for hostname with PathPrefix matches on paths.
func route(ns, name, parent string, labels map[string]string, hostname string, paths ...string) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: gatewayv1.ObjectName(parent)}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(hostname)},
		},
	}
	rule := gatewayv1.HTTPRouteRule{}
	for _, p := range paths {
		rule.Matches = append(rule.Matches, gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{
			Type: ptr.To(gatewayv1.PathMatchPathPrefix), Value: ptr.To(p)}})
	}
	r.Spec.Rules = []gatewayv1.HTTPRouteRule{rule}
	return r
}

func sources(g Gomega, hc *monitoringv1alpha1.HealthCheck) map[string]string {
	got := &monitoringv1alpha1.HealthCheck{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(hc), got)).To(Succeed())
	out := map[string]string{}
	for _, t := range got.Status.Targets {
		out[t.URL] = t.Source
	}
	return out
}

// The routes' hosts are localhost, so that checking them stays on loopback.
func TestHTTPRoutesAreDiscoveredWithTheSchemeOfTheirGatewaysListener(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	ctx := context.Background()
	api := map[string]string{"team": "api"}
	g.Expect(k8sClient.Create(ctx, gateway(ns, "secure", gatewayv1.HTTPSProtocolType, "localhost"))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, gateway(ns, "plain", gatewayv1.HTTPProtocolType, ""))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, route(ns, "api", "secure", api, "localhost", "/v1", "/v2"))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, route(ns, "web", "plain", api, "localhost", "/web"))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, route(ns, "lost", "missing", api, "localhost", "/lost"))).To(Succeed())
	g.Expect(k8sClient.Create(ctx, route(ns, "other", "plain", map[string]string{"team": "other"}, "localhost", "/other"))).To(Succeed())

	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "routes"},
		Spec: monitoringv1alpha1.HealthCheckSpec{
			Interval: &metav1.Duration{Duration: time.Second},
			TargetsFrom: []monitoringv1alpha1.TargetSource{{
				HTTPRoutes: &monitoringv1alpha1.ObjectSelector{Selector: monitoringv1alpha1.BoundedLabelSelector{MatchLabels: api}},
			}},
		},
	}
	g.Expect(k8sClient.Create(ctx, hc)).To(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(sources(g, hc)).To(Equal(map[string]string{
			"https://localhost/v1":   "HTTPRoute/api",
			"https://localhost/v2":   "HTTPRoute/api",
			"http://localhost/web":   "HTTPRoute/web",
			"https://localhost/lost": "HTTPRoute/lost", // its Gateway cannot be read: https
		}))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A Gateway that turns its listener to HTTPS changes its routes' scheme.
	plain := &gatewayv1.Gateway{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "plain"}, plain)).To(Succeed())
	plain.Spec.Listeners[0].Protocol, plain.Spec.Listeners[0].Port = gatewayv1.HTTPSProtocolType, 443
	plain.Spec.Listeners[0].TLS = &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}}
	g.Expect(k8sClient.Update(ctx, plain)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(sources(g, hc)).To(HaveKeyWithValue("https://localhost/web", "HTTPRoute/web"))
		g.Expect(sources(g, hc)).NotTo(HaveKey("http://localhost/web"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
