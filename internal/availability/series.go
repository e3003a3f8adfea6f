package availability

// MaxBucketChecks is the most checks one bucket holds: over 100,000 a second
// in the widest bucket (72h), far beyond 500 targets checked every second. A
// round that would take a bucket past it is not counted; the bound is what
// keeps an encoding within its status field whatever the caller adds.
const MaxBucketChecks = 1<<35 - 1

// maxUnix is the latest instant counted, in Unix seconds (the year 36812). It
// bounds bucket indexes, and so the encoding, and keeps index arithmetic far
// from overflow.
const maxUnix = 1 << 40

// bucket counts the checks of one bucket's span.
type bucket struct {
	total int64 // checks counted
	bad   int64 // of which bad; never more than total
}

// series counts checks in consecutive buckets of one width, aligned to the Unix
// epoch, keeping as many as can overlap a span that ends in the newest one.
type series struct {
	width int64 // seconds
	keep  int64 // most buckets kept: ceil(span/width) + 1
	// first is the index of buckets[0]; bucket i spans [i·width, (i+1)·width).
	first   int64
	buckets []bucket // oldest first; nil before anything is counted
}

func newSeries(span, width int64) series {
	return series{width: width, keep: ceilDiv(span, width) + 1}
}

// newest is the index of the newest bucket; only meaningful when there is one.
func (s *series) newest() int64 { return s.first + int64(len(s.buckets)) - 1 }

// add counts b in the bucket holding the Unix second at, and reports whether it
// did: not when that bucket is older than the span of the newest one, nor when
// b would take it past MaxBucketChecks.
func (s *series) add(at int64, b bucket) bool {
	k := at / s.width
	slot := s.slot(k)
	if slot == nil || slot.total > MaxBucketChecks-b.total {
		return false
	}
	slot.total += b.total
	slot.bad += b.bad
	return true
}

// slot returns bucket k, making room for it, or nil when it is too old to keep.
func (s *series) slot(k int64) *bucket {
	switch {
	case len(s.buckets) == 0:
		// Room grows with the buckets counted (see grow), so a young ledger,
		// or one of a short interval's targets, holds what it counted, not
		// its whole window.
		s.first, s.buckets = k, make([]bucket, 1, min(s.keep, 2))
	case k > s.newest():
		s.advance(k)
	case k <= s.newest()-s.keep:
		return nil
	case k < s.first:
		// A clock behind the one that counted so far: room before the oldest.
		s.buckets = append(make([]bucket, s.first-k, min(s.keep, s.first-k+int64(len(s.buckets)))), s.buckets...)
		s.first = k
	}
	return &s.buckets[k-s.first]
}

// advance makes k the newest bucket and drops the buckets that pushes out.
func (s *series) advance(k int64) {
	if k-s.newest() >= s.keep {
		s.first, s.buckets = k, append(s.buckets[:0], bucket{})
		return
	}
	s.grow(min(k-s.newest(), s.keep))
	for range k - s.newest() {
		s.buckets = append(s.buckets, bucket{})
	}
	if drop := int64(len(s.buckets)) - s.keep; drop > 0 {
		s.buckets = append(s.buckets[:0], s.buckets[drop:]...)
		s.first += drop
	}
}

// grow makes room for n more buckets, doubling up to keep (append's own growth
// would overshoot keep, and a full series stays at keep for good).
func (s *series) grow(n int64) {
	need := int64(len(s.buckets)) + n
	if need <= int64(cap(s.buckets)) {
		return
	}
	room := min(max(need, 2*int64(cap(s.buckets))), s.keep+1)
	s.buckets = append(make([]bucket, 0, room), s.buckets...)
}

// since sums the buckets that overlap the span from the Unix second from
// onwards. Buckets after the reader's now are included: they were counted by a
// clock ahead of the reader's, and hiding them would hide real checks.
func (s *series) since(from int64) bucket {
	var sum bucket
	if from < 0 {
		from = 0
	}
	for i, b := range s.buckets {
		if s.first+int64(i) >= from/s.width {
			sum.total += b.total
			sum.bad += b.bad
		}
	}
	return sum
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
