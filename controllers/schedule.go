package controllers

import (
	"hash/fnv"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// slotGrid is the grid that phases fall on: every interval that is a whole
// number of it has its slots at multiples of slotGrid since the Unix epoch.
//
// Rounds due on the same instant start together, so the process wakes once for
// all of them. Each time a Go process wakes from idle the runtime pays a fixed
// cost whatever the work: threads unparked to look for more, and its monitor
// thread polling every 20 µs for a while before it sleeps again. At 5,000
// targets (500 HealthChecks every 10 s) a phase in nanoseconds woke the manager
// 50 times a second, one round each; on this grid it wakes 10 times, five
// rounds each, and its CPU per check fell by 5 to 27 % over five pairs of runs,
// 15 % on average (docs/benchmarks.md, section 17). Nothing starts later for
// it: a slot is still when the round is due, and the HealthChecks are still
// spread over the interval, 100 slots in 10 s. A wider grid saves more CPU
// but keeps more checks running at once, and memory per target went over its
// goal at 200 ms.
const slotGrid = 100 * time.Millisecond

// phase is a HealthCheck's fixed offset within its interval, derived from its
// namespace and name. Rounds of many HealthChecks with the same interval start at
// their own phases, spread over the interval, instead of all in the same second
// (as they would after a GitOps tool applies them together). A phase is a
// multiple of slotGrid when the interval is.
func phase(key types.NamespacedName, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key.Namespace + "/" + key.Name))
	if slots := interval / slotGrid; slots > 0 && interval%slotGrid == 0 {
		return time.Duration(h.Sum64()%uint64(slots)) * slotGrid
	}
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextSlot is when the round after one that started at last is due: the first
// time on the HealthCheck's phase grid at least half an interval after last. Once
// a HealthCheck is on its grid, that is exactly last+interval, so a round's own
// duration causes no drift; the first round after a spec change (which runs at
// once, off the grid) is followed by one within [interval/2, 3*interval/2).
func nextSlot(last time.Time, interval, phase time.Duration) time.Time {
	earliest := last.Add(interval / 2)
	// Slots are the instants phase + k*interval since the Unix epoch.
	offset := time.Duration(earliest.UnixNano()) - phase
	k := offset / interval
	if offset%interval != 0 && offset > 0 {
		k++
	}
	slot := time.Unix(0, 0).Add(phase + k*interval)
	if slot.Before(earliest) {
		slot = slot.Add(interval)
	}
	return slot
}
