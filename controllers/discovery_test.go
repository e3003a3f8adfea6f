package controllers_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Discovered targets here name localhost, so that checking them stays on
// loopback: nothing listens on ports 80 and 443, and a refused connection is
// as good a sign as any that the target was checked.

// ingress builds an Ingress of ns with labels and one rule per host and path.
func ingress(ns, name string, labels map[string]string, tlsHosts []string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       networkingv1.IngressSpec{Rules: rules},
	}
	if len(tlsHosts) > 0 {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: tlsHosts}}
	}
	return ing
}

// rule is an Ingress rule for host with the given paths (none: no http section).
func rule(host string, paths ...string) networkingv1.IngressRule {
	r := networkingv1.IngressRule{Host: host}
	if len(paths) == 0 {
		return r
	}
	prefix := networkingv1.PathTypePrefix
	r.HTTP = &networkingv1.HTTPIngressRuleValue{}
	for _, p := range paths {
		r.HTTP.Paths = append(r.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p, PathType: &prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
		}})
	}
	return r
}

// sources returns the URLs and sources of a HealthCheck's status targets.
func sources(g Gomega, hc *monitoringv1alpha1.HealthCheck) map[string]string {
	out := map[string]string{}
	for _, t := range get(g, hc).Status.Targets {
		out[t.URL] = t.Source
	}
	return out
}

func TestIngressesAreDiscoveredAndFollowed(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	srv := newTargetServer(t)
	own := srv.url("/status/200")
	shop := map[string]string{"app": "shop"}
	ctx := context.Background()

	g.Expect(k8sClient.Create(ctx, ingress(ns, "shop", shop, []string{"localhost"},
		rule("localhost", "/", "/api"), rule("*.localhost", "/"), rule("", "/healthz")))).To(Succeed())
	other := ingress(ns, "other", map[string]string{"app": "other"}, nil, rule("localhost", "/other"))
	g.Expect(k8sClient.Create(ctx, other)).To(Succeed())

	hc := newHealthCheck(ns, "discovered", own)
	hc.Spec.TargetsFrom = []monitoringv1alpha1.TargetSource{{
		Ingresses: &monitoringv1alpha1.ObjectSelector{Selector: monitoringv1alpha1.BoundedLabelSelector{MatchLabels: shop}},
	}}
	create(t, hc)

	g.Eventually(func(g Gomega) {
		g.Expect(sources(g, hc)).To(Equal(map[string]string{
			own:                     "",
			"https://localhost/":    "Ingress/shop",
			"https://localhost/api": "Ingress/shop",
		}))
		got := get(g, hc)
		for _, u := range []string{"https://localhost/", "https://localhost/api"} {
			g.Expect(targetState(got, u).LastCheckTime).NotTo(BeNil(), "%s was checked", u)
			g.Expect(targetState(got, u).Reason).To(Equal(monitoringv1alpha1.CheckConnectionRefused))
		}
		ready := readyCondition(g, hc)
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ready.Message).To(ContainSubstring("wildcard"), "the wildcard rule left out is said")
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Relabelled into the source: its target joins within seconds.
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(other), other)).To(Succeed())
	other.Labels = shop
	g.Expect(k8sClient.Update(ctx, other)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(sources(g, hc)).To(HaveKeyWithValue("http://localhost/other", "Ingress/other"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Told to be ignored: it leaves.
	other.Annotations = map[string]string{monitoringv1alpha1.IgnoreAnnotation: "true"}
	g.Expect(k8sClient.Update(ctx, other)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(sources(g, hc)).NotTo(HaveKey("http://localhost/other"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Deleted: its targets leave status and metrics.
	g.Expect(k8sClient.Delete(ctx, ingress(ns, "shop", nil, nil))).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(sources(g, hc)).To(Equal(map[string]string{own: ""}))
		g.Expect(seriesOf(g, ns)).NotTo(HaveKey(ContainSubstring("target=https://localhost/")))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestADiscoveredURLEqualToASpecTargetIsTheSpecTarget(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	g.Expect(k8sClient.Create(context.Background(), ingress(ns, "web", nil, nil, rule("localhost", "/same")))).To(Succeed())
	hc := newHealthCheck(ns, "same", "http://localhost/same")
	hc.Spec.Targets[0].Name = "mine"
	hc.Spec.TargetsFrom = []monitoringv1alpha1.TargetSource{{Ingresses: &monitoringv1alpha1.ObjectSelector{}}}
	create(t, hc)
	g.Eventually(func(g Gomega) {
		targets := get(g, hc).Status.Targets
		g.Expect(targets).To(HaveLen(1))
		g.Expect(targets[0].Name).To(Equal("mine"))
		g.Expect(targets[0].Source).To(BeEmpty())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestHTTPRoutesWithoutTheGatewayAPIAreUnavailableAndTheRestIsChecked(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	srv := newTargetServer(t)
	own := srv.url("/status/200")
	hc := newHealthCheck(ns, "no-gateway-api", own)
	hc.Spec.TargetsFrom = []monitoringv1alpha1.TargetSource{{HTTPRoutes: &monitoringv1alpha1.ObjectSelector{}}}
	create(t, hc)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, own).State).To(Equal(monitoringv1alpha1.StateUp), "the spec's targets are still checked")
		ready := readyCondition(g, hc)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(monitoringv1alpha1.ReasonSourceUnavailable))
		g.Expect(ready.Message).To(ContainSubstring("targetsFrom[0].httpRoutes: the Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute) are not installed"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestDiscoveryStopsAtTheTargetBoundAndSaysHowManyWereLeftOut(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	paths := make([]string, 510)
	for i := range paths {
		paths[i] = fmt.Sprintf("/%03d", i)
	}
	g.Expect(k8sClient.Create(context.Background(), ingress(ns, "many", nil, nil, rule("localhost", paths...)))).To(Succeed())
	hc := newHealthCheck(ns, "bounded", "http://localhost/own")
	hc.Spec.Workers = 100
	hc.Spec.TargetsFrom = []monitoringv1alpha1.TargetSource{{Ingresses: &monitoringv1alpha1.ObjectSelector{}}}
	create(t, hc)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(got.Status.Targets).To(HaveLen(monitoringv1alpha1.MaxTargets))
		g.Expect(targetState(got, "http://localhost/own").URL).NotTo(BeEmpty(), "spec targets come first")
		g.Expect(targetState(got, "http://localhost/498").URL).NotTo(BeEmpty())
		g.Expect(targetState(got, "http://localhost/499").URL).To(BeEmpty(), "the last discovered ones are left out")
		g.Expect(readyCondition(g, hc).Message).To(ContainSubstring("11 discovered targets left out"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
