package availability

import (
	"slices"
	"testing"
	"time"
)

func TestCoarseWidth(t *testing.T) {
	tests := []struct {
		window                time.Duration
		wantWindow            int64 // seconds, after clamping
		healthCheck, target   int64 // bucket widths in seconds
		healthKeep, targetKep int64 // buckets kept
	}{
		{window: time.Hour, wantWindow: 3600, healthCheck: 60, target: 120, healthKeep: 61, targetKep: 31},
		{window: 720 * time.Hour, wantWindow: 2592000, healthCheck: 43200, target: 86400, healthKeep: 61, targetKep: 31},
		{window: 2160 * time.Hour, wantWindow: 7776000, healthCheck: 129600, target: 259200, healthKeep: 61, targetKep: 31},
		{window: 7 * time.Hour, wantWindow: 25200, healthCheck: 420, target: 840, healthKeep: 61, targetKep: 31},
		// Rounded up, so that 60 (30) buckets still span the window.
		{window: time.Hour + time.Second, wantWindow: 3601, healthCheck: 61, target: 121, healthKeep: 61, targetKep: 31},
		{window: 168*time.Hour + 7*time.Second, wantWindow: 604807, healthCheck: 10081, target: 20161, healthKeep: 61, targetKep: 31},
		// Cut to whole seconds, and clamped to the API's bounds.
		{window: time.Hour + 999*time.Millisecond, wantWindow: 3600, healthCheck: 60, target: 120, healthKeep: 61, targetKep: 31},
		{window: 30 * time.Minute, wantWindow: 3600, healthCheck: 60, target: 120, healthKeep: 61, targetKep: 31},
		{window: -time.Hour, wantWindow: 3600, healthCheck: 60, target: 120, healthKeep: 61, targetKep: 31},
		{window: 100000 * time.Hour, wantWindow: 7776000, healthCheck: 129600, target: 259200, healthKeep: 61, targetKep: 31},
	}
	for _, tc := range tests {
		t.Run(tc.window.String(), func(t *testing.T) {
			h, g := NewLedger(tc.window), NewTargetLedger(tc.window)
			if h.window != tc.wantWindow || g.window != tc.wantWindow {
				t.Errorf("windows %d and %d, want %d", h.window, g.window, tc.wantWindow)
			}
			if h.coarse.width != tc.healthCheck || h.coarse.keep != tc.healthKeep {
				t.Errorf("HealthCheck buckets %ds × %d, want %ds × %d", h.coarse.width, h.coarse.keep, tc.healthCheck, tc.healthKeep)
			}
			if g.coarse.width != tc.target || g.coarse.keep != tc.targetKep {
				t.Errorf("target buckets %ds × %d, want %ds × %d", g.coarse.width, g.coarse.keep, tc.target, tc.targetKep)
			}
			if h.fine.width != 300 || h.fine.keep != 73 {
				t.Errorf("fine buckets %ds × %d, want 300s × 73", h.fine.width, h.fine.keep)
			}
		})
	}
}

func TestSeriesAdd(t *testing.T) {
	type add struct {
		at          int64 // Unix second
		total, bad  int64
		wantCounted bool
	}
	// Buckets of 60s over a span of 180s: 4 kept.
	tests := []struct {
		name      string
		adds      []add
		wantFirst int64
		want      []bucket
	}{
		{
			name:      "the first round makes the first bucket",
			adds:      []add{{at: 6030, total: 2, bad: 1, wantCounted: true}},
			wantFirst: 100, want: []bucket{{2, 1}},
		},
		{
			name:      "rounds within one bucket add up",
			adds:      []add{{6000, 2, 1, true}, {6059, 3, 0, true}},
			wantFirst: 100, want: []bucket{{5, 1}},
		},
		{
			name:      "a gap leaves empty buckets",
			adds:      []add{{6000, 1, 0, true}, {6180, 1, 1, true}},
			wantFirst: 100, want: []bucket{{1, 0}, {}, {}, {1, 1}},
		},
		{
			name:      "the newest bucket pushes the oldest out of the span",
			adds:      []add{{6000, 1, 0, true}, {6060, 2, 0, true}, {6240, 3, 0, true}},
			wantFirst: 101, want: []bucket{{2, 0}, {}, {}, {3, 0}},
		},
		{
			name:      "a round a whole span ahead starts over",
			adds:      []add{{6000, 1, 0, true}, {6000 + 4*60, 2, 0, true}},
			wantFirst: 104, want: []bucket{{2, 0}},
		},
		{
			name:      "a round years ahead starts over without walking the gap",
			adds:      []add{{6000, 1, 0, true}, {maxUnix, 2, 0, true}},
			wantFirst: maxUnix / 60, want: []bucket{{2, 0}},
		},
		{
			name:      "a late round still within the span is counted in its bucket",
			adds:      []add{{6000, 1, 0, true}, {6120, 1, 0, true}, {6010, 5, 5, true}},
			wantFirst: 100, want: []bucket{{6, 5}, {}, {1, 0}},
		},
		{
			name:      "a late round before the oldest bucket makes room for it",
			adds:      []add{{6120, 1, 0, true}, {6000, 5, 5, true}},
			wantFirst: 100, want: []bucket{{5, 5}, {}, {1, 0}},
		},
		{
			name:      "the oldest bucket a span allows is kept",
			adds:      []add{{6180, 1, 0, true}, {6000, 5, 5, true}},
			wantFirst: 100, want: []bucket{{5, 5}, {}, {}, {1, 0}},
		},
		{
			name:      "a round older than the span of the newest bucket is dropped",
			adds:      []add{{6240, 1, 0, true}, {6059, 5, 5, false}},
			wantFirst: 104, want: []bucket{{1, 0}},
		},
		{
			name:      "a round that would overflow its bucket is dropped",
			adds:      []add{{6000, MaxBucketChecks - 1, 0, true}, {6001, 2, 2, false}, {6002, 1, 1, true}},
			wantFirst: 100, want: []bucket{{MaxBucketChecks, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSeries(180, 60)
			for _, a := range tc.adds {
				if got := s.add(a.at, bucket{total: a.total, bad: a.bad}); got != a.wantCounted {
					t.Errorf("add at %d counted = %v, want %v", a.at, got, a.wantCounted)
				}
			}
			if s.first != tc.wantFirst || !slices.Equal(s.buckets, tc.want) {
				t.Errorf("buckets from %d: %v, want from %d: %v", s.first, s.buckets, tc.wantFirst, tc.want)
			}
			if int64(len(s.buckets)) > s.keep {
				t.Errorf("%d buckets kept, more than %d", len(s.buckets), s.keep)
			}
		})
	}
}

func TestSeriesSince(t *testing.T) {
	s := newSeries(180, 60)
	for _, at := range []int64{6000, 6060, 6120, 6180} {
		s.add(at, bucket{total: at / 60, bad: 1})
	}
	tests := []struct {
		from int64
		want bucket
	}{
		{from: 0, want: bucket{100 + 101 + 102 + 103, 4}},
		{from: -5, want: bucket{100 + 101 + 102 + 103, 4}},
		{from: 6059, want: bucket{100 + 101 + 102 + 103, 4}}, // overlaps the first bucket
		{from: 6060, want: bucket{101 + 102 + 103, 3}},
		{from: 6239, want: bucket{103, 1}},
		{from: 6240, want: bucket{}},
	}
	for _, tc := range tests {
		if got := s.since(tc.from); got != tc.want {
			t.Errorf("since(%d) = %v, want %v", tc.from, got, tc.want)
		}
	}
}
