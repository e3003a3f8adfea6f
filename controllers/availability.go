package controllers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// counts is what the reconciler keeps of a HealthCheck's availability between
// status writes: status carries the counts only when it is written anyway (a
// change or the heartbeat), so each round adds to these, seeded from status
// after a restart or a leader change.
type counts struct {
	ledger *availability.Ledger
	// targets are the targets' ledgers, by URL.
	targets map[string]*availability.TargetLedger
}

// countsFrom seeds a HealthCheck's counts from its status, for window.
// Counts that do not decode (or were kept for another window) start afresh.
func countsFrom(status *monitoringv1alpha1.HealthCheckStatus, window time.Duration) *counts {
	c := &counts{targets: make(map[string]*availability.TargetLedger, len(status.Targets))}
	if status.Availability != nil {
		c.ledger, _ = availability.Decode(status.Availability.Counts, window)
	}
	if c.ledger == nil {
		c.ledger = availability.NewLedger(window)
	}
	for _, t := range status.Targets {
		if target, err := availability.DecodeTarget(t.AvailabilityCounts, window); err == nil {
			c.targets[t.URL] = target
		}
	}
	return c
}

// objective is a HealthCheck's spec.objective, parsed; nil without one, or
// when its availability does not parse (the schema's pattern prevents it).
func objective(spec monitoringv1alpha1.HealthCheckSpec) *availability.Objective {
	if spec.Objective == nil {
		return nil
	}
	o, err := availability.ParseObjective(spec.Objective.Availability)
	if err != nil {
		return nil
	}
	return &o
}

// availabilityWindow is spec.objective.window, else the default 720h.
func availabilityWindow(spec monitoringv1alpha1.HealthCheckSpec) time.Duration {
	if spec.Objective != nil && spec.Objective.Window != nil {
		return spec.Objective.Window.Duration
	}
	return availability.DefaultWindow
}

// countRound adds a finished round's checks to c and writes the figures into
// status: status.availability, and each target's availability and counts.
// judged are the targets' new statuses, aligned with rnd.targets, as
// applyRound returned them; status.Targets holds the same, sorted.
//
// The accounting, as the README states it: every check that produced a
// result counts, whatever the target's state; it is good when the answer was
// good (a slow good answer too, unless slowIsBad), bad when it failed,
// failures below failureThreshold and those of a Pending target included. Not
// counted: skipped targets (SecretNotFound), and every check of a round
// inside a maintenance window. A fanned-out target's check is one check, its
// judgement of its backends.
func countRound(status *monitoringv1alpha1.HealthCheckStatus, c *counts, rnd *round, spec monitoringv1alpha1.HealthCheckSpec, o *availability.Objective, inMaintenance bool) {
	slowIsBad := spec.Objective != nil && spec.Objective.SlowIsBad
	index := make(map[string]int, len(status.Targets))
	for i, t := range status.Targets {
		index[t.URL] = i
	}
	kept := make(map[string]*availability.TargetLedger, len(rnd.targets))
	for i, t := range rnd.targets {
		var good, total int64
		if t.Checkable() && !inMaintenance {
			res := rnd.results[i]
			total = 1
			if res.OK() && (!slowIsBad || !res.Slow) {
				good = 1
			}
		}
		target := c.targets[t.URL]
		if target == nil {
			target = availability.NewTargetLedger(c.ledger.Window())
		}
		ratio := c.ledger.AddTarget(target, rnd.started, good, total)
		kept[t.URL] = target
		if j, ok := index[t.URL]; ok {
			status.Targets[j].Availability = ratio
			status.Targets[j].AvailabilityCounts = target.Encode()
		}
	}
	c.targets = kept
	status.Availability = c.ledger.Status(rnd.started, o)
}

// budgetChange is a turn of the ErrorBudgetBurning condition, to report.
type budgetChange struct {
	burning bool
	message string
}

// setBudgetConditions sets ErrorBudgetBurning and ErrorBudgetExhausted from the
// ledger and its figures at now when the HealthCheck has an objective o, and
// removes them when it has none. It returns the change of ErrorBudgetBurning,
// if it turned.
func setBudgetConditions(status *monitoringv1alpha1.HealthCheckStatus, ledger *availability.Ledger, figures availability.Figures, o *availability.Objective, generation int64, now time.Time) *budgetChange {
	if o == nil {
		removeCondition(&status.Conditions, monitoringv1alpha1.ConditionErrorBudgetBurning)
		removeCondition(&status.Conditions, monitoringv1alpha1.ConditionErrorBudgetExhausted)
		return nil
	}
	rates := ledger.BurnRates(now, *o)
	// The conditions' messages name the rule, not the rates of the moment, so
	// that they change only when the condition does and cause no status write
	// of their own; the event carries the rates.
	burning := metav1.Condition{Type: monitoringv1alpha1.ConditionErrorBudgetBurning, ObservedGeneration: generation,
		Status: metav1.ConditionFalse, Reason: monitoringv1alpha1.ReasonBurnRateNormal,
		Message: fmt.Sprintf("The error budget of %s%% does not burn fast: at most %s times the sustainable rate over 1h or 5m, and %s over 6h or 30m",
			o, rate(availability.FastBurn), rate(availability.SlowBurn))}
	switch {
	case rates.OneHour > availability.FastBurn && rates.FiveMinutes > availability.FastBurn:
		burning.Status, burning.Reason = metav1.ConditionTrue, monitoringv1alpha1.ReasonBurnRateHigh
		burning.Message = fmt.Sprintf("The error budget of %s%% burns more than %s times the sustainable rate over 1h and 5m", o, rate(availability.FastBurn))
	case rates.Burning():
		burning.Status, burning.Reason = metav1.ConditionTrue, monitoringv1alpha1.ReasonBurnRateHigh
		burning.Message = fmt.Sprintf("The error budget of %s%% burns more than %s times the sustainable rate over 6h and 30m", o, rate(availability.SlowBurn))
	}
	wasBurning := meta.IsStatusConditionTrue(status.Conditions, monitoringv1alpha1.ConditionErrorBudgetBurning)
	meta.SetStatusCondition(&status.Conditions, burning)

	exhausted := metav1.Condition{Type: monitoringv1alpha1.ConditionErrorBudgetExhausted, ObservedGeneration: generation,
		Status: metav1.ConditionFalse, Reason: monitoringv1alpha1.ReasonBudgetLeft,
		Message: fmt.Sprintf("Some of the error budget over %s is left: see status.availability.errorBudgetRemaining", figures.Window)}
	if figures.Exhausted(*o) {
		exhausted.Status, exhausted.Reason = metav1.ConditionTrue, monitoringv1alpha1.ReasonBudgetSpent
		exhausted.Message = fmt.Sprintf("The error budget over %s is spent", figures.Window)
	}
	meta.SetStatusCondition(&status.Conditions, exhausted)

	if wasBurning == rates.Burning() {
		return nil
	}
	change := &budgetChange{burning: rates.Burning(), message: fmt.Sprintf(
		"Error budget of %s%%: burn rate %s over 5m, %s over 30m, %s over 1h and %s over 6h; %s%% of the budget over %s is left",
		o, rate(rates.FiveMinutes), rate(rates.ThirtyMinutes), rate(rates.OneHour), rate(rates.SixHours), figures.BudgetRemaining(*o), figures.Window)}
	return change
}

// rate words a burn rate with one decimal.
func rate(r float64) string { return fmt.Sprintf("%.1f", r) }
