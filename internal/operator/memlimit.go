package operator

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// ErrMemoryLimitRatio is a --memory-limit-ratio out of range: a bad flag, where
// any other error of SetGoMemoryLimit is the container's limit not being
// readable.
var ErrMemoryLimitRatio = errors.New("invalid memory limit ratio")

// SetGoMemoryLimit sets the Go runtime's soft memory limit to ratio of the
// memory limit provider reports (memlimit.FromCgroup: the container's), and
// returns the limit now in force. Without it the garbage collector lets the
// heap grow to twice what is live, and further when it falls behind: at
// 100,000 targets on a saturated machine the heap in use was four times the
// 270 MB live, which a container limit turns into an OOM kill. With it the
// collector works harder as the heap nears the limit instead.
//
// A ratio of 0 sets no limit. A GOMEMLIMIT (or AUTOMEMLIMIT) in the
// environment wins, as automemlimit, the library Prometheus uses for the same,
// documents. No limit reported (no cgroup limit) leaves the runtime unlimited.
func SetGoMemoryLimit(ratio float64, provider memlimit.Provider) (int64, error) {
	if ratio == 0 {
		return debug.SetMemoryLimit(-1), nil
	}
	if ratio < 0 || ratio > 1 {
		return debug.SetMemoryLimit(-1), fmt.Errorf("%w: --memory-limit-ratio is %v, it must be over 0 and at most 1, or 0 for no limit", ErrMemoryLimitRatio, ratio)
	}
	limit, err := memlimit.Set(memlimit.WithRatio(ratio), memlimit.WithProvider(provider))
	if err != nil {
		return limit, fmt.Errorf("setting the Go memory limit from the container's: %w", err)
	}
	return limit, nil
}
