package operator

import (
	"errors"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// keepMemoryLimit restores the process's memory limit when the test ends: it is
// the runtime's, shared by every test of the package.
func keepMemoryLimit(t *testing.T) {
	t.Helper()
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
}

// unsetEnv unsets the variables until the test ends: automemlimit reads a
// variable that is present, even empty, as the user's say.
func unsetEnv(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		t.Setenv(name, "") // restored when the test ends
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTheGoMemoryLimitIsAShareOfTheContainers(t *testing.T) {
	keepMemoryLimit(t)
	unsetEnv(t, "GOMEMLIMIT", "AUTOMEMLIMIT")
	const container = 256 << 20
	limit, err := SetGoMemoryLimit(0.9, memlimit.Limit(container))
	if err != nil {
		t.Fatal(err)
	}
	ratio := 0.9
	if want := int64(float64(container) * ratio); limit != want || debug.SetMemoryLimit(-1) != want {
		t.Fatalf("limit %d, in force %d, want %d: 90%% of the container's 256Mi", limit, debug.SetMemoryLimit(-1), want)
	}
}

func TestNoGoMemoryLimitWithoutAContainerLimitOrWhenTurnedOff(t *testing.T) {
	keepMemoryLimit(t)
	unsetEnv(t, "GOMEMLIMIT", "AUTOMEMLIMIT")
	debug.SetMemoryLimit(math.MaxInt64)
	if limit, err := SetGoMemoryLimit(0.9, func() (uint64, error) { return 0, memlimit.ErrNoLimit }); err != nil || limit != math.MaxInt64 {
		t.Fatalf("without a container limit: limit %d, error %v; want none", limit, err)
	}
	if limit, err := SetGoMemoryLimit(0, memlimit.Limit(256<<20)); err != nil || limit != math.MaxInt64 {
		t.Fatalf("with --memory-limit-ratio=0: limit %d, error %v; want none", limit, err)
	}
}

func TestARatioOutsideZeroToOneNamesTheFlag(t *testing.T) {
	keepMemoryLimit(t)
	for _, ratio := range []float64{-0.5, 1.5} {
		if _, err := SetGoMemoryLimit(ratio, memlimit.Limit(256<<20)); !errors.Is(err, ErrMemoryLimitRatio) || !strings.Contains(err.Error(), "--memory-limit-ratio") {
			t.Errorf("ratio %v: error %v, want one naming --memory-limit-ratio", ratio, err)
		}
	}
}

func TestAGOMEMLIMITInTheEnvironmentWins(t *testing.T) {
	keepMemoryLimit(t)
	unsetEnv(t, "AUTOMEMLIMIT")
	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(100 << 20) // as the runtime read it at start
	if limit, err := SetGoMemoryLimit(0.9, memlimit.Limit(256<<20)); err != nil || limit != 100<<20 {
		t.Fatalf("limit %d, error %v; want the environment's 100MiB", limit, err)
	}
}
