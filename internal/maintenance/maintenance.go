// Package maintenance says whether a HealthCheck's maintenance windows
// (spec.maintenance) are open at a given time. It is pure: the caller passes
// the time in.
//
// A window opens at each time its schedule matches, read as wall-clock time in
// its timeZone, and stays open for its duration: [start, start+duration), the
// end excluded. Schedules are read by github.com/robfig/cron/v3's standard
// parser, without its descriptors (see Parse), and its Next decides the starts,
// which on the days clocks change means:
//   - spring forward: a start in the hour that does not exist is skipped that
//     day ("0 2 * * *" in Europe/Berlin has no window on 2026-03-29, when 02:00
//     CET becomes 03:00 CEST); it is not moved to 03:00 as Vixie cron would;
//   - fall back: a start in the hour that happens twice happens twice
//     ("0 2 * * *" in Europe/Berlin starts at 00:00Z and at 01:00Z on
//     2026-10-25), and the two windows merge when the duration is an hour or
//     more.
//
// A schedule in UTC, or one that starts outside the hour the clocks change,
// is not affected.
package maintenance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Bounds of a window's duration. They are the CRD's ("must be from 1m to
// 168h", which TestDurationBoundsMatchTheCRD holds them to); the upper one also
// bounds the work of At.
const (
	minDuration = time.Minute
	maxDuration = 168 * time.Hour
)

// Bounds of how far At follows windows that open before the previous one
// closes (see Schedule.At). Past them the chain goes on, but end is reported
// where following stopped; At called again at that end continues it.
const (
	// chainHorizon stops following a chain once its end is this far past now.
	chainHorizon = maxDuration
	// maxChainLinks stops following a chain after this many extensions, so
	// that a dense schedule ("* * * * *" for 1m: always open) costs little.
	maxChainLinks = 64
)

// parser reads the standard 5 fields (minute hour day-of-month month
// day-of-week). Descriptors are left out: "@every 1h" counts from whenever it
// is asked, not from a fixed time, so it cannot place a window; the others
// (@daily, @weekly...) have 5-field spellings, and the schema's minimum length
// of 9 already refuses most of them.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// neverReference is when Parse looks for a schedule's first start: a schedule
// matching no date within robfig's five years of it (such as "0 0 30 2 *")
// matches none ever. 2000 is a leap year, so February 29 matches.
var neverReference = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Schedule is a HealthCheck's parsed maintenance windows. The nil *Schedule
// has none: it is never in maintenance.
type Schedule struct {
	windows []window
}

// window is one item of spec.maintenance.
type window struct {
	starts   *cron.SpecSchedule // in the window's time zone
	duration time.Duration
}

// Parse reads spec.maintenance. It returns nil, and no error, for no windows.
// The error names the first invalid field as the API server names fields, such
// as `spec.maintenance[1].schedule: "0 25 * * *" is not a valid cron
// expression: end of range (25) above maximum (23): 25`.
func Parse(windows []monitoringv1alpha1.MaintenanceWindow) (*Schedule, error) {
	if len(windows) == 0 {
		return nil, nil
	}
	s := &Schedule{windows: make([]window, 0, len(windows))}
	for i, w := range windows {
		path := fmt.Sprintf("spec.maintenance[%d]", i)
		starts, err := parseSchedule(w.Schedule)
		if err != nil {
			return nil, fmt.Errorf("%s.schedule: %q is not a valid cron expression: %w", path, w.Schedule, err)
		}
		if d := w.Duration.Duration; d < minDuration || d > maxDuration {
			return nil, fmt.Errorf("%s.duration: %s is not from 1m to 168h", path, d)
		}
		loc, err := loadLocation(w.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("%s.timeZone: %w", path, err)
		}
		starts.Location = loc
		s.windows = append(s.windows, window{starts: starts, duration: w.Duration.Duration})
	}
	return s, nil
}

// parseSchedule parses a 5-field expression; its location is the caller's to set.
func parseSchedule(expr string) (*cron.SpecSchedule, error) {
	trimmed := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ="):
		// robfig would read the zone from the prefix (and panics on one with
		// nothing after it); the zone is timeZone's to say.
		return nil, errors.New("a time zone prefix is not allowed: set timeZone")
	case strings.HasPrefix(trimmed, "@"):
		return nil, errors.New(`descriptors such as @daily are not allowed: write the 5 fields, such as "0 0 * * *"`)
	}
	parsed, err := parser.Parse(expr)
	if err != nil {
		return nil, err
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unexpected schedule type %T", parsed)
	}
	if spec.Next(neverReference).IsZero() {
		return nil, errors.New("it matches no date")
	}
	return spec, nil
}

