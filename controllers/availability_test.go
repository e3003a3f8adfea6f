package controllers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// accountingRound is a round at at of four targets: good, slow, failing and
// skipped for a missing Secret.
func accountingRound(at time.Time) *round {
	slow := good(true)
	return &round{
		started: at,
		targets: []resolve.Target{
			{URL: "http://good/", Name: "good"}, {URL: "http://slow/", Name: "slow"}, {URL: "http://bad/", Name: "bad"},
			{URL: "http://secret/", Name: "secret", Skip: monitoringv1alpha1.CheckSecretNotFound},
		},
		results: results(good(false), slow, bad(), checker.Result{}),
	}
}

func judgedStatus(rnd *round) *monitoringv1alpha1.HealthCheckStatus {
	status := &monitoringv1alpha1.HealthCheckStatus{}
	// failureThreshold 3: the failing target stays Pending, and still counts.
	applyRound(status, 1, rnd, thresholds{failure: 3, success: 1}, rnd.started, backendsDown{})
	return status
}

func targetByURL(status *monitoringv1alpha1.HealthCheckStatus, url string) monitoringv1alpha1.TargetStatus {
	for _, t := range status.Targets {
		if t.URL == url {
			return t
		}
	}
	return monitoringv1alpha1.TargetStatus{}
}

func TestTheAccountingCountsEveryCheckWithAResult(t *testing.T) {
	for _, tc := range []struct {
		name          string
		spec          monitoringv1alpha1.HealthCheckSpec
		inMaintenance bool
		good, total   int64
		slowTarget    string
	}{
		{"slow is good by default", monitoringv1alpha1.HealthCheckSpec{}, false, 2, 3, "100"},
		{"slowIsBad", monitoringv1alpha1.HealthCheckSpec{Objective: &monitoringv1alpha1.Objective{Availability: "99", SlowIsBad: true}}, false, 1, 3, "0"},
		{"in maintenance nothing counts", monitoringv1alpha1.HealthCheckSpec{}, true, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rnd := accountingRound(checkedAt)
			status := judgedStatus(rnd)
			c := countsFrom(status, availabilityWindow(tc.spec))
			countRound(status, c, rnd, tc.spec, objective(tc.spec), tc.inMaintenance)
			a := status.Availability
			if a.GoodChecks != tc.good || a.TotalChecks != tc.total {
				t.Fatalf("%d good of %d, want %d of %d", a.GoodChecks, a.TotalChecks, tc.good, tc.total)
			}
			if got := targetByURL(status, "http://slow/").Availability; got != tc.slowTarget {
				t.Fatalf("slow target's availability %q, want %q", got, tc.slowTarget)
			}
			if bad := targetByURL(status, "http://bad/"); bad.State != monitoringv1alpha1.StatePending || (!tc.inMaintenance && bad.Availability != "0") {
				t.Fatalf("a Pending target's failure is counted: %+v", bad)
			}
			if got := targetByURL(status, "http://secret/").Availability; got != "" {
				t.Fatalf("a skipped target has availability %q", got)
			}
		})
	}
}

func TestTheCountsSurviveARestartThroughStatus(t *testing.T) {
	spec := monitoringv1alpha1.HealthCheckSpec{}
	rnd := accountingRound(checkedAt)
	status := judgedStatus(rnd)
	c := countsFrom(status, availabilityWindow(spec))
	for i := range 10 {
		rnd.started = checkedAt.Add(time.Duration(i) * time.Minute)
		countRound(status, c, rnd, spec, nil, false)
	}
	// A new process reads the last status written.
	written := status.DeepCopy()
	restarted := countsFrom(written, availabilityWindow(spec))
	rnd.started = checkedAt.Add(10 * time.Minute)
	countRound(written, restarted, rnd, spec, nil, false)
	if a := written.Availability; a.GoodChecks != 22 || a.TotalChecks != 33 || a.Ratio != "66.6666" || !a.Since.Time.Equal(checkedAt) {
		t.Fatalf("after a restart: %+v", a)
	}
	if got := targetByURL(written, "http://bad/").AvailabilityCounts; got == "" || got != restarted.targets["http://bad/"].Encode() {
		t.Fatalf("target counts %q", got)
	}
}

