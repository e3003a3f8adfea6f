package maintenance_test

import (
	"testing"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// benchNow is between two minutes, so that no start is exactly now.
var benchNow = time.Date(2026, 12, 6, 12, 0, 30, 0, time.UTC)

func benchmarkAt(b *testing.B, windows ...monitoringv1alpha1.MaintenanceWindow) {
	s := mustParse(b, windows...)
	b.ReportAllocs()
	for b.Loop() {
		s.At(benchNow)
	}
}

// The worst case of one window: a start every minute, each open for the
// longest duration, so the latest start is bisected out of 10080.
func BenchmarkAtEveryMinuteForAWeek(b *testing.B) {
	benchmarkAt(b, win("* * * * *", "168h", ""))
}

// The same in a zone, which robfig's Next pays for in conversions.
func BenchmarkAtEveryMinuteForAWeekInBerlin(b *testing.B) {
	benchmarkAt(b, win("* * * * *", "168h", "Europe/Berlin"))
}

// A usual window, open: two calls of Next.
func BenchmarkAtWeekendOpen(b *testing.B) {
	benchmarkAt(b, win("0 22 * * FRI", "56h", "Europe/Berlin"))
}

// A usual window, closed: one call of Next.
func BenchmarkAtNightlyClosed(b *testing.B) {
	benchmarkAt(b, win("0 2 * * *", "2h", "Europe/Berlin"))
}

// Always open, a chain of daily links followed to 168h past now.
func BenchmarkAtDailyChain(b *testing.B) {
	benchmarkAt(b, win("0 0 * * *", "24h", "Europe/Berlin"))
}

// The most work At does: eight windows always open, each link short, so the
// chain is followed for all of its 64 links, bisecting every window each time.
func BenchmarkAtEightDenseChains(b *testing.B) {
	var windows []monitoringv1alpha1.MaintenanceWindow
	for range 8 {
		windows = append(windows, win("* * * * *", "2m", "Europe/Berlin"))
	}
	benchmarkAt(b, windows...)
}

// What At avoids: walking every start of a week, one Next call a minute.
func BenchmarkWalkEveryMinuteForAWeek(b *testing.B) {
	ref := walked(b, []monitoringv1alpha1.MaintenanceWindow{win("* * * * *", "168h", "")})
	b.ReportAllocs()
	for b.Loop() {
		ref[0].latest(benchNow)
	}
}
