package availability_test

import (
	"encoding/base64"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

func TestEncodeDecode(t *testing.T) {
	tests := []struct {
		name   string
		window time.Duration
		checks []check
	}{
		{name: "empty", window: 720 * time.Hour},
		{name: "one round", window: 720 * time.Hour, checks: []check{{at: time.Hour, good: 3, total: 4}}},
		{name: "a shortest window", window: time.Hour, checks: []check{{at: 0, good: 1, total: 1}, {at: 59 * time.Minute, good: 0, total: 1}}},
		{
			name:   "rounds with gaps, late rounds and full buckets",
			window: 2160 * time.Hour,
			checks: []check{
				{at: 0, good: 1, total: 1},
				{at: 1000 * time.Hour, good: 5, total: 9},
				{at: 999 * time.Hour, good: availability.MaxBucketChecks, total: availability.MaxBucketChecks},
				{at: 1006 * time.Hour, good: 0, total: 7},
			},
		},
		{name: "at the epoch", window: 24 * time.Hour, checks: []check{{at: -base.Sub(time.Unix(0, 0)), good: 1, total: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := ledgerOf(tc.window, tc.checks...)
			got, err := availability.Decode(l.Encode(), tc.window)
			if err != nil {
				t.Fatalf("Decode(Encode()): %v", err)
			}
			if !reflect.DeepEqual(got, l) {
				t.Errorf("Decode(Encode()) = %+v, want %+v", got, l)
			}

			target := availability.NewTargetLedger(tc.window)
			for _, c := range tc.checks {
				target.Add(base.Add(c.at), c.good, c.total)
			}
			gotTarget, err := availability.DecodeTarget(target.Encode(), tc.window)
			if err != nil {
				t.Fatalf("DecodeTarget(Encode()): %v", err)
			}
			if !reflect.DeepEqual(gotTarget, target) {
				t.Errorf("DecodeTarget(Encode()) = %+v, want %+v", gotTarget, target)
			}
		})
	}
}

// raw encodes a version, a kind and uvarints as the package does.
func raw(version, kind byte, values ...uint64) string {
	b := []byte{version, kind}
	for _, v := range values {
		b = binary.AppendUvarint(b, v)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestDecodeRejects(t *testing.T) {
	const (
		window = 720 * 3600 // seconds
		coarse = 43200      // its HealthCheck's bucket width
		target = 86400      // its target's
		first  = 40000      // a bucket index
		maxIdx = 1 << 40 / coarse
	)
	valid := raw(1, 'H', window, 0, coarse, first, 1, 5, 1, 300, first*144, 1, 5, 1)
	if _, err := availability.Decode(valid, 720*time.Hour); err != nil {
		t.Fatalf("the valid encoding the cases below spoil: %v", err)
	}
	tests := []struct {
		name    string
		s       string
		target  bool
		wantErr string
	}{
		{name: "not base64", s: "!!!", wantErr: "decoding counts: illegal base64 data"},
		{name: "padded base64", s: valid + "==", wantErr: "decoding counts"},
		{name: "one byte", s: "AQ", wantErr: "counts truncated"},
		{name: "another version", s: raw(2, 'H', window, 0, coarse, first, 0, 300, 0, 0), wantErr: "counts of version 2, want 1"},
		{name: "a target's for a HealthCheck", s: raw(1, 'T', window, 0, target, first, 0), wantErr: `counts of kind 'T', want 'H'`},
		{name: "a HealthCheck's for a target", s: valid, target: true, wantErr: `counts of kind 'H', want 'T'`},
		{name: "no window", s: raw(1, 'H'), wantErr: "counts truncated in window"},
		{name: "a window too short", s: raw(1, 'H', 3599, 0, 60, 0, 0, 300, 0, 0), wantErr: "window of 3599s, less than 1h0m0s"},
		{name: "a window too long", s: raw(1, 'H', 2160*3600+1, 0, 129601, 0, 0, 300, 0, 0), wantErr: "window is 7776001, more than 7776000"},
		{name: "since beyond the year 36812", s: raw(1, 'H', window, 1<<40+2, coarse, 0, 0, 300, 0, 0), wantErr: "since is 1099511627778, more than 1099511627777"},
		{name: "an absurd width", s: raw(1, 'H', window, 0, 1<<62, first, 0, 300, 0, 0), wantErr: "bucket width is 4611686018427387904, more than 1099511627776"},
		{name: "a width not the window's", s: raw(1, 'H', window, 0, coarse+1, first, 0, 300, 0, 0), wantErr: "bucket width of 43201s, want 43200s"},
		{name: "a fine width not 5m", s: raw(1, 'H', window, 0, coarse, first, 0, 60, 0, 0), wantErr: "bucket width of 60s, want 300s"},
		{name: "a first bucket beyond the year 36812", s: raw(1, 'H', window, 0, coarse, maxIdx+1, 0, 300, 0, 0), wantErr: "first bucket is 25451659, more than 25451658"},
		{name: "more buckets than the window keeps", s: raw(1, 'H', window, 0, coarse, first, 62), wantErr: "number of buckets is 62, more than 61"},
		{name: "more bad checks than checks", s: raw(1, 'H', window, 0, coarse, first, 1, 5, 6, 300, 0, 0), wantErr: "bad checks is 6, more than 5"},
		{name: "a bucket past its bound", s: raw(1, 'H', window, 0, coarse, first, 1, 1<<35, 0, 300, 0, 0), wantErr: "checks is 34359738368, more than 34359738367"},
		{name: "truncated in a bucket", s: raw(1, 'H', window, 0, coarse, first, 2, 5, 1, 5), wantErr: "counts truncated in bad checks"},
		{name: "truncated before the fine buckets", s: raw(1, 'H', window, 0, coarse, first, 1, 5, 1), wantErr: "counts truncated in bucket width"},
		{name: "bytes after the counts", s: raw(1, 'H', window, 0, coarse, first, 0, 300, 0, 0, 7), wantErr: "1 bytes after the counts"},
		{name: "a varint that overflows", s: base64.RawURLEncoding.EncodeToString(append([]byte{1, 'H'}, strings.Repeat("\xff", 11)...)), wantErr: "window overflows"},
		{name: "longer than the field", s: strings.Repeat("A", monitoringv1alpha1.MaxCountsLength+1), wantErr: "counts of 4097 characters, more than 4096"},
		{name: "longer than a target's field", s: strings.Repeat("A", monitoringv1alpha1.MaxTargetCountsLength+1), target: true, wantErr: "counts of 513 characters, more than 512"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.target {
				_, err = availability.DecodeTarget(tc.s, 720*time.Hour)
			} else {
				_, err = availability.Decode(tc.s, 720*time.Hour)
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeAnotherWindow(t *testing.T) {
	// Counted for 720h, read for 168h: the window's counts start afresh, the
	// burn rates carry on.
	checks := []check{{at: time.Hour, good: 0, total: 1}, {at: 2 * time.Hour, good: 1, total: 1}}
	before := ledgerOf(720*time.Hour, checks...)
	now := base.Add(2 * time.Hour)
	o := objective(t, "99")

	l, err := availability.Decode(before.Encode(), 168*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if f := l.Figures(now); f.Total != 0 || f.Since != nil || f.Window != 168*time.Hour {
		t.Errorf("figures after the change: %+v, want none over 168h", f)
	}
	if got, want := l.BurnRates(now, o), before.BurnRates(now, o); got != want || got.SixHours != 50 {
		t.Errorf("burn rates after the change: %+v, want %+v", got, want)
	}
	l.Add(now.Add(time.Minute), 1, 1)
	if f := l.Figures(now.Add(time.Minute)); f.Total != 1 || f.Since == nil || !f.Since.Equal(now.Add(time.Minute)) {
		t.Errorf("figures after the next round: %+v, want 1 check since that round", f)
	}

	target := availability.NewTargetLedger(720 * time.Hour)
	target.Add(now, 1, 1)
	gotTarget, err := availability.DecodeTarget(target.Encode(), 168*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotTarget, availability.NewTargetLedger(168*time.Hour)) {
		t.Errorf("target after the change: %+v, want a new ledger", gotTarget)
	}
}

func TestDecodeEmpty(t *testing.T) {
	l, err := availability.Decode("", 720*time.Hour)
	if err != nil || !reflect.DeepEqual(l, availability.NewLedger(720*time.Hour)) {
		t.Errorf(`Decode("") = %+v, %v; want a new ledger`, l, err)
	}
	target, err := availability.DecodeTarget("", time.Hour)
	if err != nil || !reflect.DeepEqual(target, availability.NewTargetLedger(time.Hour)) {
		t.Errorf(`DecodeTarget("") = %+v, %v; want a new ledger`, target, err)
	}
}
