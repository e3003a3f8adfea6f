package controllers_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// latency matches a latency as the checker words it: <1ms, 120ms or 2.5s.
const latency = `(<1ms|\d+ms|\d+(\.\d+)?s)`

func duration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// newHealthCheck builds a HealthCheck of the given URLs, checked every second.
func newHealthCheck(ns, name string, urls ...string) *monitoringv1alpha1.HealthCheck {
	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       monitoringv1alpha1.HealthCheckSpec{Interval: duration(time.Second)},
	}
	for _, u := range urls {
		hc.Spec.Targets = append(hc.Spec.Targets, monitoringv1alpha1.Target{URL: u})
	}
	return hc
}

func create(t *testing.T, hc *monitoringv1alpha1.HealthCheck) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), hc); err != nil {
		t.Fatalf("creating HealthCheck: %v", err)
	}
	// envtest runs no namespace controller: delete what the test made, so that
	// later tests share the operator with nothing left over.
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), hc) })
}

// get reads a HealthCheck back from the API server.
func get(g Gomega, hc *monitoringv1alpha1.HealthCheck) *monitoringv1alpha1.HealthCheck {
	out := &monitoringv1alpha1.HealthCheck{}
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(hc), out)).To(Succeed())
	return out
}

// readyCondition reads a HealthCheck's Ready condition, which must be set.
func readyCondition(g Gomega, hc *monitoringv1alpha1.HealthCheck) metav1.Condition {
	ready := meta.FindStatusCondition(get(g, hc).Status.Conditions, monitoringv1alpha1.ConditionReady)
	g.Expect(ready).NotTo(BeNil())
	return *ready
}

func targetState(hc *monitoringv1alpha1.HealthCheck, url string) monitoringv1alpha1.TargetStatus {
	for _, t := range hc.Status.Targets {
		if t.URL == url {
			return t
		}
	}
	return monitoringv1alpha1.TargetStatus{}
}

func conditionStatus(hc *monitoringv1alpha1.HealthCheck, condType string) metav1.ConditionStatus {
	c := meta.FindStatusCondition(hc.Status.Conditions, condType)
	if c == nil {
		return ""
	}
	return c.Status
}

