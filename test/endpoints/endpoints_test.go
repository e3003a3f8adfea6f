package endpoints_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

const (
	timeout = 20 * time.Second
	poll    = 100 * time.Millisecond
)

// latency matches a latency as checks word it: "<1ms", "12ms", "1.5s".
const latency = `(<1ms|\d+ms|\d+(\.\d+)?s)`

// pod is one HTTP server standing in for a pod: it listens at its endpoint's
// address and target port, answers every request with status, and records
// the Host header of each request.
type pod struct {
	status atomic.Int32
	mu     sync.Mutex
	hosts  map[string]int
}

// startPod starts a pod at address:targetPort answering status, until the test ends.
func startPod(t *testing.T, address string, status int) *pod {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(targetPort)))
	if err != nil {
		t.Fatalf("listening at %s: %v", address, err)
	}
	return serve(t, l, status)
}

// serve answers HTTP requests on l with status, until the test ends.
func serve(t *testing.T, l net.Listener, status int) *pod {
	t.Helper()
	p := &pod{hosts: map[string]int{}}
	p.status.Store(int32(status))
	srv := &httptest.Server{Listener: l, Config: &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			p.hosts[r.Host]++
			p.mu.Unlock()
			w.WriteHeader(int(p.status.Load()))
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}}
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// answer makes p answer status from now on.
func (p *pod) answer(status int) { p.status.Store(int32(status)) }

// hostsSeen lists the distinct Host headers p has received.
func (p *pod) hostsSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.hosts))
	for h := range p.hosts {
		out = append(out, h)
	}
	return out
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "endpoints-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ns) })
	return ns.Name
}

// createObject creates obj and deletes it when the test ends (envtest runs no
// namespace controller, which would).
func createObject(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), obj) })
}

// webService creates Service web of ns, port 80 (named http) to target port
// 8080, and its EndpointSlice (envtest runs no controller that would write
// one): pod web-a at addressA in zone a and pod web-b at addressB in zone b,
// both ready.
func webService(t *testing.T, ns string) {
	t.Helper()
	createObject(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "http", Port: 80, TargetPort: intstr.FromInt32(targetPort),
		}}},
	})
	endpoint := func(address, podName, zone string) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{
			Addresses:  []string{address},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: podName},
			Zone:       ptr.To(zone),
		}
	}
	createObject(t, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](targetPort)}},
		Endpoints:   []discoveryv1.Endpoint{endpoint(addressA, "web-a", "a"), endpoint(addressB, "web-b", "b")},
	})
}

// fanningOut creates HealthCheck name of ns, checked every second, with one
// target, url, fanned out to its Service's endpoints with minHealthy.
func fanningOut(t *testing.T, ns, name, url string, minHealthy intstr.IntOrString) *monitoringv1alpha1.HealthCheck {
	return fanningOutBy(t, ns, name, url, monitoringv1alpha1.FanOutEndpoints, minHealthy)
}

func fanningOutBy(t *testing.T, ns, name, url string, mode monitoringv1alpha1.FanOutMode, minHealthy intstr.IntOrString) *monitoringv1alpha1.HealthCheck {
	t.Helper()
	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: monitoringv1alpha1.HealthCheckSpec{
			Interval: &metav1.Duration{Duration: time.Second},
			Targets: []monitoringv1alpha1.Target{{URL: url, TargetSettings: monitoringv1alpha1.TargetSettings{
				FanOut: &monitoringv1alpha1.FanOut{Mode: mode, MinHealthy: &minHealthy},
			}}},
		},
	}
	createObject(t, hc)
	return hc
}

// get reads hc back from the API server.
func get(g Gomega, hc *monitoringv1alpha1.HealthCheck) *monitoringv1alpha1.HealthCheck {
	out := &monitoringv1alpha1.HealthCheck{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(hc), out)).To(Succeed())
	return out
}

// targetOf is the status of hc's target url, which must be there.
func targetOf(g Gomega, hc *monitoringv1alpha1.HealthCheck, url string) monitoringv1alpha1.TargetStatus {
	for _, t := range hc.Status.Targets {
		if t.URL == url {
			return t
		}
	}
	g.Expect(hc.Status.Targets).To(ContainElement(HaveField("URL", url)))
	return monitoringv1alpha1.TargetStatus{}
}