func TestTheErrorBudgetBurnsAndRecovers(t *testing.T) {
	spec := monitoringv1alpha1.HealthCheckSpec{Objective: &monitoringv1alpha1.Objective{Availability: "99", Window: &metav1.Duration{Duration: 24 * time.Hour}}}
	status := &monitoringv1alpha1.HealthCheckStatus{}
	c := countsFrom(status, availabilityWindow(spec))
	at := checkedAt
	tick := func(minutes int, good bool) *budgetChange {
		var change *budgetChange
		for range minutes {
			at = at.Add(time.Minute)
			g := int64(0)
			if good {
				g = 1
			}
			c.ledger.Add(at, g, 1)
			if ch := setBudgetConditions(status, c.ledger, c.ledger.Figures(at), objective(spec), 1, at); ch != nil {
				change = ch
			}
		}
		return change
	}
	if change := tick(6*60, true); change != nil || !meta.IsStatusConditionFalse(status.Conditions, monitoringv1alpha1.ConditionErrorBudgetBurning) {
		t.Fatalf("six good hours: %+v, %+v", change, status.Conditions)
	}
	change := tick(10, false)
	if change == nil || !change.burning || !strings.HasPrefix(change.message, "Error budget of 99%: burn rate ") {
		t.Fatalf("ten bad minutes: %+v", change)
	}
	burning := meta.FindStatusCondition(status.Conditions, monitoringv1alpha1.ConditionErrorBudgetBurning)
	if burning.Status != metav1.ConditionTrue || burning.Message != "The error budget of 99% burns more than 14.4 times the sustainable rate over 1h and 5m" {
		t.Fatalf("burning %+v", burning)
	}
	if change := tick(5, false); change != nil {
		t.Fatalf("still burning is not news: %+v", change)
	}
	// Good again: the 5m rate falls at once, the 1h stays high; the 6h rule
	// (6h above 6 and 30m above 6) holds for a while, then nothing does.
	change = tick(60, true)
	if change == nil || change.burning {
		t.Fatalf("an hour of good checks: %+v, conditions %+v", change, status.Conditions)
	}
	// 15 bad checks of 435 in the window are 3.4%, more than the budget of 1%.
	exhausted := meta.FindStatusCondition(status.Conditions, monitoringv1alpha1.ConditionErrorBudgetExhausted)
	if exhausted.Status != metav1.ConditionTrue || exhausted.Message != "The error budget over 24h0m0s is spent" {
		t.Fatalf("exhausted %+v", exhausted)
	}
}

// TestStatusOfFiveHundredFannedOutTargetsWithAvailabilityStaysUnderOneMiB adds
// the availability counts of a 90-day window at a 1s interval, at their
// longest, to the worst case of fan-out.
func TestStatusOfFiveHundredFannedOutTargetsWithAvailabilityStaysUnderOneMiB(t *testing.T) {
	const limit = 1 << 20
	status := worstCaseFannedOutStatus(t)
	spec := monitoringv1alpha1.HealthCheckSpec{Objective: &monitoringv1alpha1.Objective{Availability: "99.999", Window: &metav1.Duration{Duration: availability.MaxWindow}}}
	c := countsFrom(status, availabilityWindow(spec))
	// Every bucket of every target full to the most a bucket holds, all of it
	// failing: the largest numbers the encoding writes (a check a second for
	// 90 days is 259,200 a bucket; requested rounds add more).
	start := checkedAt.Add(-availability.MaxWindow)
	step := availability.MaxWindow / 30
	for i := range status.Targets {
		target := availability.NewTargetLedger(availability.MaxWindow)
		for at := start; !at.After(checkedAt); at = at.Add(step) {
			c.ledger.AddTarget(target, at, 0, availability.MaxBucketChecks/2)
		}
		status.Targets[i].AvailabilityCounts = target.Encode()
		status.Targets[i].Availability = "99.9999"
	}
	status.Availability = c.ledger.Status(checkedAt, objective(spec))
	status.Availability.ErrorBudgetRemaining = strings.Repeat("9", monitoringv1alpha1.MaxBudgetLength)
	encoded, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status of %d fanned-out worst-case targets with 90-day counts: %d bytes (counts of a target: %d characters)",
		len(status.Targets), len(encoded), len(status.Targets[0].AvailabilityCounts))
	if len(encoded) >= limit {
		t.Fatalf("status is %d bytes, over %d", len(encoded), limit)
	}
	if n := len(status.Targets[0].AvailabilityCounts); n > monitoringv1alpha1.MaxTargetCountsLength || n < 100 {
		t.Fatalf("a target's counts are %d characters", n)
	}
}
