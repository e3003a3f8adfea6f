package availability

import "time"

// The burn-rate thresholds of the SRE workbook's multiwindow alerts: 14.4 spends
// 2% of a 30-day budget in an hour, 6 spends 5% in six hours.
const (
	FastBurn = 14.4
	SlowBurn = 6
)

// BurnRates are how fast the error budget burns over four windows ending now:
// (bad/total)/(1 - o), so 1 spends the budget exactly over the objective's
// window. A window with no checks burns at 0.
type BurnRates struct {
	FiveMinutes   float64
	ThirtyMinutes float64
	OneHour       float64
	SixHours      float64
}

// Burning reports whether the multiwindow condition of the SRE workbook holds:
// the 1h and 5m rates both above FastBurn, or the 6h and 30m rates both above
// SlowBurn. The short window of each pair stops the alert soon after the
// burning stops.
func (b BurnRates) Burning() bool {
	return (b.OneHour > FastBurn && b.FiveMinutes > FastBurn) ||
		(b.SixHours > SlowBurn && b.ThirtyMinutes > SlowBurn)
}

// BurnRates returns the burn rates of o's budget over the 5-minute buckets that
// overlap each window ending at now: a window of d covers between d and d + 5m
// of checks, so the 5m rate covers the current bucket and the one before it.
func (l *Ledger) BurnRates(now time.Time, o Objective) BurnRates {
	sec := min(max(now.Unix(), 0), maxUnix)
	rate := func(d time.Duration) float64 {
		return burnRate(l.fine.since(sec-int64(d/time.Second)), o)
	}
	return BurnRates{
		FiveMinutes:   rate(5 * time.Minute),
		ThirtyMinutes: rate(30 * time.Minute),
		OneHour:       rate(time.Hour),
		SixHours:      rate(6 * time.Hour),
	}
}

func burnRate(b bucket, o Objective) float64 {
	if b.total <= 0 {
		return 0
	}
	return float64(b.bad) * whole / (float64(b.total) * float64(o.budget()))
}