// condition is hc's condition of type condType, which must be set.
func condition(g Gomega, hc *monitoringv1alpha1.HealthCheck, condType string) metav1.Condition {
	c := meta.FindStatusCondition(hc.Status.Conditions, condType)
	g.Expect(c).NotTo(BeNil(), "condition %s", condType)
	return *c
}

// recordedEvent is an event as a user reads it in `kubectl events`.
type recordedEvent struct {
	Type, Reason, Note string
}

// eventsFor lists the core/v1 events about HealthCheck name of ns.
func eventsFor(g Gomega, ns, name string) []recordedEvent {
	var list corev1.EventList
	g.Expect(k8sClient.List(context.Background(), &list, client.InNamespace(ns))).To(Succeed())
	var out []recordedEvent
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "HealthCheck" && e.InvolvedObject.Name == name {
			out = append(out, recordedEvent{Type: e.Type, Reason: e.Reason, Note: e.Message})
		}
	}
	return out
}

// event matches a recordedEvent of eventType and reason whose note matches
// the regular expression note.
func event(eventType, reason, note string) OmegaMatcher {
	return And(HaveField("Type", eventType), HaveField("Reason", reason), HaveField("Note", MatchRegexp(note)))
}

// backendSeries reads healthcheck_target_backends of one target from what
// the manager serves, by state.
func backendSeries(g Gomega, ns, name, target string) map[string]float64 {
	families, err := controllers.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "healthcheck_target_backends" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["healthcheck"] == name && labels["target"] == target {
				out[labels["state"]] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestEachReadyPodIsCheckedAtItsTargetPortWithTheServicesHost(t *testing.T) {
	requireNetns(t)
	g := NewWithT(t)
	ns := newNamespace(t)
	podA := startPod(t, addressA, http.StatusOK)
	podB := startPod(t, addressB, http.StatusServiceUnavailable)
	webService(t, ns)
	host := "web." + ns + ".svc"
	url := "http://" + host + "/healthz"
	hc := fanningOut(t, ns, "web", url, intstr.FromInt32(1))

	// web-b answers 503: the target is Up on web-a alone, and names web-b.
	failingB := `returned 503 in ` + latency + `, expected 200-299`
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		target := targetOf(g, got, url)
		g.Expect(target.State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(target.Reason).To(Equal(monitoringv1alpha1.CheckOK))
		g.Expect(target.Message).To(MatchRegexp(`^1 of 2 backends healthy, 1 Down: pod web-b \(192\.0\.2\.11, zone b\) ` + failingB + `$`))
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 2, Up: 1, Down: 1}))
		g.Expect(target.FailingBackends).To(HaveLen(1))
		b := target.FailingBackends[0]
		g.Expect(b.Message).To(MatchRegexp(`^` + failingB + `$`))
		b.LatencyMs, b.Message = 0, ""
		g.Expect(b).To(Equal(monitoringv1alpha1.BackendStatus{
			Address: addressB, Pod: "web-b", Zone: "b",
			Reason: monitoringv1alpha1.CheckUnexpectedStatus, StatusCode: http.StatusServiceUnavailable,
		}))
		degraded := condition(g, got, monitoringv1alpha1.ConditionDegraded)
		g.Expect(degraded.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(degraded.Reason).To(Equal(monitoringv1alpha1.ReasonBackendsDown))
		g.Expect(condition(g, got, monitoringv1alpha1.ConditionHealthy).Status).To(Equal(metav1.ConditionTrue))

		g.Expect(eventsFor(g, ns, hc.Name)).To(ContainElement(event(corev1.EventTypeWarning, monitoringv1alpha1.EventBackendDown,
			`^`+regexp.QuoteMeta(url+`: backend pod web-b (192.0.2.11, zone b) went Down: `)+failingB+`$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Each pod was reached at its own address and target port, and was sent
	// the URL's host, without a port: port 80 is http's default, so Go's
	// client leaves it out of Host.
	g.Expect(podA.hostsSeen()).To(ConsistOf(host))
	g.Expect(podB.hostsSeen()).To(ConsistOf(host))

	// web-b recovers: every backend is Up and Degraded clears.
	podB.answer(http.StatusOK)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		target := targetOf(g, got, url)
		g.Expect(target.State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 2, Up: 2}))
		g.Expect(target.FailingBackends).To(BeEmpty())
		g.Expect(condition(g, got, monitoringv1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(eventsFor(g, ns, hc.Name)).To(ContainElement(event(corev1.EventTypeNormal, monitoringv1alpha1.EventBackendRecovered,
			`^`+regexp.QuoteMeta(url+`: backend pod web-b (192.0.2.11, zone b) came back: `)+`returned 200 in `+latency+`$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// Every backend must be healthy now, and web-b fails again: the target is Down.
	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.Targets[0].FanOut.MinHealthy = ptr.To(intstr.FromString("100%"))
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())
	podB.answer(http.StatusServiceUnavailable)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		target := targetOf(g, got, url)
		g.Expect(target.State).To(Equal(monitoringv1alpha1.StateDown))
		g.Expect(target.Reason).To(Equal(monitoringv1alpha1.CheckUnexpectedStatus))
		g.Expect(target.StatusCode).To(BeEquivalentTo(http.StatusServiceUnavailable))
		g.Expect(target.Message).To(MatchRegexp(`^1 of 2 backends healthy, fewer than 2: pod web-b \(192\.0\.2\.11, zone b\) ` + failingB + `$`))
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 2, Up: 1, Down: 1}))
		g.Expect(condition(g, got, monitoringv1alpha1.ConditionHealthy).Status).To(Equal(metav1.ConditionFalse))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestTheBackendsMetricCountsUpAndDownPods(t *testing.T) {
	requireNetns(t)
	g := NewWithT(t)
	ns := newNamespace(t)
	startPod(t, addressA, http.StatusOK)
	startPod(t, addressB, http.StatusServiceUnavailable)
	webService(t, ns)
	url := "http://web." + ns + ".svc/healthz"
	hc := fanningOut(t, ns, "web", url, intstr.FromInt32(1))

	g.Eventually(func(g Gomega) {
		g.Expect(backendSeries(g, ns, hc.Name, url)).To(Equal(map[string]float64{"up": 1, "slow": 0, "down": 1}))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// listenTwice listens at 127.0.0.1 and ::1 on one port, as a dual-stack
// service's two addresses would, and returns the port.
func listenTwice(t *testing.T) (port string, v4, v6 net.Listener) {
	t.Helper()
	for range 20 {
		l4, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ = net.SplitHostPort(l4.Addr().String())
		l6, err := net.Listen("tcp", net.JoinHostPort("::1", port))
		if err != nil {
			_ = l4.Close() // taken on ::1: try another port
			continue
		}
		return port, l4, l6
	}
	t.Fatal("no port free on both 127.0.0.1 and ::1")
	return "", nil, nil
}

func TestAnAddressesFanOutNamesTheFailingAddressOfADualStackName(t *testing.T) {
	requireNetns(t)
	g := NewWithT(t)
	ns := newNamespace(t)
	port, l4, l6 := listenTwice(t)
	serve(t, l4, http.StatusOK)
	v6 := serve(t, l6, http.StatusServiceUnavailable)
	url := "http://" + dualStackName + ":" + port + "/healthz"
	hc := fanningOutBy(t, ns, "dual", url, monitoringv1alpha1.FanOutAddresses, intstr.FromInt32(1))

	failing := `returned 503 in ` + latency + `, expected 200-299`
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		target := targetOf(g, got, url)
		g.Expect(target.State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(target.Message).To(MatchRegexp(`^1 of 2 backends healthy, 1 Down: ::1 ` + failing + `$`))
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 2, Up: 1, Down: 1}))
		g.Expect(target.FailingBackends).To(ConsistOf(And(HaveField("Address", "::1"), HaveField("StatusCode", int32(http.StatusServiceUnavailable)))))
		g.Expect(condition(g, got, monitoringv1alpha1.ConditionDegraded).Reason).To(Equal(monitoringv1alpha1.ReasonBackendsDown))
		g.Expect(eventsFor(g, ns, hc.Name)).To(ContainElement(event(corev1.EventTypeWarning, monitoringv1alpha1.EventBackendDown,
			`^`+regexp.QuoteMeta(url+`: backend ::1 went Down: `)+failing+`$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(v6.hostsSeen()).To(ConsistOf(dualStackName+":"+port), "the IPv6 backend was sent the URL's host")

	// ipFamily IPv4 leaves the IPv6 address out.
	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.Targets[0].IPFamily = monitoringv1alpha1.IPFamilyIPv4
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		target := targetOf(g, get(g, hc), url)
		g.Expect(target.Backends).To(Equal(&monitoringv1alpha1.BackendSummary{Total: 1, Up: 1}))
		g.Expect(target.FailingBackends).To(BeEmpty())
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
