package bench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

// snapshot is everything measured at one instant; the figures are differences
// between two.
type snapshot struct {
	at       time.Time
	metrics  metrics
	managers []procStatus // one per shard
	updates  int64
	// controlPlane is the CPU time of kube-apiserver and etcd together; self is
	// this process's: the target servers and the watch.
	controlPlane, self time.Duration
	// busy and total are the machine's CPU time, all cores, from /proc/stat.
	busy, total time.Duration
}

func takeSnapshot(b *testing.B, mgrs managers, w *watcher, env *testenv.Env) snapshot {
	b.Helper()
	s := snapshot{at: time.Now(), managers: mgrs.status(b), updates: w.updateCount()}
	var err error
	s.metrics, err = mgrs.scrape(b.Context())
	must(b, err)
	for _, pid := range []int{
		findProcess("kube-apiserver", "--secure-port="+env.ControlPlane.APIServer.Port),
		findProcess("etcd", env.ControlPlane.Etcd.URL.String()),
	} {
		if pid == 0 {
			continue
		}
		if st, err := readProc(pid); err == nil {
			s.controlPlane += st.cpu
		}
	}
	s.busy, s.total = machineCPU()
	if st, err := readProc(os.Getpid()); err == nil {
		s.self = st.cpu
	}
	return s
}

// machineCPU reads the first line of /proc/stat: busy is everything but idle
// and iowait.
func machineCPU() (busy, total time.Duration) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	for i, f := range fields[1:] {
		ticks, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			continue
		}
		d := time.Duration(ticks) * time.Second / userHZ
		total += d
		if i != 3 && i != 4 { // idle, iowait
			busy += d
		}
	}
	return busy, total
}

// result holds the figures of the measured window.
type result struct {
	window         time.Duration
	lagP50, lagP99 float64 // seconds
	lagP50Bucket   [2]float64
	lagP99Bucket   [2]float64
	lagMean        float64
	// reconcileMean and reconcileP99 are how long a reconcile took, in seconds.
	reconcileMean, reconcileP99 float64
	reconcileP99Bucket          [2]float64
	reconciles                  float64 // a second
	// busyWorkers is the reconcile workers busy on average: reconcile time a second.
	busyWorkers            float64
	rounds, checks, failed float64 // a second
	meanRound              float64 // seconds
	updates, patches       float64 // a second
	managerCores           float64 // all shards
	shardCores             []float64
	controlPlaneCores      float64
	benchCores             float64
	machineBusy            float64 // of all cores
	// idle is each shard before any HealthCheck, end at the end of the window.
	idle, end []procStatus
	heapInUse float64 // bytes, all shards
	// What else of the managers' memory the Go runtime accounts for, in bytes:
	// the heap size at which the next collection starts, free heap not yet
	// returned to the system, and goroutine stacks.
	heapGoal, heapIdleKept, stacks float64
	falseDown, slowSeen            int
	peakUpdates                    int // in one second
	// allUp is how many HealthChecks' status showed every target Up at the end.
	allUp int
}

