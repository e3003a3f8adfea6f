package availability_test

import (
	"testing"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// The worst cases of the API: a 2160h window and a 1s interval, so a target
// counts 300 checks every 5 minutes and the HealthCheck, with 500 targets,
// 150,000; a HealthCheck's 36h bucket then holds 64,800,000 checks, a target's
// 72h bucket 259,200. Half of them bad, so that the bad counts are as long as
// the totals.
func TestEncodedSizeWorstCase(t *testing.T) {
	const window = 2160 * time.Hour
	now := base.Add(100*24*time.Hour + 18*time.Hour) // mid-bucket: every bucket kept is in use
	hc, target := availability.NewLedger(window), availability.NewTargetLedger(window)
	for at := now.Add(-window - 72*time.Hour); !at.After(now); at = at.Add(5 * time.Minute) {
		hc.Add(at, 75_000, 150_000)
		target.Add(at, 150, 300)
	}
	if f := hc.Figures(now); f.Total < 60*64_800_000 {
		t.Fatalf("HealthCheck counted %d checks, want over 60 buckets of 64,800,000", f.Total)
	}
	if f := target.Figures(now); f.Total < 30*259_200 {
		t.Fatalf("target counted %d checks, want over 30 buckets of 259,200", f.Total)
	}
	hcLen, targetLen := len(hc.Encode()), len(target.Encode())
	t.Logf("at the API's worst case: HealthCheck %d characters (bound %d), target %d (bound %d)",
		hcLen, monitoringv1alpha1.MaxCountsLength, targetLen, monitoringv1alpha1.MaxTargetCountsLength)
	if hcLen > monitoringv1alpha1.MaxCountsLength {
		t.Errorf("HealthCheck counts of %d characters, more than %d", hcLen, monitoringv1alpha1.MaxCountsLength)
	}
	if targetLen > monitoringv1alpha1.MaxTargetCountsLength {
		t.Errorf("target counts of %d characters, more than %d", targetLen, monitoringv1alpha1.MaxTargetCountsLength)
	}
}

// The longest encodings there can be, whatever a caller adds: every bucket
// full to MaxBucketChecks and all bad, at the latest instant counted, so that
// every varint takes its most bytes.
func TestEncodedSizeBound(t *testing.T) {
	for _, window := range []time.Duration{time.Hour, 720 * time.Hour, 2160 * time.Hour} {
		t.Run(window.String(), func(t *testing.T) {
			end := time.Unix(1<<40-1, 0)
			hc, target := availability.NewLedger(window), availability.NewTargetLedger(window)
			for at := end.Add(-window - window/30); !at.After(end); at = at.Add(window / 60) {
				hc.Add(at, 0, availability.MaxBucketChecks)
			}
			for at := end.Add(-window - window/15); !at.After(end); at = at.Add(window / 30) {
				target.Add(at, 0, availability.MaxBucketChecks)
			}
			for at := end.Add(-6 * time.Hour); !at.After(end); at = at.Add(5 * time.Minute) {
				hc.Add(at, 0, availability.MaxBucketChecks) // fills the fine buckets
			}
			if f := hc.Figures(end); f.Total != 61*availability.MaxBucketChecks {
				t.Fatalf("HealthCheck counted %d checks, want 61 full buckets", f.Total)
			}
			if f := target.Figures(end); f.Total != 31*availability.MaxBucketChecks {
				t.Fatalf("target counted %d checks, want 31 full buckets", f.Total)
			}
			if rates := hc.BurnRates(end, objective(t, "50")); rates.SixHours != 2 {
				t.Fatalf("6h burn rate %v, want 2 (every check bad)", rates.SixHours)
			}
			hcLen, targetLen := len(hc.Encode()), len(target.Encode())
			t.Logf("at most: HealthCheck %d characters, target %d", hcLen, targetLen)
			if hcLen > monitoringv1alpha1.MaxCountsLength {
				t.Errorf("HealthCheck counts of %d characters, more than %d", hcLen, monitoringv1alpha1.MaxCountsLength)
			}
			if targetLen > monitoringv1alpha1.MaxTargetCountsLength {
				t.Errorf("target counts of %d characters, more than %d", targetLen, monitoringv1alpha1.MaxTargetCountsLength)
			}
		})
	}
}
