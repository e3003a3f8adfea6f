package availability_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

func TestFigures(t *testing.T) {
	const day = 24 * time.Hour
	// A 720h window: the HealthCheck's buckets are 12h wide, a target's 24h.
	tests := []struct {
		name      string
		checks    []check
		now       time.Duration
		wantGood  int64
		wantTotal int64
		wantSince *time.Duration // nil: no Since
	}{
		{name: "nothing counted", now: time.Hour},
		{
			name:     "a young ledger covers the time since it began",
			checks:   []check{{at: time.Hour, good: 9, total: 10}, {at: 2 * time.Hour, good: 10, total: 10}},
			now:      2 * time.Hour,
			wantGood: 19, wantTotal: 20, wantSince: ptr(time.Hour),
		},
		{
			name:     "a late round moves Since back",
			checks:   []check{{at: time.Hour, good: 1, total: 1}, {at: 30 * time.Minute, good: 1, total: 1}},
			now:      time.Hour,
			wantGood: 2, wantTotal: 2, wantSince: ptr(30 * time.Minute),
		},
		{
			name:     "good is held within 0 and total",
			checks:   []check{{at: 0, good: 12, total: 10}, {at: 0, good: -3, total: 5}},
			now:      0,
			wantGood: 10, wantTotal: 15, wantSince: ptr(time.Duration(0)),
		},
		{
			name:     "rounds without checks count nothing and start nothing",
			checks:   []check{{at: 0, good: 0, total: 0}, {at: time.Hour, good: 3, total: -1}},
			now:      time.Hour,
			wantGood: 0, wantTotal: 0,
		},
		{
			name:     "rounds before the Unix epoch are not counted",
			checks:   []check{{at: -base.Sub(time.Unix(0, 0)) - time.Second, good: 1, total: 1}},
			now:      0,
			wantGood: 0, wantTotal: 0,
		},
		{
			name:     "Since within the window is shown",
			checks:   []check{{at: 0, good: 1, total: 1}},
			now:      30 * day,
			wantGood: 1, wantTotal: 1, wantSince: ptr(time.Duration(0)),
		},
		{
			name:     "Since before the window is not; its bucket still overlaps the window",
			checks:   []check{{at: 0, good: 1, total: 1}, {at: 12*time.Hour - time.Second, good: 1, total: 2}},
			now:      30*day + 12*time.Hour - time.Second,
			wantGood: 2, wantTotal: 3,
		},
		{
			name:     "a bucket that ended before the window is not counted",
			checks:   []check{{at: 0, good: 1, total: 1}, {at: 12 * time.Hour, good: 1, total: 2}},
			now:      30*day + 12*time.Hour,
			wantGood: 1, wantTotal: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := ledgerOf(720*time.Hour, tc.checks...).Figures(base.Add(tc.now))
			if f.Good != tc.wantGood || f.Total != tc.wantTotal || f.Window != 720*time.Hour {
				t.Errorf("Figures = %d/%d over %v, want %d/%d over 720h", f.Good, f.Total, f.Window, tc.wantGood, tc.wantTotal)
			}
			switch {
			case tc.wantSince == nil && f.Since != nil:
				t.Errorf("Since = %v, want none", f.Since)
			case tc.wantSince != nil && (f.Since == nil || !f.Since.Equal(base.Add(*tc.wantSince))):
				t.Errorf("Since = %v, want %v", f.Since, base.Add(*tc.wantSince))
			}
		})
	}
}

func TestTargetFigures(t *testing.T) {
	// A target's buckets of a 720h window are 24h wide: its figures cover up to
	// a day more than the window, where the HealthCheck's cover up to 12h more.
	l := availability.NewTargetLedger(720 * time.Hour)
	l.Add(base, 0, 1)
	l.Add(base.Add(13*time.Hour), 1, 1)
	tests := []struct {
		now       time.Duration
		wantRatio string
	}{
		{now: 13 * time.Hour, wantRatio: "50"},
		{now: 720*time.Hour + 23*time.Hour, wantRatio: "50"},
		{now: 720*time.Hour + 24*time.Hour, wantRatio: ""},
	}
	for _, tc := range tests {
		if got := l.Figures(base.Add(tc.now)).Ratio(); got != tc.wantRatio {
			t.Errorf("Ratio at %v = %q, want %q", tc.now, got, tc.wantRatio)
		}
	}
}

