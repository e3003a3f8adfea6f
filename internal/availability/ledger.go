package availability

import "time"

// Bounds of spec.objective.window, and the window without an objective.
const (
	MinWindow     = time.Hour
	MaxWindow     = 2160 * time.Hour
	DefaultWindow = 720 * time.Hour
)

// The tiers: how many buckets span the window for the HealthCheck and for a
// target, and the fine buckets of the burn rates.
const (
	healthCheckBuckets = 60
	targetBuckets      = 30
	minBucketWidth     = 60  // seconds
	fineWidth          = 300 // seconds: 5 minutes
	fineSpan           = 6 * 3600
)

// noSince marks a tally that has counted nothing yet.
const noSince = -1

// Ledger counts the checks of one HealthCheck: in coarse buckets over the
// window, for the ratio and the error budget, and in 5-minute buckets over the
// last 6 hours, for the burn rates. The zero value is not usable; start with
// NewLedger or Decode.
type Ledger struct {
	tally
	fine series
}

// TargetLedger counts the checks of one target in coarse buckets over the
// window, for its ratio. Start with NewTargetLedger or DecodeTarget.
type TargetLedger struct {
	tally
}

// NewLedger returns an empty HealthCheck ledger for window, which is cut to
// whole seconds and kept within MinWindow and MaxWindow.
func NewLedger(window time.Duration) *Ledger {
	return &Ledger{
		tally: newTally(window, healthCheckBuckets),
		fine:  newSeries(fineSpan, fineWidth),
	}
}

// NewTargetLedger returns an empty target ledger for window, which is cut to
// whole seconds and kept within MinWindow and MaxWindow.
func NewTargetLedger(window time.Duration) *TargetLedger {
	return &TargetLedger{tally: newTally(window, targetBuckets)}
}

// Add counts a round's checks at time at: good of total were good. Checks dated
// before the Unix epoch or after the year 36812, and rounds older than the
// window of the newest bucket, are not counted; good is held within 0 and
// total. A round with no checks changes nothing.
func (l *Ledger) Add(at time.Time, good, total int64) {
	if sec, b, ok := round(at, good, total); ok {
		l.add(sec, b)
		l.fine.add(sec, b)
	}
}

// Add counts a round's checks of the target at time at, as Ledger.Add does.
func (l *TargetLedger) Add(at time.Time, good, total int64) {
	if sec, b, ok := round(at, good, total); ok {
		l.add(sec, b)
	}
}

// AddTarget is the reconciler's one line per target and round: it counts good
// of total checks at time at in the target's ledger and in l, and returns the
// target's ratio at that time. Call it with 0 and 0 for a target whose checks
// did not count this round, so that its ratio still moves with the window. A
// target's ledger is kept decoded between rounds (see DecodeTarget), so that
// its counts are encoded for status but not decoded again every round.
func (l *Ledger) AddTarget(target *TargetLedger, at time.Time, good, total int64) (ratio string) {
	target.Add(at, good, total)
	l.Add(at, good, total)
	return target.Figures(at).Ratio()
}

// round validates a round's counts and time.
func round(at time.Time, good, total int64) (sec int64, b bucket, ok bool) {
	sec = at.Unix()
	if total <= 0 || sec < 0 || sec > maxUnix {
		return 0, bucket{}, false
	}
	good = min(max(good, 0), total)
	return sec, bucket{total: total, bad: total - good}, true
}

// tally is what both ledgers keep over the window: its coarse buckets and when
// counting began.
type tally struct {
	window int64 // seconds
	coarse series
	since  int64 // Unix second of the first counted check, or noSince
}

func newTally(window time.Duration, buckets int64) tally {
	w := int64(min(max(window, MinWindow), MaxWindow) / time.Second)
	return tally{window: w, coarse: newSeries(w, coarseWidth(w, buckets)), since: noSince}
}

// coarseWidth is window/buckets rounded up to whole seconds, so that buckets
// buckets always span the window, and at least a minute.
func coarseWidth(window, buckets int64) int64 {
	return max(ceilDiv(window, buckets), minBucketWidth)
}

func (l *tally) add(sec int64, b bucket) {
	if l.coarse.add(sec, b) && (l.since == noSince || sec < l.since) {
		l.since = sec
	}
}

// Window is the window counted, in whole seconds.
func (l *tally) Window() time.Duration { return time.Duration(l.window) * time.Second }

// Figures returns the counts over the window ending at now.
func (l *tally) Figures(now time.Time) Figures {
	sec := min(max(now.Unix(), 0), maxUnix)
	sum := l.coarse.since(sec - l.window)
	f := Figures{Window: l.Window(), Good: sum.total - sum.bad, Total: sum.total}
	if l.since != noSince && l.since >= sec-l.window {
		since := time.Unix(l.since, 0).UTC()
		f.Since = &since
	}
	return f
}