func compare(before, after snapshot) result {
	r := result{window: after.at.Sub(before.at)}
	secs := r.window.Seconds()
	lag := delta(after.metrics.buckets("healthcheck_schedule_lag_seconds"), before.metrics.buckets("healthcheck_schedule_lag_seconds"))
	r.lagP50, r.lagP50Bucket[0], r.lagP50Bucket[1] = quantile(0.5, lag)
	r.lagP99, r.lagP99Bucket[0], r.lagP99Bucket[1] = quantile(0.99, lag)
	reconcile := delta(after.metrics.buckets("controller_runtime_reconcile_time_seconds", `controller="healthcheck"`),
		before.metrics.buckets("controller_runtime_reconcile_time_seconds", `controller="healthcheck"`))
	r.reconcileP99, r.reconcileP99Bucket[0], r.reconcileP99Bucket[1] = quantile(0.99, reconcile)
	diff := func(name string, labels ...string) float64 {
		return after.metrics.sum(name, labels...) - before.metrics.sum(name, labels...)
	}
	if n := diff("healthcheck_schedule_lag_seconds_count"); n > 0 {
		r.lagMean = diff("healthcheck_schedule_lag_seconds_sum") / n
	}
	r.reconciles = diff("controller_runtime_reconcile_time_seconds_count", `controller="healthcheck"`) / secs
	r.busyWorkers = diff("controller_runtime_reconcile_time_seconds_sum", `controller="healthcheck"`) / secs
	if r.reconciles > 0 {
		r.reconcileMean = r.busyWorkers / r.reconciles
	}
	rounds := diff("healthcheck_round_duration_seconds_count")
	r.rounds = rounds / secs
	if rounds > 0 {
		r.meanRound = diff("healthcheck_round_duration_seconds_sum") / rounds
	}
	r.checks = diff("healthcheck_checks_total") / secs
	r.failed = diff("healthcheck_checks_total", `result="failure"`)
	r.updates = float64(after.updates-before.updates) / secs
	r.patches = diff("rest_client_requests_total", `method="PATCH"`) / secs
	for i := range after.managers {
		cores := (after.managers[i].cpu - before.managers[i].cpu).Seconds() / secs
		r.shardCores = append(r.shardCores, cores)
		r.managerCores += cores
	}
	r.controlPlaneCores = (after.controlPlane - before.controlPlane).Seconds() / secs
	r.benchCores = (after.self - before.self).Seconds() / secs
	r.end = after.managers
	r.heapInUse = after.metrics.sum("go_memstats_heap_inuse_bytes")
	r.heapGoal = after.metrics.sum("go_memstats_next_gc_bytes")
	r.heapIdleKept = after.metrics.sum("go_memstats_heap_idle_bytes") - after.metrics.sum("go_memstats_heap_released_bytes")
	r.stacks = after.metrics.sum("go_memstats_stack_inuse_bytes")
	if total := after.total - before.total; total > 0 {
		r.machineBusy = float64(after.busy-before.busy) / float64(total)
	}
	return r
}

// Issue 14's goals, which the report prints each figure against.
const (
	goalManagerMsPerCheck = 0.20 // manager CPU per check
	// baselineControlPlaneMsPerCheck is the API server's and etcd's CPU per check
	// before issue 14 (1m heartbeat, 5,000 targets; docs/benchmarks.md section
	// 9); the goal is half of it.
	baselineControlPlaneMsPerCheck = 0.58
	goalMiBPerThousandTargets      = 6.0 // steady manager RSS above the empty process
	goalLagP99Seconds              = 1.0
)

// perCheckMs is cores spent per check a second, in milliseconds of CPU a check.
func perCheckMs(cores, checks float64) float64 {
	if checks == 0 {
		return 0
	}
	return cores / checks * 1000
}

// rss adds up the RSS (or peak RSS) of every shard.
func rss(shards []procStatus, peak bool) int64 {
	var total int64
	for _, st := range shards {
		if peak {
			total += st.peakRSS
		} else {
			total += st.rss
		}
	}
	return total
}