func TestCreatedHealthCheckGetsStatusOfEveryTarget(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	up, notFound, down := srv.url("/status/200"), srv.url("/status/404"), srv.url("/status/503")
	hc := newHealthCheck(ns, "mixed", up, down, notFound)
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(got.Status.Summary).To(Equal(&monitoringv1alpha1.Summary{Total: 3, Up: 1, Down: 2}))
		g.Expect(got.Status.Targets).To(HaveLen(3))
		g.Expect(got.Status.Targets[0].URL).To(Equal(up), "targets are sorted by URL")
		g.Expect(got.Status.Targets[1].URL).To(Equal(notFound))
		g.Expect(got.Status.Targets[2].URL).To(Equal(down))

		g.Expect(targetState(got, up)).To(beTarget(up, monitoringv1alpha1.StateUp, 200, monitoringv1alpha1.CheckOK))
		g.Expect(targetState(got, down)).To(beTarget(down, monitoringv1alpha1.StateDown, 503, monitoringv1alpha1.CheckUnexpectedStatus))
		g.Expect(targetState(got, down).ConsecutiveFailures).To(BeEquivalentTo(1))
		g.Expect(targetState(got, down).LastCheckTime).NotTo(BeNil())
		g.Expect(targetState(got, down).LastTransitionTime).NotTo(BeNil())

		g.Expect(got.Status.LastRunTime).NotTo(BeNil())
		// Half an interval to one and a half after the first round, on the object's
		// phase grid; the API keeps whole seconds.
		g.Expect(got.Status.NextRunTime.Sub(got.Status.LastRunTime.Time)).To(BeNumerically("~", time.Second, time.Second))
		g.Expect(got.Status.LastRunDuration).NotTo(BeNil())
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionReady)).To(Equal(metav1.ConditionTrue))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionHealthy)).To(Equal(metav1.ConditionFalse))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionDegraded)).To(Equal(metav1.ConditionFalse))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "mixed")).To(ConsistOf(
			eventMatching("Warning", "TargetDown", `^`+regexp.QuoteMeta(down)+` returned 503 in `+latency+`, expected 200-299 \(1 consecutive failure\)$`),
			eventMatching("Warning", "TargetDown", `^`+regexp.QuoteMeta(notFound)+` returned 404 in `+latency+`, expected 200-299 \(1 consecutive failure\)$`),
		))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestTargetGoesDownThenRecoversWithOneEventEach(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	flip := srv.url("/flip")
	hc := newHealthCheck(ns, "flapping", flip)
	hc.Spec.FailureThreshold = 2
	srv.setFlip(503)
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := targetState(get(g, hc), flip)
		g.Expect(got.State).To(Equal(monitoringv1alpha1.StateDown))
		g.Expect(got.ConsecutiveFailures).To(BeEquivalentTo(2))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// It stays Down for several more rounds: no further event.
	hits := srv.hitCount("/flip")
	g.Eventually(func() int { return srv.hitCount("/flip") }).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", hits+3))
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "flapping")).To(ConsistOf(
			eventMatching("Warning", "TargetDown", `^`+regexp.QuoteMeta(flip)+` returned 503 in `+latency+`, expected 200-299 \(2 consecutive failures\)$`),
		))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	srv.setFlip(200)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, flip).State).To(Equal(monitoringv1alpha1.StateUp))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionHealthy)).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "flapping")).To(ConsistOf(
			eventMatching("Warning", "TargetDown", `\(2 consecutive failures\)$`),
			eventMatching("Normal", "TargetRecovered", `^`+regexp.QuoteMeta(flip)+` returned 200 in `+latency+` \(was Down\)$`),
		))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestSlowTargetIsFlaggedWithEvent(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	slow := srv.url("/delay/300")
	hc := newHealthCheck(ns, "slow", slow)
	hc.Spec.SlowThreshold = duration(100 * time.Millisecond)
	hc.Spec.Timeout = duration(900 * time.Millisecond)
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, slow)).To(beTarget(slow, monitoringv1alpha1.StateSlow, 200, monitoringv1alpha1.CheckSlowResponse))
		g.Expect(targetState(got, slow).LatencyMs).To(BeNumerically(">=", 300))
		g.Expect(got.Status.Summary).To(HaveField("Slow", BeEquivalentTo(1)))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionDegraded)).To(Equal(metav1.ConditionTrue))
		g.Expect(conditionStatus(got, monitoringv1alpha1.ConditionHealthy)).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "slow")).To(ConsistOf(
			eventMatching("Warning", "TargetSlow", `^`+regexp.QuoteMeta(slow)+` returned 200 in `+latency+`, slower than 100ms$`),
		))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestSpecEditTakesEffectAtOnce(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	target := srv.url("/status/503")
	hc := newHealthCheck(ns, "edited", target)
	hc.Spec.Interval = duration(time.Hour) // only a spec change can cause a second round
	create(t, hc)

	g.Eventually(func(g Gomega) {
		g.Expect(targetState(get(g, hc), target).State).To(Equal(monitoringv1alpha1.StateDown))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.Targets[0].ExpectedStatusCodes = []string{"200-299", "503"}
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(targetState(got, target).State).To(Equal(monitoringv1alpha1.StateUp))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(srv.hitCount("/status/503")).To(Equal(2), "one round at creation, one for the edit")
}

func TestDeleteCancelsInFlightChecksAndLongRoundsBlockNoOne(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hanging := newHealthCheck(ns, "hanging", srv.url("/hang"))
	hanging.Spec.Interval = duration(time.Minute)
	hanging.Spec.Timeout = duration(50 * time.Second)
	create(t, hanging)
	g.Eventually(srv.hanging).WithTimeout(timeout).Should(Receive(), "the check reached the server")

	// While that round hangs, another HealthCheck is checked as usual.
	other := newHealthCheck(ns, "other", srv.url("/status/200"))
	create(t, other)
	g.Eventually(func(g Gomega) {
		g.Expect(get(g, other).Status.Summary).To(HaveField("Up", BeEquivalentTo(1)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(srv.cancelled).NotTo(Receive(), "the hanging check is still in flight")

	g.Expect(k8sClient.Delete(context.Background(), hanging)).To(Succeed())
	g.Eventually(srv.cancelled).WithTimeout(5*time.Second).Should(Receive(), "deleting the HealthCheck cancelled its check")
}

func TestSteadyTargetsCauseNoStatusWrites(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "steady", srv.url("/status/200"), srv.url("/status/500"))
	create(t, hc)

	var settled string
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(got.Status.Summary).To(Equal(&monitoringv1alpha1.Summary{Total: 2, Up: 1, Down: 1}))
		settled = got.ResourceVersion
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	hits := srv.hitCount("/status/200")
	g.Eventually(func() int { return srv.hitCount("/status/200") }).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", hits+3))
	g.Expect(get(g, hc).ResourceVersion).To(Equal(settled), "three more rounds with the same outcome wrote nothing")
}

func TestSuspendedHealthCheckRunsNoChecks(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "suspended", srv.url("/status/200"))
	hc.Spec.Suspend = true
	create(t, hc)

	g.Eventually(func(g Gomega) {
		ready := readyCondition(g, hc)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(monitoringv1alpha1.ReasonSuspended))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(func() int { return srv.hitCount("/status/200") }).WithTimeout(2 * time.Second).WithPolling(poll).Should(BeZero())
}

func TestStatesAndCountsAreReadBackFromStatus(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	target := srv.url("/status/200")
	hc := newHealthCheck(ns, "restarted", target)
	hc.Spec.Suspend = true
	hc.Spec.SuccessThreshold = 2
	create(t, hc)
	g.Eventually(func(g Gomega) {
		g.Expect(conditionStatus(get(g, hc), monitoringv1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// What an earlier operator process left: the target is Down after 3 failures.
	latest := get(g, hc)
	before := latest.DeepCopy()
	latest.Status.Targets = []monitoringv1alpha1.TargetStatus{{
		URL: target, Name: target, State: monitoringv1alpha1.StateDown, StatusCode: 503,
		Reason: monitoringv1alpha1.CheckUnexpectedStatus, ConsecutiveFailures: 3,
	}}
	g.Expect(k8sClient.Status().Patch(context.Background(), latest, client.MergeFrom(before))).To(Succeed())

	latest = get(g, hc)
	before = latest.DeepCopy()
	latest.Spec.Suspend = false
	g.Expect(k8sClient.Patch(context.Background(), latest, client.MergeFrom(before))).To(Succeed())

	// One good answer is not enough to bring a Down target back with successThreshold 2.
	g.Eventually(func(g Gomega) {
		got := targetState(get(g, hc), target)
		g.Expect(got.ConsecutiveSuccesses).To(BeEquivalentTo(1))
		g.Expect(got.State).To(Equal(monitoringv1alpha1.StateDown))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(targetState(get(g, hc), target).State).To(Equal(monitoringv1alpha1.StateUp))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

// TestASaturatedHealthCheckShowsLagNotFailures gives one worker five targets that
// each take 300ms, with a 1s interval: rounds take longer than the interval and
// start late, yet no target times out, because each check is timed from its own
// start. The lag shows in healthcheck_schedule_lag_seconds (and in status.lastRunLag
// on the next status refresh).
func TestASaturatedHealthCheckShowsLagNotFailures(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	var urls []string
	for i := range 5 {
		urls = append(urls, srv.url("/delay/300")+"?n="+string(rune('a'+i)))
	}
	hc := newHealthCheck(ns, "saturated", urls...)
	hc.Spec.Workers = 1
	hc.Spec.Timeout = duration(time.Second)
	hc.Spec.SlowThreshold = duration(900 * time.Millisecond)
	lagBefore := scheduleLagSum(g)
	create(t, hc)

	g.Eventually(func() int { return srv.hitCount("/delay/300") }).WithTimeout(timeout).WithPolling(poll).Should(BeNumerically(">=", 15), "three rounds")
	g.Expect(scheduleLagSum(g)-lagBefore).To(BeNumerically(">", 0.5), "rounds started late")
	g.Expect(get(g, hc).Status.Summary).To(Equal(&monitoringv1alpha1.Summary{Total: 5, Up: 5}))
	g.Expect(eventsFor(g, ns, "saturated")).To(BeEmpty(), "no target was ever reported Down or Slow")
}

func scheduleLagSum(g Gomega) float64 {
	families := scrapeMetrics(g)
	for _, f := range families {
		if f.GetName() == "healthcheck_schedule_lag_seconds" {
			return f.GetMetric()[0].GetHistogram().GetSampleSum()
		}
	}
	return 0
}

func TestABodyThatDoesNotMatchIsAFailure(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	target := srv.url("/status/200") // answers 200 with an empty body
	hc := newHealthCheck(ns, "body", target)
	hc.Spec.Targets[0].BodyContains = `"status":"ok"`
	create(t, hc)
	g.Eventually(func(g Gomega) {
		g.Expect(targetState(get(g, hc), target)).To(beTarget(target, monitoringv1alpha1.StateDown, 200, monitoringv1alpha1.CheckBodyMismatch))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}
