package availability_test

import (
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// base is midnight UTC: aligned to every bucket width of a 720h window.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// check is one round's checks at base + at.
type check struct {
	at          time.Duration
	good, total int64
}

func ledgerOf(window time.Duration, checks ...check) *availability.Ledger {
	l := availability.NewLedger(window)
	for _, c := range checks {
		l.Add(base.Add(c.at), c.good, c.total)
	}
	return l
}

func TestBurnRates(t *testing.T) {
	// With 99%, the budget is 1% of checks: a burn rate is 100 times the share
	// of bad checks.
	tests := []struct {
		name   string
		checks []check
		now    time.Duration
		want   availability.BurnRates
	}{
		{
			name: "no checks burn nothing",
			now:  time.Hour,
		},
		{
			name:   "a bad check now is in every window",
			checks: []check{{at: time.Hour, good: 0, total: 1}},
			now:    time.Hour,
			want:   availability.BurnRates{FiveMinutes: 100, ThirtyMinutes: 100, OneHour: 100, SixHours: 100},
		},
		{
			name: "5m covers the current bucket and the one before",
			// Now is in [10m, 15m); the one before is [5m, 10m).
			checks: []check{{at: 5 * time.Minute, total: 1}, {at: 10 * time.Minute, good: 1, total: 1}},
			now:    14*time.Minute + 59*time.Second,
			want:   availability.BurnRates{FiveMinutes: 50, ThirtyMinutes: 50, OneHour: 50, SixHours: 50},
		},
		{
			name:   "5m does not reach two buckets back",
			checks: []check{{at: 5*time.Minute - time.Second, total: 1}, {at: 10 * time.Minute, good: 1, total: 1}},
			now:    10 * time.Minute,
			want:   availability.BurnRates{FiveMinutes: 0, ThirtyMinutes: 50, OneHour: 50, SixHours: 50},
		},
		{
			name: "each window covers between d and d + 5m",
			checks: []check{
				{at: 6*time.Hour + 55*time.Minute, good: 3, total: 4}, // in all
				{at: 6*time.Hour + 25*time.Minute, total: 1},          // 30m reaches back to [6h25m, 6h30m)
				{at: 5*time.Hour + 55*time.Minute, total: 1},          // 1h reaches back to [5h55m, 6h)
				{at: 55 * time.Minute, total: 1},                      // 6h reaches back to [55m, 1h)
				{at: 55*time.Minute - time.Second, good: 0, total: 5}, // in none
			},
			now: 6*time.Hour + 58*time.Minute,
			want: availability.BurnRates{
				FiveMinutes:   100 * 1.0 / 4,
				ThirtyMinutes: 100 * 2.0 / 5,
				OneHour:       100 * 3.0 / 6,
				SixHours:      100 * 4.0 / 7,
			},
		},
		{
			name:   "checks counted by a clock ahead of the reader's are included",
			checks: []check{{at: 2 * time.Hour, total: 1}},
			now:    2*time.Hour - 10*time.Minute,
			want:   availability.BurnRates{FiveMinutes: 100, ThirtyMinutes: 100, OneHour: 100, SixHours: 100},
		},
		{
			name:   "a late round older than 6h of the newest is not in the fine buckets",
			checks: []check{{at: 7 * time.Hour, good: 1, total: 1}, {at: 55*time.Minute - time.Second, total: 1}},
			now:    7 * time.Hour,
		},
	}
	o := objective(t, "99")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := ledgerOf(720*time.Hour, tc.checks...)
			if got := l.BurnRates(base.Add(tc.now), o); !near(got, tc.want) {
				t.Errorf("BurnRates = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func near(a, b availability.BurnRates) bool {
	eq := func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 }
	return eq(a.FiveMinutes, b.FiveMinutes) && eq(a.ThirtyMinutes, b.ThirtyMinutes) &&
		eq(a.OneHour, b.OneHour) && eq(a.SixHours, b.SixHours)
}

func TestBurning(t *testing.T) {
	tests := []struct {
		name  string
		rates availability.BurnRates
		want  bool
	}{
		{name: "nothing burns", want: false},
		{name: "fast pair", rates: availability.BurnRates{FiveMinutes: 14.5, OneHour: 14.5}, want: true},
		{name: "fast pair at the threshold", rates: availability.BurnRates{FiveMinutes: 14.4, OneHour: 14.5}, want: false},
		{name: "1h without 5m: the burning stopped", rates: availability.BurnRates{FiveMinutes: 0, OneHour: 100, SixHours: 5}, want: false},
		{name: "5m without 1h: a blip", rates: availability.BurnRates{FiveMinutes: 1000, OneHour: 14.4}, want: false},
		{name: "slow pair", rates: availability.BurnRates{ThirtyMinutes: 6.1, SixHours: 6.1}, want: true},
		{name: "slow pair at the threshold", rates: availability.BurnRates{ThirtyMinutes: 6.1, SixHours: 6}, want: false},
		{name: "6h without 30m", rates: availability.BurnRates{ThirtyMinutes: 5, SixHours: 50}, want: false},
		{name: "mixed pairs do not count", rates: availability.BurnRates{FiveMinutes: 20, SixHours: 20}, want: false},
	}
	for _, tc := range tests {
		if got := tc.rates.Burning(); got != tc.want {
			t.Errorf("%s: Burning() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
