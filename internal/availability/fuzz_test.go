package availability_test

import (
	"reflect"
	"testing"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// FuzzDecode feeds arbitrary counts to Decode and DecodeTarget: neither may
// panic, and what they accept must encode within its field and decode again
// to the same ledger.
func FuzzDecode(f *testing.F) {
	hc := ledgerOf(720*time.Hour, check{at: 0, good: 3, total: 4}, check{at: 13 * time.Hour, good: 1, total: 1})
	target := availability.NewTargetLedger(720 * time.Hour)
	target.Add(base, 1, 2)
	for _, seed := range []string{
		"",
		hc.Encode(),
		target.Encode(),
		raw(1, 'H', 3600, 0, 60, 0, 61),
		raw(1, 'T', 7776000, 1<<40+1, 259200, 1<<40/259200, 1, 1<<35-1, 1<<35-1),
		raw(2, 'H'),
		"AQ",
		"!!",
		"////////////",
	} {
		f.Add(seed, int64(720*3600))
	}
	f.Fuzz(func(t *testing.T, s string, windowSeconds int64) {
		window := time.Duration(windowSeconds) * time.Second
		now := base.Add(time.Duration(windowSeconds%(1<<20)) * time.Second)
		if l, err := availability.Decode(s, window); err == nil {
			encoded := l.Encode()
			if len(encoded) > monitoringv1alpha1.MaxCountsLength {
				t.Errorf("HealthCheck counts of %d characters", len(encoded))
			}
			again, err := availability.Decode(encoded, window)
			if err != nil || !reflect.DeepEqual(again, l) {
				t.Errorf("Decode(Encode()) = %+v, %v; want %+v", again, err, l)
			}
			_ = l.Status(now, nil).Ratio
			_ = l.BurnRates(now, availability.Objective{}).Burning()
		}
		if l, err := availability.DecodeTarget(s, window); err == nil {
			encoded := l.Encode()
			if len(encoded) > monitoringv1alpha1.MaxTargetCountsLength {
				t.Errorf("target counts of %d characters", len(encoded))
			}
			again, err := availability.DecodeTarget(encoded, window)
			if err != nil || !reflect.DeepEqual(again, l) {
				t.Errorf("DecodeTarget(Encode()) = %+v, %v; want %+v", again, err, l)
			}
			_ = l.Figures(now).Ratio()
		}
	})
}