func (r result) report(b *testing.B, healthChecks, targets int, interval time.Duration) {
	thousands := float64(healthChecks*targets) / 1000
	steadyPerThousand := float64(rss(r.end, false)-rss(r.idle, false)) / (1 << 20) / thousands
	peakPerThousand := float64(rss(r.end, true)-rss(r.idle, false)) / (1 << 20) / thousands
	managerMs, controlPlaneMs := perCheckMs(r.managerCores, r.checks), perCheckMs(r.controlPlaneCores, r.checks)
	b.ReportMetric(r.lagP50*1000, "lag-p50-ms")
	b.ReportMetric(r.lagP99*1000, "lag-p99-ms")
	b.ReportMetric(r.rounds, "rounds/s")
	b.ReportMetric(r.updates, "status-writes/s")
	b.ReportMetric(r.managerCores, "manager-cores")
	b.ReportMetric(managerMs, "manager-ms/check")
	b.ReportMetric(controlPlaneMs, "apiserver+etcd-ms/check")
	b.ReportMetric(steadyPerThousand, "MiB/1000-targets")
	b.ReportMetric(float64(rss(r.end, true))/(1<<20), "manager-peak-MiB")
	b.ReportMetric(float64(r.falseDown), "false-downs")
	b.ReportMetric(0, "ns/op")

	ms := func(s float64) string { return strconv.FormatFloat(s*1000, 'f', 1, 64) + " ms" }
	mib := func(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }
	var t strings.Builder
	fmt.Fprintf(&t, "\n%d HealthChecks x %d targets every %s, %d shard(s), measured for %s after warm-up; manager flags beyond the defaults: %q\n\n",
		healthChecks, targets, interval, len(r.end), r.window.Round(time.Second), *managerArgs)
	fmt.Fprintf(&t, "| figure | value |\n|---|---:|\n")
	row := func(name, format string, args ...any) {
		fmt.Fprintf(&t, "| %s | "+format+" |\n", append([]any{name}, args...)...)
	}
	row("schedule lag p50", "%s (bucket %s to %s)", ms(r.lagP50), ms(r.lagP50Bucket[0]), ms(r.lagP50Bucket[1]))
	row("schedule lag p99", "%s (bucket %s to %s; goal under %s: %.2f of it)", ms(r.lagP99), ms(r.lagP99Bucket[0]), ms(r.lagP99Bucket[1]),
		ms(goalLagP99Seconds), r.lagP99/goalLagP99Seconds)
	row("schedule lag mean", "%s", ms(r.lagMean))
	row("reconciles per second", "%.0f", r.reconciles)
	row("reconcile time mean", "%s", ms(r.reconcileMean))
	row("reconcile time p99", "%s (bucket %s to %s)", ms(r.reconcileP99), ms(r.reconcileP99Bucket[0]), ms(r.reconcileP99Bucket[1]))
	row("reconcile workers busy, on average", "%.2f", r.busyWorkers)
	row("rounds per second", "%.1f (due: %.1f)", r.rounds, float64(healthChecks)/interval.Seconds())
	row("mean round duration", "%s", ms(r.meanRound))
	row("checks per second", "%.0f", r.checks)
	row("failed checks", "%.0f", r.failed)
	row("status writes per second (watch updates)", "%.1f", r.updates)
	row("status writes in the busiest second", "%d", r.peakUpdates)
	row("PATCH requests per second (managers' clients)", "%.1f", r.patches)
	row("manager CPU", "%.3f cores", r.managerCores)
	row("**manager CPU per check**", "**%.3f ms** (goal %.2f ms: %.2f of it)", managerMs, goalManagerMsPerCheck, managerMs/goalManagerMsPerCheck)
	row("kube-apiserver + etcd CPU", "%.3f cores", r.controlPlaneCores)
	row("**kube-apiserver + etcd CPU per check**", "**%.3f ms** (%.2f of the %.2f ms before issue 14; goal 0.50)",
		controlPlaneMs, controlPlaneMs/baselineControlPlaneMsPerCheck, baselineControlPlaneMsPerCheck)
	row("target servers and watch CPU (this process)", "%.2f cores", r.benchCores)
	row("machine CPU busy", "%.2f of %d cores", r.machineBusy*float64(runtime.NumCPU()), runtime.NumCPU())
	// Whatever else ran: on a shared machine, a sign that the figures are skewed.
	row("CPU of everything else on the machine", "%.2f cores",
		max(0, r.machineBusy*float64(runtime.NumCPU())-r.managerCores-r.controlPlaneCores-r.benchCores))
	row("manager RSS before any HealthCheck", "%s", mib(rss(r.idle, false)))
	row("manager peak RSS", "%s", mib(rss(r.end, true)))
	row("manager RSS at the end", "%s", mib(rss(r.end, false)))
	row("**manager RSS at the end above the empty process, per 1,000 targets**", "**%.1f MiB** (goal %.0f MiB: %.2f of it; peak: %.1f MiB)",
		steadyPerThousand, goalMiBPerThousandTargets, steadyPerThousand/goalMiBPerThousandTargets, peakPerThousand)
	row("manager Go heap in use at the end", "%.1f MiB", r.heapInUse/(1<<20))
	row("… the next collection's heap goal; free heap not yet returned; goroutine stacks", "%.1f MiB; %.1f MiB; %.1f MiB",
		r.heapGoal/(1<<20), r.heapIdleKept/(1<<20), r.stacks/(1<<20))
	if len(r.end) > 1 {
		for i := range r.end {
			row(fmt.Sprintf("shard %d: CPU, RSS at the end (above its empty process)", i), "%.3f cores, %s (%s)",
				r.shardCores[i], mib(r.end[i].rss), mib(r.end[i].rss-r.idle[i].rss))
		}
	}
	row("HealthChecks whose status shows every target Up at the end", "%d of %d", r.allUp, healthChecks)
	row("targets ever Down (false Downs)", "%d", r.falseDown)
	row("targets ever Slow", "%d", r.slowSeen)
	// To standard output: the testing package trims a benchmark's log to ten lines.
	fmt.Print(t.String())
}
