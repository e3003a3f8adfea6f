package maintenance_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// walkedWindow is a window as the obvious, slow, implementation reads it:
// every start, one by one.
type walkedWindow struct {
	starts   cron.Schedule
	duration time.Duration
}

// latest walks the starts of (t-duration, t] and returns the last.
func (w walkedWindow) latest(t time.Time) (time.Time, bool) {
	s := w.starts.Next(t.Add(-w.duration))
	if s.IsZero() || s.After(t) {
		return s, false
	}
	for {
		n := w.starts.Next(s)
		if n.IsZero() || n.After(t) {
			return s, true
		}
		s = n
	}
}

// walkedAt is Schedule.At by walking, with its bounds: a chain is followed to
// 168h past now or for 64 links.
func walkedAt(windows []walkedWindow, now time.Time) (active bool, end, next time.Time) {
	for _, w := range windows {
		s, ok := w.latest(now)
		switch {
		case ok:
			active = true
			if e := s.Add(w.duration); e.After(end) {
				end = e
			}
		case !s.IsZero() && (next.IsZero() || s.Before(next)):
			next = s
		}
	}
	if !active {
		return false, time.Time{}, next
	}
	for range 64 {
		if !end.Before(now.Add(168 * time.Hour)) {
			break
		}
		extended := end
		for _, w := range windows {
			if s, ok := w.latest(end); ok && s.Add(w.duration).After(extended) {
				extended = s.Add(w.duration)
			}
		}
		if !extended.After(end) {
			break
		}
		end = extended
	}
	return true, end, end
}

func walked(t testing.TB, windows []monitoringv1alpha1.MaintenanceWindow) []walkedWindow {
	t.Helper()
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
	var out []walkedWindow
	for _, w := range windows {
		s, err := parser.Parse(w.Schedule)
		if err != nil {
			t.Fatal(err)
		}
		zone := w.TimeZone
		if zone == "" {
			zone = "UTC"
		}
		if s.(*cron.SpecSchedule).Location, err = time.LoadLocation(zone); err != nil {
			t.Fatal(err)
		}
		out = append(out, walkedWindow{starts: s, duration: w.Duration.Duration})
	}
	return out
}

// TestAtAgreesWithWalkingTheStarts holds the bisection of At to walking every
// start, on a grid over the days Berlin's and New York's clocks change and at
// random times of 2026.
func TestAtAgreesWithWalkingTheStarts(t *testing.T) {
	sets := [][]monitoringv1alpha1.MaintenanceWindow{
		{win("0 2 * * *", "2h", "Europe/Berlin")},
		{win("*/7 1-3 * * *", "45m", "Europe/Berlin")},
		{win("30 2 * * *", "30m", "Europe/Berlin"), win("0 3 * * *", "1m", "Europe/Berlin")},
		{win("0 1 * * SUN", "26h", "Europe/Berlin"), win("0 2 * * *", "1h", "")},
		{win("*/10 * * * *", "5m", "")},
		{win("15 */3 * * *", "2h", "America/New_York"), win("0 */2 * * SAT", "2h", "America/New_York")},
		{win("* 2 * * *", "90m", "Europe/Berlin"), win("*/5 1-2 * * 0", "7m", "America/New_York")},
		{win("0 22 * * FRI", "56h", "Europe/Berlin"), win("0 6 * * MON", "2h", "Europe/Berlin")},
	}
	var times []time.Time
	for _, day := range []time.Time{
		time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC),   // New York, spring forward on 03-08
		time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC),  // Berlin, spring forward on 03-29
		time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC), // Berlin, fall back on 10-25
		time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), // New York, fall back on 11-01
	} {
		for d := time.Duration(0); d < 72*time.Hour; d += 19*time.Minute + 13*time.Second {
			times = append(times, day.Add(d))
		}
		// Starts and ends fall on whole minutes, so try those and either side.
		for d := time.Duration(0); d < 72*time.Hour; d += 29 * time.Minute {
			times = append(times, day.Add(d-time.Nanosecond), day.Add(d), day.Add(d+time.Nanosecond))
		}
	}
	rnd := rand.New(rand.NewPCG(13, 2026))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 200 {
		times = append(times, year.Add(time.Duration(rnd.Int64N(int64(365*24*time.Hour)))))
	}
	for _, set := range sets {
		s := mustParse(t, set...)
		ref := walked(t, set)
		for _, now := range times {
			active, end, next := s.At(now)
			wantActive, wantEnd, wantNext := walkedAt(ref, now)
			if active != wantActive || !end.Equal(wantEnd) || !next.Equal(wantNext) {
				t.Fatalf("%v at %s: At = %v, %s, %s; walking says %v, %s, %s", set, fmtTime(now),
					active, fmtTime(end), fmtTime(next), wantActive, fmtTime(wantEnd), fmtTime(wantNext))
			}
		}
	}
}
