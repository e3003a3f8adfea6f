package availability_test

import (
	"math"
	"testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// mostChecks is the most a HealthCheck's window can count: 61 full buckets.
const mostChecks = 61 * availability.MaxBucketChecks

func TestRatio(t *testing.T) {
	tests := []struct {
		good, total int64
		want        string
		wantFloat   float64
		wantOK      bool
	}{
		{good: 0, total: 0, want: ""},
		{good: 0, total: 5, want: "0", wantFloat: 0, wantOK: true},
		{good: 5, total: 5, want: "100", wantFloat: 1, wantOK: true},
		{good: 999, total: 1000, want: "99.9", wantFloat: 0.999, wantOK: true},
		{good: 9_997_310, total: 10_000_000, want: "99.9731", wantFloat: 0.999731, wantOK: true},
		// Rounded down: 99.99996% never reads as 100.
		{good: 9_999_996, total: 10_000_000, want: "99.9999", wantFloat: 0.9999996, wantOK: true},
		{good: 1, total: 3, want: "33.3333", wantFloat: 1.0 / 3, wantOK: true},
		{good: 2, total: 3, want: "66.6666", wantFloat: 2.0 / 3, wantOK: true},
		{good: 1, total: 1_000_000, want: "0.0001", wantFloat: 1e-6, wantOK: true},
		{good: 1, total: 1_000_001, want: "0", wantFloat: 1.0 / 1_000_001, wantOK: true},
		{good: 1_005, total: 10_000, want: "10.05", wantFloat: 0.1005, wantOK: true},
		{good: mostChecks - 1, total: mostChecks, want: "99.9999", wantFloat: float64(mostChecks-1) / mostChecks, wantOK: true},
	}
	for _, tc := range tests {
		f := availability.Figures{Good: tc.good, Total: tc.total}
		if got := f.Ratio(); got != tc.want {
			t.Errorf("Ratio of %d/%d = %q, want %q", tc.good, tc.total, got, tc.want)
		}
		if got := f.Ratio(); len(got) > monitoringv1alpha1.MaxRatioLength {
			t.Errorf("Ratio of %d/%d = %q, longer than %d", tc.good, tc.total, got, monitoringv1alpha1.MaxRatioLength)
		}
		if got, ok := f.Availability(); got != tc.wantFloat || ok != tc.wantOK {
			t.Errorf("Availability of %d/%d = %v, %v, want %v, %v", tc.good, tc.total, got, ok, tc.wantFloat, tc.wantOK)
		}
	}
}

func TestBudgetRemaining(t *testing.T) {
	tests := []struct {
		objective     string
		good, total   int64
		want          string
		wantFloat     float64
		wantExhausted bool
	}{
		{objective: "99.9", good: 0, total: 0, want: "100", wantFloat: 1},
		{objective: "99.9", good: 1000, total: 1000, want: "100", wantFloat: 1},
		// 0.1% of 10000 is 10 bad checks; 5 spend half.
		{objective: "99.9", good: 9995, total: 10000, want: "50", wantFloat: 0.5},
		{objective: "99.9", good: 2999, total: 3000, want: "66.6666", wantFloat: 2.0 / 3},
		{objective: "99.9", good: 2998, total: 3000, want: "33.3333", wantFloat: 1.0 / 3},
		{objective: "99.9", good: 99_999, total: 100_000, want: "99", wantFloat: 0.99},
		// Exactly spent.
		{objective: "99.9", good: 999, total: 1000, want: "0", wantFloat: 0, wantExhausted: true},
		{objective: "50", good: 1, total: 2, want: "0", wantFloat: 0, wantExhausted: true},
		// Overspent by a hair reads negative, never 0.
		{objective: "99.9", good: 998_999, total: 1_000_000, want: "-0.1", wantFloat: -0.001, wantExhausted: true},
		{objective: "99.9", good: 9_989_999, total: 10_000_000, want: "-0.01", wantFloat: -0.0001, wantExhausted: true},
		{objective: "99.9", good: 999_999_999 - 1_000_000, total: 1_000_000_000, want: "-0.0001", wantFloat: -0.000001, wantExhausted: true},
		{objective: "99", good: 965, total: 1000, want: "-250", wantFloat: -2.5, wantExhausted: true},
		{objective: "99.9", good: 2, total: 3, want: "-33233.3334", wantFloat: 1 - 1000.0/3, wantExhausted: true},
		// The longest: the tightest objective, every check bad.
		{objective: "99.999", good: 0, total: 1, want: "-9999900", wantFloat: -99999, wantExhausted: true},
		{objective: "99.999", good: 1, total: 3, want: "-6666566.6667", wantFloat: 1 - 200000.0/3, wantExhausted: true},
		{objective: "99.999", good: 1, total: mostChecks, want: "-9999900", wantFloat: 1 - (float64(mostChecks-1)/mostChecks)*100000, wantExhausted: true},
	}
	for _, tc := range tests {
		o := objective(t, tc.objective)
		f := availability.Figures{Good: tc.good, Total: tc.total}
		got := f.BudgetRemaining(o)
		if got != tc.want {
			t.Errorf("BudgetRemaining of %d/%d for %s = %q, want %q", tc.good, tc.total, o, got, tc.want)
		}
		if len(got) > monitoringv1alpha1.MaxBudgetLength {
			t.Errorf("BudgetRemaining of %d/%d for %s = %q, longer than %d", tc.good, tc.total, o, got, monitoringv1alpha1.MaxBudgetLength)
		}
		if got := f.BudgetRemainingRatio(o); math.Abs(got-tc.wantFloat) > 1e-9*math.Max(1, math.Abs(tc.wantFloat)) {
			t.Errorf("BudgetRemainingRatio of %d/%d for %s = %v, want %v", tc.good, tc.total, o, got, tc.wantFloat)
		}
		if got := f.Exhausted(o); got != tc.wantExhausted {
			t.Errorf("Exhausted of %d/%d for %s = %v, want %v", tc.good, tc.total, o, got, tc.wantExhausted)
		}
	}
}
