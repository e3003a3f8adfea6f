package controllers

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// backendRound is a round of one fanned-out target, web, whose backends
// 10.0.0.1, 10.0.0.2, ... answered as results say, judged with minHealthy 1.
func backendRound(results ...checker.Result) *round {
	fan := resolve.FanOut{Mode: monitoringv1alpha1.FanOutEndpoints, MinHealthy: intstr.FromInt32(1)}
	res := resolve.Result{}
	for i, r := range results {
		b := discover.Backend{Address: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), Port: 8080, Pod: fmt.Sprintf("web-%d", i+1), Zone: "zone-" + string(rune('a'+i))}
		res.Backends = append(res.Backends, resolve.BackendResult{Backend: b, Result: r})
		fan.Backends = append(fan.Backends, b)
	}
	res.Result = judgedBackends(res.Backends)
	return &round{started: checkedAt, targets: []resolve.Target{{URL: "http://web.shop.svc/", Name: "web", FanOut: &fan}}, results: []resolve.Result{res}}
}

// judgedBackends is the target's result as resolve judges it: good while
// one backend is healthy, else the first failure.
func judgedBackends(backends []resolve.BackendResult) checker.Result {
	for _, b := range backends {
		if b.Healthy() {
			return good(false)
		}
	}
	return bad()
}

// notes words transitions as their events would be.
func notes(transitions []transition) []string {
	var out []string
	for _, tr := range transitions {
		typ, reason, note := describe(tr, 1)
		out = append(out, typ+" "+reason+" "+note)
	}
	return out
}

func TestABackendGoingDownAndComingBackIsOneEventEachWay(t *testing.T) {
	status := &monitoringv1alpha1.HealthCheckStatus{}
	down := backendsDown{}
	th := thresholds{failure: 1, success: 1}

	_, transitions := applyRound(status, 1, backendRound(good(false), bad(), good(false)), th, checkedAt, down)
	web := status.Targets[0]
	if web.State != monitoringv1alpha1.StateUp || *web.Backends != (monitoringv1alpha1.BackendSummary{Total: 3, Up: 2, Down: 1}) {
		t.Fatalf("web %+v, backends %+v", web, web.Backends)
	}
	if len(web.FailingBackends) != 1 || web.FailingBackends[0] != (monitoringv1alpha1.BackendStatus{
		Address: "10.0.0.2", Pod: "web-2", Zone: "zone-b", Reason: monitoringv1alpha1.CheckUnexpectedStatus, StatusCode: 503, LatencyMs: 5, Message: "returned 503 in 5ms, expected 200-299",
	}) {
		t.Fatalf("failing backends %+v", web.FailingBackends)
	}
	want := []string{
		"Warning BackendDown web: backend pod web-2 (10.0.0.2, zone zone-b) went Down: returned 503 in 5ms, expected 200-299",
	}
	if got := notes(transitions); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	degraded := meta.FindStatusCondition(status.Conditions, monitoringv1alpha1.ConditionDegraded)
	if degraded.Status != metav1.ConditionTrue || degraded.Reason != monitoringv1alpha1.ReasonBackendsDown ||
		degraded.Message != "1 of 1 targets have backends Down, with enough healthy ones not to be Down" {
		t.Fatalf("Degraded %+v", degraded)
	}

	if _, again := applyRound(status, 1, backendRound(good(false), bad(), good(false)), th, checkedAt, down); len(again) != 0 {
		t.Fatalf("a backend still Down was announced again: %q", notes(again))
	}

	_, transitions = applyRound(status, 1, backendRound(good(false), good(false), bad()), th, checkedAt, down)
	want = []string{
		"Warning BackendDown web: backend pod web-3 (10.0.0.3, zone zone-c) went Down: returned 503 in 5ms, expected 200-299",
		"Normal BackendRecovered web: backend pod web-2 (10.0.0.2, zone zone-b) came back: returned 200 in 120ms",
	}
	if got := notes(transitions); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	_, transitions = applyRound(status, 1, backendRound(good(false), good(false), good(false)), th, checkedAt, down)
	if got := notes(transitions); len(got) != 1 || !strings.HasPrefix(got[0], "Normal BackendRecovered web: backend pod web-3") {
		t.Fatalf("events %q", got)
	}
	if web := status.Targets[0]; web.FailingBackends != nil || web.Backends.Down != 0 {
		t.Fatalf("web %+v", web)
	}
	if conditionStatusOf(status, monitoringv1alpha1.ConditionDegraded) != metav1.ConditionFalse {
		t.Fatal("Degraded stays True with every backend Up")
	}
}

func TestManyBackendsChangingInOneRoundAreOneEventNamingFive(t *testing.T) {
	results := make([]checker.Result, 8)
	for i := range results {
		results[i] = bad()
	}
	_, transitions := applyRound(&monitoringv1alpha1.HealthCheckStatus{}, 1, backendRound(results...), thresholds{failure: 1, success: 1}, checkedAt, backendsDown{})
	if got := notes(transitions); len(got) == 0 || got[0] != "Warning TargetDown web: returned 503 in 5ms, expected 200-299 (1 consecutive failure)" {
		t.Fatalf("the target's own event %q, want its name and evidence apart", got)
	}
	var backendEvents []string
	for _, n := range notes(transitions) {
		if strings.Contains(n, "BackendDown") {
			backendEvents = append(backendEvents, n)
		}
	}
	if len(backendEvents) != 1 || !strings.HasPrefix(backendEvents[0], "Warning BackendDown web: 8 backends went Down: pod web-1 (10.0.0.1, zone zone-a): returned 503") ||
		!strings.HasSuffix(backendEvents[0], "; and 3 more") || strings.Count(backendEvents[0], "pod web-") != 5 {
		t.Fatalf("events %q", backendEvents)
	}
}