func TestAddTarget(t *testing.T) {
	hc := availability.NewLedger(time.Hour)
	target := availability.NewTargetLedger(time.Hour)
	if ratio := hc.AddTarget(target, base, 1, 2); ratio != "50" || target.Encode() == "" {
		t.Fatalf("first round: %q, %q; want 50 and counts", ratio, target.Encode())
	}
	if ratio := hc.AddTarget(target, base.Add(time.Minute), 2, 2); ratio != "75" {
		t.Errorf("second round: %q, want 75", ratio)
	}
	// A round whose checks did not count: the ratio moves with the window.
	if ratio := hc.AddTarget(target, base.Add(2*time.Hour), 0, 0); ratio != "" {
		t.Errorf("two hours later: %q, want none", ratio)
	}
	// Counts that are not a target's do not decode, and the caller starts
	// afresh with a new ledger.
	for _, counts := range []string{"garbage", hc.Encode()} {
		if _, err := availability.DecodeTarget(counts, time.Hour); err == nil {
			t.Errorf("%q decoded as a target's counts", counts)
		}
	}
	if ratio := hc.AddTarget(availability.NewTargetLedger(time.Hour), base, 1, 1); ratio != "100" {
		t.Errorf("a fresh target: %q, want 100", ratio)
	}
	if ratio := hc.AddTarget(availability.NewTargetLedger(time.Hour), base, 0, 1); ratio != "0" {
		t.Errorf("a fresh failing target: %q, want 0", ratio)
	}
	// The HealthCheck counted every round of every target.
	if f := hc.Figures(base.Add(time.Minute)); f.Good != 4 || f.Total != 6 {
		t.Errorf("HealthCheck figures %d/%d, want 4/6", f.Good, f.Total)
	}
}

func TestStatus(t *testing.T) {
	l := ledgerOf(720*time.Hour, check{at: time.Hour, good: 999, total: 1000})
	o := objective(t, "99.95")
	now := base.Add(2 * time.Hour)
	tests := []struct {
		name      string
		objective *availability.Objective
		want      monitoringv1alpha1.AvailabilityStatus
	}{
		{
			name: "without an objective",
			want: monitoringv1alpha1.AvailabilityStatus{
				Window: &metav1.Duration{Duration: 720 * time.Hour}, Ratio: "99.9",
				GoodChecks: 999, TotalChecks: 1000, Since: &metav1.Time{Time: base.Add(time.Hour)},
			},
		},
		{
			name:      "with an objective of 99.95%: 0.05% of 1000 allows half a bad check",
			objective: &o,
			want: monitoringv1alpha1.AvailabilityStatus{
				Window: &metav1.Duration{Duration: 720 * time.Hour}, Ratio: "99.9",
				GoodChecks: 999, TotalChecks: 1000, Since: &metav1.Time{Time: base.Add(time.Hour)},
				ErrorBudgetRemaining: "-100",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := l.Status(now, tc.objective)
			if got.Counts != l.Encode() {
				t.Errorf("Counts = %q, want the ledger's encoding %q", got.Counts, l.Encode())
			}
			got.Counts = ""
			if *got.Window != *tc.want.Window || got.Ratio != tc.want.Ratio || got.GoodChecks != tc.want.GoodChecks ||
				got.TotalChecks != tc.want.TotalChecks || !got.Since.Equal(tc.want.Since) ||
				got.ErrorBudgetRemaining != tc.want.ErrorBudgetRemaining {
				t.Errorf("Status = %+v, want %+v", *got, tc.want)
			}
		})
	}
	if got := availability.NewLedger(time.Hour).Status(now, &o); got.Ratio != "" || got.Since != nil || got.ErrorBudgetRemaining != "100" {
		t.Errorf("empty ledger's Status = %+v, want no ratio, no since, the whole budget", *got)
	}
}

func ptr[T any](v T) *T { return &v }