// loadLocation loads an IANA zone; "" is UTC. "Local" is refused: it would be
// the zone of whichever machine runs the operator or the plugin.
func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// At says whether a window is open at now.
//
// When one is (some window started at s with s <= now < s+duration), active is
// true and end is when maintenance ends: the latest end of the open windows,
// extended through every window that opens before (or exactly when) the
// previous one closes, so that back-to-back and overlapping windows read as one
// and InMaintenance does not flip at their seams. A chain is followed until
// its end is chainHorizon (168h) past now or for maxChainLinks (64) windows:
// a longer one ends later than reported. next is end.
//
// When none is, active is false, end is zero, and next is when the next window
// opens, or zero when none opens within robfig's five-year horizon.
//
// end and next are in now's location.
//
// At never walks the starts one by one, which for "* * * * *" open for 168h
// would be 10080 calls of robfig's Next (8ms). robfig's Schedule has only Next, so the
// latest start <= now is found by bisecting the times between the first start
// after now-duration and now: the next start is <= now before the latest
// start and > now from it on. A window costs one Next call when closed, two
// when a single start is in (now-duration, now] (any daily or weekly window),
// and at most 3+log2(duration/1s), 23 for "* * * * *" with 168h. A chain link
// costs as much again per window. Next itself loops over seconds, minutes,
// hours and days: 0.1 to 3µs a call. BenchmarkAt* measures it all, on a
// 2-core VM: 0.3µs for a closed nightly window, 5µs for an open weekend, 25µs
// for "* * * * *" with 168h or a daily chain, and 1.5ms for the worst case,
// eight windows always open and followed for 64 short links.
func (s *Schedule) At(now time.Time) (active bool, end, next time.Time) {
	if s == nil {
		return false, time.Time{}, time.Time{}
	}
	now = now.Round(0) // no monotonic reading: only the wall clock is compared
	for _, w := range s.windows {
		start, ok := w.latestStart(now)
		switch {
		case ok:
			active = true
			if e := start.Add(w.duration); e.After(end) {
				end = e
			}
		case !start.IsZero() && (next.IsZero() || start.Before(next)):
			next = start
		}
	}
	if !active {
		return false, time.Time{}, next
	}
	end = s.follow(now, end)
	return true, end, end
}

// follow extends end through the windows that open before, or when, it comes.
func (s *Schedule) follow(now, end time.Time) time.Time {
	horizon := now.Add(chainHorizon)
	for range maxChainLinks {
		if !end.Before(horizon) {
			break
		}
		extended := end
		for _, w := range s.windows {
			// A start in (end-duration, end] ends after end.
			if start, ok := w.latestStart(end); ok {
				if e := start.Add(w.duration); e.After(extended) {
					extended = e
				}
			}
		}
		if !extended.After(end) {
			break
		}
		end = extended
	}
	return end
}

// latestStart returns the latest start in (t-duration, t] and true, when the
// window is open at t; otherwise the first start after t (zero if none within
// robfig's horizon) and false.
func (w window) latestStart(t time.Time) (time.Time, bool) {
	first := w.starts.Next(t.Add(-w.duration))
	if first.IsZero() || first.After(t) {
		return first, false
	}
	if n := w.starts.Next(first); n.IsZero() || n.After(t) {
		return first, true // the usual case: a single start in range
	}
	// Bisect: the next start after lo is <= t, the next after hi is > t.
	// Next looks from the second after its argument (starts are on whole
	// seconds), so when lo and hi are a second apart, the next start after lo
	// is the last one <= t.
	lo, hi := first, t
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if n := w.starts.Next(mid); !n.IsZero() && !n.After(t) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return w.starts.Next(lo), true
}

// Message is the InMaintenance condition's message while a window is open
// until end (as At returns it).
func Message(end time.Time) string {
	return "In a maintenance window until " + end.UTC().Format(time.RFC3339)
}

// IdleMessage is the InMaintenance condition's message while no window is
// open and the next opens at next (as At returns it; zero for none).
func IdleMessage(next time.Time) string {
	if next.IsZero() {
		return "Not in a maintenance window"
	}
	return "Not in a maintenance window; the next opens at " + next.UTC().Format(time.RFC3339)
}