func TestAfterARestartOnlyNewFailuresAreAnnounced(t *testing.T) {
	th := thresholds{failure: 1, success: 1}
	status := &monitoringv1alpha1.HealthCheckStatus{}
	applyRound(status, 1, backendRound(good(false), bad(), good(false)), th, checkedAt, backendsDown{})

	// A new process: it knows only status.
	_, transitions := applyRound(status, 1, backendRound(good(false), bad(), bad()), th, checkedAt, backendsDown{})
	if got := notes(transitions); len(got) != 1 || !strings.Contains(got[0], "backend pod web-3") {
		t.Fatalf("events %q, want web-3 only", got)
	}

	// Status that could not name every failing backend: one Down now and not
	// named may have been Down before, so it is not announced.
	status.Targets[0].FailingBackends = status.Targets[0].FailingBackends[:1]
	if _, transitions := applyRound(status, 1, backendRound(good(false), bad(), bad()), th, checkedAt, backendsDown{}); len(transitions) != 0 {
		t.Fatalf("events %q after a restart with an incomplete list", notes(transitions))
	}
}

func TestFailingBackendsAreSharedSoEveryTargetNamesOne(t *testing.T) {
	lists := func(sizes ...int) [][]monitoringv1alpha1.BackendStatus {
		out := make([][]monitoringv1alpha1.BackendStatus, len(sizes))
		for i, n := range sizes {
			out[i] = make([]monitoringv1alpha1.BackendStatus, n)
		}
		return out
	}
	for _, tc := range []struct {
		sizes []int
		want  []int
	}{
		{[]int{0, 3, 40}, []int{0, 3, 16}},
		{[]int{300, 1, 2}, []int{16, 1, 2}},
	} {
		if got := shareFailingBackends(lists(tc.sizes...)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("shares of %v: %v, want %v", tc.sizes, got, tc.want)
		}
	}
	many := make([]int, 300)
	for i := range many {
		many[i] = 20
	}
	shares := shareFailingBackends(lists(many...))
	total := 0
	for i, n := range shares {
		total += n
		if (i < monitoringv1alpha1.MaxFailingBackendsTotal) != (n == 1) {
			t.Fatalf("target %d names %d failing backends", i, n)
		}
	}
	if total != monitoringv1alpha1.MaxFailingBackendsTotal {
		t.Fatalf("%d failing backends named in all", total)
	}
}

// worstCaseFannedOutStatus builds the largest status fan-out allows: 500
// targets with the longest URLs, names and sources, each with 20 failing
// backends whose pods, zones and messages are as long as the API allows.
func worstCaseFannedOutStatus(t *testing.T) *monitoringv1alpha1.HealthCheckStatus {
	t.Helper()
	urlLength := monitoringv1alpha1.MaxTotalURLLength / monitoringv1alpha1.MaxTargets
	rnd := &round{started: checkedAt}
	for i := range monitoringv1alpha1.MaxTargets {
		u := fmt.Sprintf("https://host-%03d.example.com/", i)
		u += strings.Repeat("p", urlLength-len(u))
		fan := resolve.FanOut{Mode: monitoringv1alpha1.FanOutEndpoints, MinHealthy: intstr.FromString("100%")}
		res := resolve.Result{Result: bad()}
		for k := range 20 {
			b := discover.Backend{
				Address: netip.MustParseAddr(fmt.Sprintf("ffff:ffff:ffff:ffff:ffff:ffff:%04x:%04x", i, k)),
				Pod:     strings.Repeat("p", 250) + fmt.Sprintf("%03d", k), Zone: strings.Repeat("z", 63),
			}
			fan.Backends = append(fan.Backends, b)
			r := bad()
			r.Latency, r.Message = time.Hour, strings.Repeat("m", checker.MaxMessageLength)
			res.Backends = append(res.Backends, resolve.BackendResult{Backend: b, Result: r})
		}
		res.Message = strings.Repeat("m", checker.MaxMessageLength)
		rnd.targets = append(rnd.targets, resolve.Target{URL: u, Name: strings.Repeat("n", 128), StatusName: strings.Repeat("n", 128),
			Source: strings.Repeat("s", monitoringv1alpha1.MaxSourceLength), FanOut: &fan})
		rnd.results = append(rnd.results, res)
	}
	status := &monitoringv1alpha1.HealthCheckStatus{}
	applyRound(status, 1, rnd, thresholds{failure: 1, success: 1}, checkedAt, backendsDown{})
	return status
}

func TestStatusOfFiveHundredFannedOutTargetsStaysUnderOneMiB(t *testing.T) {
	const limit = 1 << 20
	status := worstCaseFannedOutStatus(t)
	named := 0
	for _, target := range status.Targets {
		named += len(target.FailingBackends)
		if target.Backends.Down != 20 {
			t.Fatalf("backends %+v", target.Backends)
		}
	}
	encoded, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status of %d fanned-out worst-case targets naming %d failing backends: %d bytes", len(status.Targets), named, len(encoded))
	if named != monitoringv1alpha1.MaxFailingBackendsTotal || len(encoded) >= limit {
		t.Fatalf("status names %d failing backends in %d bytes, want %d in under %d", named, len(encoded), monitoringv1alpha1.MaxFailingBackendsTotal, limit)
	}
}
