package controllers

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestNextSlotKeepsTheIntervalOnTheGridAndSnapsOffGridRoundsToIt(t *testing.T) {
	grid := time.Unix(1_800_000_000, 0) // a slot for phase 0 at a 30s interval (divisible by 30)
	const interval = 30 * time.Second
	cases := []struct {
		name  string
		last  time.Time
		phase time.Duration
		want  time.Time
	}{
		{"on the grid: exactly one interval later", grid, 0, grid.Add(interval)},
		{"on a phased grid", grid.Add(7 * time.Second), 7 * time.Second, grid.Add(37 * time.Second)},
		{"off the grid, late in the slot: the next slot but one", grid.Add(20 * time.Second), 0, grid.Add(2 * interval)},
		{"off the grid, early in the slot: the next slot", grid.Add(10 * time.Second), 0, grid.Add(interval)},
		{"a slow previous round does not push the schedule", grid.Add(40 * time.Millisecond), 0, grid.Add(interval)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := nextSlot(tc.last, interval, tc.phase)
			if !got.Equal(tc.want) {
				t.Fatalf("nextSlot = %v after last, want %v", got.Sub(tc.last), tc.want.Sub(tc.last))
			}
			if gap := got.Sub(tc.last); gap < interval/2 || gap >= 3*interval/2 {
				t.Fatalf("gap %v outside [interval/2, 3*interval/2)", gap)
			}
		})
	}
}

func TestPhasesSpreadHealthChecksOverTheInterval(t *testing.T) {
	const interval = 10 * time.Second
	buckets := make([]int, 10) // one per second of the interval
	for i := range 1000 {
		p := phase(types.NamespacedName{Namespace: "team-a", Name: fmt.Sprintf("hc-%d", i)}, interval)
		if p < 0 || p >= interval {
			t.Fatalf("phase %v outside [0, %v)", p, interval)
		}
		buckets[p/time.Second]++
	}
	for second, n := range buckets {
		if n < 60 || n > 140 { // 100 expected per second
			t.Fatalf("second %d of the interval has %d of 1000 HealthChecks: %v", second, n, buckets)
		}
	}
	key := types.NamespacedName{Namespace: "a", Name: "b"}
	if first, second := phase(key, interval), phase(key, interval); first != second {
		t.Fatal("phase is not deterministic")
	}
}

func TestRoundsOfManyHealthChecksShareSlotsOnTheGrid(t *testing.T) {
	const interval = 10 * time.Second
	last := time.Unix(1_800_000_000, 123_456_789) // off every grid: a round started by a spec change
	slots := map[time.Time]int{}
	for i := range 500 {
		key := types.NamespacedName{Namespace: "team-a", Name: fmt.Sprintf("hc-%d", i)}
		slot := nextSlot(last, interval, phase(key, interval))
		if slot.UnixNano()%int64(slotGrid) != 0 {
			t.Fatalf("%s is due at %v, off the %v grid", key, slot, slotGrid)
		}
		slots[slot]++
	}
	// 500 HealthChecks in 100 slots: the process wakes once for several rounds,
	// and the rounds are still spread over the whole interval.
	if len(slots) > int(interval/slotGrid) || len(slots) < 95 {
		t.Fatalf("500 HealthChecks are due at %d distinct instants, want 95 to %d", len(slots), interval/slotGrid)
	}

	// An interval that is no whole number of the grid keeps its phases spread
	// finely, since its later slots could not stay on the grid anyway.
	const odd = 1234 * time.Millisecond
	offGrid := 0
	for i := range 100 {
		p := phase(types.NamespacedName{Namespace: "team-a", Name: fmt.Sprintf("hc-%d", i)}, odd)
		if p < 0 || p >= odd {
			t.Fatalf("phase %v outside [0, %v)", p, odd)
		}
		if p%slotGrid != 0 {
			offGrid++
		}
	}
	if offGrid < 90 {
		t.Fatalf("%d of 100 phases of a %v interval are off the grid, want nearly all", offGrid, odd)
	}
}
