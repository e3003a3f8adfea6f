package availability

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// The encoding, base64 (RawURLEncoding) of bytes and unsigned varints:
//
//	version (a byte, 1)
//	kind    (a byte: kindHealthCheck or kindTarget)
//	window  in seconds
//	since   Unix second of the first counted check, plus one; 0 when none
//	coarse  series
//	fine    series, the HealthCheck's only
//
// and a series is its bucket width in seconds, the index of its oldest bucket,
// the number of buckets, and for each its counted and its bad checks. Bad
// rather than good checks, because a bucket without failures then takes a
// single byte more than its total.
const (
	version         = 1
	kindHealthCheck = 'H'
	kindTarget      = 'T'
)

var encoding = base64.RawURLEncoding

// Encode returns the ledger as a string for status.availability.counts, at most
// monitoringv1alpha1.MaxCountsLength characters.
func (l *Ledger) Encode() string {
	b := l.appendTo(nil, kindHealthCheck)
	return encoding.EncodeToString(l.fine.appendTo(b))
}

// Encode returns the ledger as a string for status.targets[].availabilityCounts,
// at most monitoringv1alpha1.MaxTargetCountsLength characters.
func (l *TargetLedger) Encode() string {
	return encoding.EncodeToString(l.appendTo(nil, kindTarget))
}

// Decode returns the HealthCheck ledger that Encode returned as s, for window.
// An empty s is a new ledger. Counts encoded for another window start afresh:
// the coarse buckets and Since are dropped, and only the 5-minute buckets of the
// burn rates, which do not depend on the window, are kept. Anything that is not
// an encoding of this package's, or fails its bounds, is an error.
func Decode(s string, window time.Duration) (*Ledger, error) {
	l := NewLedger(window)
	if s == "" {
		return l, nil
	}
	r, err := open(s, kindHealthCheck, monitoringv1alpha1.MaxCountsLength)
	if err != nil {
		return nil, err
	}
	t := r.tally(healthCheckBuckets)
	fine := r.series(newSeries(fineSpan, fineWidth))
	if err := r.close(); err != nil {
		return nil, err
	}
	if t.window == l.window {
		l.tally = t
	}
	l.fine = fine
	return l, nil
}

// DecodeTarget returns the target ledger that Encode returned as s, for window.
// An empty s, or counts encoded for another window, is a new ledger; anything
// that is not an encoding of this package's, or fails its bounds, is an error.
func DecodeTarget(s string, window time.Duration) (*TargetLedger, error) {
	l := NewTargetLedger(window)
	if s == "" {
		return l, nil
	}
	r, err := open(s, kindTarget, monitoringv1alpha1.MaxTargetCountsLength)
	if err != nil {
		return nil, err
	}
	t := r.tally(targetBuckets)
	if err := r.close(); err != nil {
		return nil, err
	}
	if t.window == l.window {
		l.tally = t
	}
	return l, nil
}

func (l *tally) appendTo(b []byte, kind byte) []byte {
	b = append(b, version, kind)
	b = binary.AppendUvarint(b, uint64(l.window))
	b = binary.AppendUvarint(b, uint64(l.since+1)) // noSince is -1
	return l.coarse.appendTo(b)
}

func (s *series) appendTo(b []byte) []byte {
	first := s.first
	if len(s.buckets) == 0 {
		first = 0
	}
	b = binary.AppendUvarint(b, uint64(s.width))
	b = binary.AppendUvarint(b, uint64(first))
	b = binary.AppendUvarint(b, uint64(len(s.buckets)))
	for _, k := range s.buckets {
		b = binary.AppendUvarint(b, uint64(k.total))
		b = binary.AppendUvarint(b, uint64(k.bad))
	}
	return b
}

// reader reads an encoding, keeping the first error so that a caller checks
// once, at the end; every value read is checked against a bound, so no value
// it returns can overflow or size an allocation beyond the bound.
type reader struct {
	b   []byte
	err error
}

// open decodes s and checks its version and kind.
func open(s string, kind byte, maxLength int) (*reader, error) {
	if len(s) > maxLength {
		return nil, fmt.Errorf("counts of %d characters, more than %d", len(s), maxLength)
	}
	b, err := encoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decoding counts: %w", err)
	}
	if len(b) < 2 {
		return nil, errors.New("counts truncated")
	}
	if b[0] != version {
		return nil, fmt.Errorf("counts of version %d, want %d", b[0], version)
	}
	if b[1] != kind {
		return nil, fmt.Errorf("counts of kind %q, want %q", b[1], kind)
	}
	return &reader{b: b[2:]}, nil
}

// uvarint reads a value from 0 to limit.
func (r *reader) uvarint(what string, limit int64) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		r.err = fmt.Errorf("counts truncated in %s", what)
	case n < 0:
		r.err = fmt.Errorf("%s overflows", what)
	case v > uint64(limit):
		r.err = fmt.Errorf("%s is %d, more than %d", what, v, limit)
	}
	if r.err != nil {
		return 0
	}
	r.b = r.b[n:]
	return int64(v)
}

// tally reads a tally whose window has buckets coarse buckets.
func (r *reader) tally(buckets int64) tally {
	window := r.uvarint("window", int64(MaxWindow/time.Second))
	if r.err == nil && window < int64(MinWindow/time.Second) {
		r.err = fmt.Errorf("window of %ds, less than %v", window, MinWindow)
	}
	since := r.uvarint("since", maxUnix+1) - 1
	if r.err != nil {
		return tally{}
	}
	return tally{window: window, since: since, coarse: r.series(newSeries(window, coarseWidth(window, buckets)))}
}

// series reads a series whose width and length must be want's.
func (r *reader) series(want series) series {
	width := r.uvarint("bucket width", maxUnix)
	if r.err == nil && width != want.width {
		r.err = fmt.Errorf("bucket width of %ds, want %ds", width, want.width)
	}
	first := r.uvarint("first bucket", maxUnix/want.width)
	n := r.uvarint("number of buckets", want.keep)
	if r.err != nil || n == 0 {
		return want
	}
	s := want
	s.first, s.buckets = first, make([]bucket, n, want.keep)
	for i := range s.buckets {
		total := r.uvarint("checks", MaxBucketChecks)
		s.buckets[i] = bucket{total: total, bad: r.uvarint("bad checks", total)}
	}
	return s
}

// close reports the first error, or bytes left over.
func (r *reader) close() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes after the counts", len(r.b))
	}
	return r.err
}
