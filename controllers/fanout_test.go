package controllers_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// fanOut sets a target's fanOut.
func fanOut(mode monitoringv1alpha1.FanOutMode, minHealthy intstr.IntOrString) *monitoringv1alpha1.FanOut {
	return &monitoringv1alpha1.FanOut{Mode: mode, MinHealthy: &minHealthy}
}

// webService creates Service web of ns, port 80 (named http) to target port
// 8080, and its EndpointSlice with one endpoint per pod: pods[i] at
// 192.0.2.(i+1) in zone zones[i], ready unless listed in notReady.
func webService(t *testing.T, ns string, pods, zones []string, notReady ...string) *discoveryv1.EndpointSlice {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", Labels: map[string]string{"probe": "yes"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if err := k8sClient.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
	for i, pod := range pods {
		ready := true
		for _, n := range notReady {
			ready = ready && n != pod
		}
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{"192.0.2." + string(rune('1'+i))},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod},
			Zone:       ptr.To(zones[i]),
		})
	}
	if err := k8sClient.Create(ctx, slice); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(ctx, slice)
		_ = k8sClient.Delete(ctx, svc)
	})
	return slice
}

// withoutLatency copies backends with their latency zeroed: a refused dial
// takes a millisecond or so, depending on the machine's load.
func withoutLatency(backends []monitoringv1alpha1.BackendStatus) []monitoringv1alpha1.BackendStatus {
	out := make([]monitoringv1alpha1.BackendStatus, len(backends))
	for i, b := range backends {
		b.LatencyMs = 0
		out[i] = b
	}
	return out
}

func TestAnEndpointsFanOutChecksEachReadyPodAndNamesTheFailingOnes(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	slice := webService(t, ns, []string{"web-a", "web-b", "web-c"}, []string{"a", "b", "b"}, "web-c")
	web := "http://web." + ns + ".svc/healthz"
	missing := "http://nope." + ns + ".svc/"
	elsewhere := "http://web.other-namespace.svc/"
	hc := newHealthCheck(ns, "pods", web, missing, elsewhere)
	for i := range hc.Spec.Targets {
		hc.Spec.Targets[i].FanOut = fanOut(monitoringv1alpha1.FanOutEndpoints, intstr.FromString("50%"))
	}
	create(t, hc)

	// The suite's policy blocks the endpoints' network: each backend is
	// checked, at its own address, and refused before any packet is sent.
	blocked := func(address, pod, zone string) monitoringv1alpha1.BackendStatus {
		return monitoringv1alpha1.BackendStatus{Address: address, Pod: pod, Zone: zone, Reason: monitoringv1alpha1.CheckBlocked, Message: "blocked by the outbound policy"}
	}
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		target := targetState(got, web)
		g.Expect(target).To(beTarget(web, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckBlocked))
		g.Expect(target.Message).To(HavePrefix("0 of 2 backends healthy, fewer than 1: pod web-a (192.0.2.1, zone a) blocked by the outbound policy"))
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 2, Down: 2}), "web-c is not ready")
		g.Expect(withoutLatency(target.FailingBackends)).To(Equal([]monitoringv1alpha1.BackendStatus{blocked("192.0.2.1", "web-a", "a"), blocked("192.0.2.2", "web-b", "b")}))

		g.Expect(targetState(got, missing)).To(beTarget(missing, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckNoBackends))
		g.Expect(targetState(got, missing).Message).To(Equal("Service nope does not exist"))
		g.Expect(targetState(got, elsewhere)).To(beTarget(elsewhere, monitoringv1alpha1.StateDown, 0, monitoringv1alpha1.CheckNoBackends))
		g.Expect(targetState(got, elsewhere).Message).To(Equal("fanOut mode Endpoints needs a URL whose host is a Service of namespace " + ns + ", such as NAME." + ns + ".svc"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "pods")).To(ContainElement(eventMatching("Warning", "BackendDown",
			`^`+regexp.QuoteMeta(web)+`: 2 backends went Down: pod web-a \(192\.0\.2\.1, zone a\): blocked by the outbound policy; pod web-b \(192\.0\.2\.2, zone b\): blocked by the outbound policy$`)))
		s := seriesOf(g, ns)
		g.Expect(s).To(HaveKeyWithValue("healthcheck_target_backends{healthcheck=pods,state=down,target="+web+"}", 2.0))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_target_backends{healthcheck=pods,state=up,target="+web+"}", 0.0))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// web-b leaves the Service: the next rounds check web-a alone.
	latest := &discoveryv1.EndpointSlice{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(slice), latest)).To(Succeed())
	latest.Endpoints = latest.Endpoints[:1]
	g.Expect(k8sClient.Update(context.Background(), latest)).To(Succeed())
	g.Eventually(func(g Gomega) {
		target := targetState(get(g, hc), web)
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 1, Down: 1}))
		g.Expect(withoutLatency(target.FailingBackends)).To(Equal([]monitoringv1alpha1.BackendStatus{blocked("192.0.2.1", "web-a", "a")}))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestAServicesSourceFansOutToItsServicesEndpoints(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	webService(t, ns, []string{"web-a"}, []string{"a"})
	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "discovered"},
		Spec: monitoringv1alpha1.HealthCheckSpec{Interval: duration(time.Second), TargetsFrom: []monitoringv1alpha1.TargetSource{{
			Services: &monitoringv1alpha1.ServiceSource{Selector: monitoringv1alpha1.BoundedLabelSelector{MatchLabels: map[string]string{"probe": "yes"}}, Port: intstr.FromString("http")},
			Template: &monitoringv1alpha1.TargetSettings{FanOut: &monitoringv1alpha1.FanOut{Mode: monitoringv1alpha1.FanOutEndpoints}},
		}}},
	}
	create(t, hc)
	url := "http://web." + ns + ".svc:80/"
	g.Eventually(func(g Gomega) {
		target := targetState(get(g, hc), url)
		g.Expect(target.Source).To(Equal("Service/web"))
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 1, Down: 1}))
		g.Expect(target.FailingBackends).To(HaveLen(1))
		g.Expect(target.FailingBackends[0].Pod).To(Equal("web-a"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestAnAddressesFanOutChecksTheHostsAddresses(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	// localhost has one address here (127.0.0.1, from /etc/hosts); tests of
	// resolve show a name with several.
	up := strings.Replace(srv.url("/status/200"), "127.0.0.1", "localhost", 1)
	blocked := strings.Replace(srv.url("/status/200"), "127.0.0.1", blockedAddress, 1)
	hc := newHealthCheck(ns, "addresses", up, blocked)
	for i := range hc.Spec.Targets {
		hc.Spec.Targets[i].FanOut = fanOut(monitoringv1alpha1.FanOutAddresses, intstr.FromInt32(1))
	}
	create(t, hc)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, up)).To(beTarget(up, monitoringv1alpha1.StateUp, 200, monitoringv1alpha1.CheckOK))
		g.Expect(targetState(got, up).Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 1, Up: 1}))
		g.Expect(targetState(got, up).Message).To(MatchRegexp(`^1 of 1 backends healthy: the slowest, 127\.0\.0\.1, returned 200 in ` + latency + `$`))
		g.Expect(targetState(got, blocked).FailingBackends).To(ConsistOf(HaveField("Address", blockedAddress)))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionHealthy)).To(Equal(metav1.ConditionFalse))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "addresses")).To(ContainElement(eventMatching("Warning", "BackendDown",
			`^`+regexp.QuoteMeta(blocked)+`: backend 127\.0\.0\.2 went Down: blocked by the outbound policy$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
