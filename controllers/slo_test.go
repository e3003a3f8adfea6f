package controllers_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/notify"
)

func TestAvailabilityAndTheErrorBudgetAreInStatusConditionsAndMetrics(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	up, down := srv.url("/status/200"), srv.url("/status/503")
	hc := newHealthCheck(ns, "slo", up, down)
	hc.Spec.Objective = &monitoringv1alpha1.Objective{Availability: "99.9", Window: duration(time.Hour)}
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		a := got.Status.Availability
		g.Expect(a).NotTo(BeNil())
		g.Expect(a.Window.Duration).To(Equal(time.Hour))
		g.Expect(a.Ratio).To(Equal("50"), "one good check of two per round")
		g.Expect(a.TotalChecks).To(BeNumerically(">=", 2))
		g.Expect(a.GoodChecks * 2).To(Equal(a.TotalChecks))
		g.Expect(a.Since).NotTo(BeNil(), "a young HealthCheck says since when it counts")
		g.Expect(a.ErrorBudgetRemaining).To(Equal("-49900"), "50% bad against a budget of 0.1%: 500 budgets spent")
		g.Expect(a.Counts).NotTo(BeEmpty())
		g.Expect(targetState(got, up).Availability).To(Equal("100"))
		g.Expect(targetState(got, down).Availability).To(Equal("0"))

		burning := conditionOf(got, monitoringv1alpha1.ConditionErrorBudgetBurning)
		g.Expect(burning.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(burning.Reason).To(Equal(monitoringv1alpha1.ReasonBurnRateHigh))
		g.Expect(burning.Message).To(Equal("The error budget of 99.9% burns more than 14.4 times the sustainable rate over 1h and 5m"))
		exhausted := conditionOf(got, monitoringv1alpha1.ConditionErrorBudgetExhausted)
		g.Expect(exhausted.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(exhausted.Message).To(Equal("The error budget over 1h0m0s is spent"))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "slo")).To(ContainElement(eventMatching("Warning", "ErrorBudgetBurning",
			`^Error budget of 99\.9%: burn rate 500\.0 over 5m, 500\.0 over 30m, 500\.0 over 1h and 500\.0 over 6h; -49900% of the budget over 1h0m0s is left$`)))
		s := seriesOf(g, ns)
		g.Expect(s).To(HaveKeyWithValue("healthcheck_availability_ratio{healthcheck=slo}", 0.5))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_objective_ratio{healthcheck=slo}", 0.999))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_error_budget_remaining_ratio{healthcheck=slo}", -499.0))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestWithoutAnObjectiveAvailabilityIsShownOverTheDefaultWindow(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "plain", srv.url("/status/200"))
	create(t, hc)
	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(got.Status.Availability).NotTo(BeNil())
		g.Expect(got.Status.Availability.Window.Duration).To(Equal(720 * time.Hour))
		g.Expect(got.Status.Availability.Ratio).To(Equal("100"))
		g.Expect(got.Status.Availability.ErrorBudgetRemaining).To(BeEmpty())
		g.Expect(conditionOf(got, monitoringv1alpha1.ConditionErrorBudgetBurning).Type).To(BeEmpty(), "no objective, no budget conditions")
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestInAMaintenanceWindowNothingIsNotifiedNorCounted(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	received := webhookReceiver(t, ns)
	down := srv.url("/status/503")
	hc := newHealthCheck(ns, "maintained", down)
	hc.Spec.Notify = notifySpec()
	// A window that opens every minute and lasts a week: always open.
	hc.Spec.Maintenance = []monitoringv1alpha1.MaintenanceWindow{{Schedule: "* * * * *", Duration: metav1.Duration{Duration: 168 * time.Hour}}}
	create(t, hc)

	g.Eventually(func(g Gomega) {
		got := get(g, hc)
		g.Expect(targetState(got, down).State).To(Equal(monitoringv1alpha1.StateDown), "checks still run and status shows them")
		m := conditionOf(got, monitoringv1alpha1.ConditionInMaintenance)
		g.Expect(m.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(m.Message).To(MatchRegexp(`^In a maintenance window until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`))
		g.Expect(got.Status.Availability.TotalChecks).To(BeZero(), "checks in a window do not count")
		g.Expect(eventsFor(g, ns, "maintained")).To(ContainElement(eventMatching("Warning", "TargetDown",
			`^`+regexp.QuoteMeta(down)+` returned 503 in `+latency+`, expected 200-299 \(1 consecutive failure\) \(in maintenance\)$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(received).WithTimeout(2 * time.Second).Should(BeEmpty())
}

func TestAnInvalidMaintenanceScheduleIsAnInvalidSpecNamingIt(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "badwindow", "http://127.0.0.1:1/")
	hc.Spec.Maintenance = []monitoringv1alpha1.MaintenanceWindow{
		{Schedule: "0 2 * * SUN", Duration: metav1.Duration{Duration: time.Hour}},
		{Schedule: "0 2 * * SUN", Duration: metav1.Duration{Duration: time.Hour}, TimeZone: "Mars/Olympus_Mons"},
	}
	create(t, hc)
	g.Eventually(func(g Gomega) {
		ready := readyCondition(g, hc)
		g.Expect(ready.Reason).To(Equal(monitoringv1alpha1.ReasonInvalidSpec))
		g.Expect(ready.Message).To(HavePrefix(`spec.maintenance[1].timeZone: `))
		g.Expect(ready.Message).To(ContainSubstring(`Mars/Olympus_Mons`))
		g.Expect(get(g, hc).Status.Targets).To(BeEmpty(), "nothing is checked")
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
}

func TestARoundsTransitionsAreOneGroupedMessage(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	received := webhookReceiver(t, ns)
	a, b, c := srv.url("/status/500"), srv.url("/status/502"), srv.url("/status/503")
	hc := newHealthCheck(ns, "grouped", a, b, c)
	hc.Spec.Notify = notifySpec()
	hc.Spec.Notify.GroupBy = monitoringv1alpha1.GroupByRound
	create(t, hc)

	var m notify.Message
	g.Eventually(received).WithTimeout(timeout).Should(Receive(&m))
	g.Expect(m.HealthCheck).To(Equal(ns + "/grouped"))
	g.Expect(m.Transitions).To(HaveLen(3))
	lines := strings.Split(m.Text, "\n")
	g.Expect(lines[0]).To(Equal(ns + "/grouped: 3 transitions"))
	g.Expect(lines[1:]).To(ConsistOf(
		MatchRegexp(`^TargetDown: `+regexp.QuoteMeta(a)+` returned 500 in `),
		MatchRegexp(`^TargetDown: `+regexp.QuoteMeta(b)+` returned 502 in `),
		MatchRegexp(`^TargetDown: `+regexp.QuoteMeta(c)+` returned 503 in `)))
	g.Consistently(received).WithTimeout(2*time.Second).Should(BeEmpty(), "one message for the round, none per target")
}

func TestADependencyThatIsNotHealthyHoldsBackDownNotifications(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	received := webhookReceiver(t, ns)
	create(t, newHealthCheck(ns, "database", srv.url("/status/503")))
	g.Eventually(func(g Gomega) string {
		return string(conditionStatus(get(g, &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "database"}}), monitoringv1alpha1.ConditionHealthy))
	}).WithTimeout(timeout).WithPolling(poll).Should(Equal("False"))

	down := srv.url("/status/500")
	hc := newHealthCheck(ns, "shop", down)
	hc.Spec.Notify = notifySpec()
	hc.Spec.Notify.DependsOn = []string{"database"}
	create(t, hc)
	g.Eventually(func(g Gomega) {
		g.Expect(eventsFor(g, ns, "shop")).To(ContainElement(eventMatching("Warning", "TargetDown",
			`^`+regexp.QuoteMeta(down)+` returned 500 in `+latency+`, expected 200-299 \(1 consecutive failure\) \(not notified: depends on HealthCheck database, which is not Healthy\)$`)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Consistently(received).WithTimeout(2 * time.Second).Should(BeEmpty())
}

// conditionOf returns hc's condition of condType, the zero Condition when it has none.
func conditionOf(hc *monitoringv1alpha1.HealthCheck, condType string) metav1.Condition {
	for _, c := range hc.Status.Conditions {
		if c.Type == condType {
			return c
		}
	}
	return metav1.Condition{}
}
