// Package bench measures the operator at scale: the real manager binary, as its
// own process, on an envtest API server, with thousands of targets on local
// servers. It holds only benchmarks, so `make test` compiles it but never runs
// it; `make bench` does.
package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/hack/bench/delayserver"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

var (
	healthChecks = flag.Int("scale.healthchecks", 1000, "HealthChecks to create")
	targetsEach  = flag.Int("scale.targets", 10, "targets of each HealthCheck, one per local server")
	interval     = flag.Duration("scale.interval", 10*time.Second, "spec.interval of every HealthCheck")
	window       = flag.Duration("scale.window", 60*time.Second, "how long the steady state is measured, after warm-up")
	settleFor    = flag.Duration("scale.settle", 70*time.Second, "how long after every HealthCheck is Up the window starts, at least 1.5 intervals")
	managerBin   = flag.String("scale.manager", "", "the manager binary, an absolute path; empty builds ./cmd/manager")
	managerArgs  = flag.String("scale.manager-args", "", "space-separated flags added to the manager's, such as --max-concurrent-reconciles=16")
	scrapeEvery  = flag.Duration("scale.scrape-interval", 15*time.Second, "how often the managers' metrics are scraped, as Prometheus would; 0 only for the figures")
	upTimeout    = flag.Duration("scale.up-timeout", 0, "how long every HealthCheck may take to show all its targets Up in status; 0 is 60ms a HealthCheck, at least 5m")
	statusMayLag = flag.Bool("scale.status-may-lag", false, "measure even when status has not caught up by -scale.up-timeout: rounds run apart from status writes, and the report says how far status is behind")
	shards       = flag.Int("scale.shards", 1, "manager processes, each with --total-shards and its own --shard-index")
	apiProfile   = flag.String("scale.apiserver-profile", "", "a file for a CPU profile of kube-apiserver over the window (at most 60s of it), read with go tool pprof bin/k8s/kube-apiserver FILE")
)

// BenchmarkOperatorScale runs the manager, with its production flags, against
// healthchecks HealthChecks of targets targets each, all answering at once, and
// measures a steady window after every HealthCheck is Up and on its schedule:
// the schedule lag (from the manager's healthcheck_schedule_lag_seconds), rounds
// and checks a second, status writes a second (counted on a watch), the manager's
// CPU and peak RSS, and false Down states (any Down is false: every target is a
// healthy local server). It runs once whatever -benchtime says.
//
//	make bench
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s go test -run='^$' -bench=BenchmarkOperatorScale -benchtime=1x -timeout=20m ./test/bench/
func BenchmarkOperatorScale(b *testing.B) {
	ctx := b.Context()
	env := startEnv(b)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 1000, 2000 // the benchmark's own client must not be what limits it
	k8s, err := client.NewWithWatch(cfg, client.Options{Scheme: env.Scheme})
	must(b, err)

	servers := startTargetServers(b, *targetsEach)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}
	must(b, k8s.Create(ctx, ns))

	bin := managerBinary(b)
	var mgrs managers
	for i := range *shards {
		var args []string
		if *shards > 1 {
			args = []string{fmt.Sprintf("--total-shards=%d", *shards), fmt.Sprintf("--shard-index=%d", i)}
		}
		mgrs = append(mgrs, startManager(b, env, bin, args))
	}
	idle := mgrs.status(b)
	if *scrapeEvery > 0 {
		go scrapeAsPrometheusWould(ctx, mgrs, *scrapeEvery)
	}

	watch := startWatch(b, k8s, ns.Name)
	created := time.Now()
	createHealthChecks(b, k8s, ns.Name, servers, *healthChecks, *interval)
	b.Logf("Created %d HealthChecks of %d targets in %s", *healthChecks, *targetsEach, time.Since(created).Round(time.Millisecond))

	// Warm-up: every HealthCheck Up, then long enough for every one to be on its
	// phase grid (the round after the first is due within 1.5 intervals) and past
	// its first status heartbeat (within the manager's refresh interval, 1m by
	// default, of the writes of its first rounds), so the window sees the steady
	// state, not the HealthChecks' arrival.
	waitUp := *upTimeout
	if waitUp == 0 {
		waitUp = max(5*time.Minute, time.Duration(*healthChecks)*60*time.Millisecond)
	}
	if err := watch.waitAllUp(ctx, *healthChecks, *targetsEach, waitUp); err != nil {
		if !*statusMayLag {
			b.Fatalf("%v\nmanager log:\n%s", err, mgrs.logTail())
		}
		b.Logf("%v; measuring anyway (-scale.status-may-lag)", err)
	} else {
		b.Logf("All %d HealthChecks Up %s after creation", *healthChecks, time.Since(created).Round(time.Millisecond))
	}
	settle := max(*interval*3/2, *settleFor)
	sleep(ctx, settle)

	before := takeSnapshot(b, mgrs, watch, env)
	b.ResetTimer()
	profiled := profileAPIServer(b, cfg, *apiProfile, min(*window, time.Minute))
	sleep(ctx, *window)
	b.StopTimer()
	<-profiled
	after := takeSnapshot(b, mgrs, watch, env)
	if err := mgrs.alive(); err != nil {
		b.Fatalf("%v\nmanager log:\n%s", err, mgrs.logTail())
	}

	r := compare(before, after)
	r.idle = idle
	r.falseDown, r.slowSeen = watch.falseStates()
	r.peakUpdates = watch.peakUpdates(before.at, after.at)
	r.allUp = watch.allUp(*targetsEach)
	r.report(b, *healthChecks, *targetsEach, *interval)
}

// startEnv starts an API server for b, stopped when b ends.
func startEnv(b *testing.B) *testenv.Env {
	b.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		b.Fatal("KUBEBUILDER_ASSETS is not set: run `make bench`, which builds the control plane into bin/k8s")
	}
	env, err := testenv.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = env.Stop() })
	return env
}

// profileAPIServer writes a CPU profile of the API server over seconds to
// file, from its /debug/pprof endpoint, in the background; the channel closes
// when it is written. Nothing is profiled when file is empty.
func profileAPIServer(b *testing.B, cfg *rest.Config, file string, seconds time.Duration) <-chan struct{} {
	done := make(chan struct{})
	if file == "" {
		close(done)
		return done
	}
	clients, err := kubernetes.NewForConfig(cfg)
	must(b, err)
	go func() {
		defer close(done)
		data, err := clients.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
			Param("seconds", strconv.Itoa(int(seconds.Seconds()))).Timeout(seconds + time.Minute).DoRaw(b.Context())
		if err == nil {
			err = os.WriteFile(file, data, 0o644)
		}
		if err != nil {
			b.Errorf("profiling the API server: %v", err)
		}
	}()
	return done
}

// createHealthChecks creates n HealthChecks whose target j is servers[j], with
// a path of its own.
func createHealthChecks(b *testing.B, k8s client.Client, ns string, servers []*delayserver.Server, n int, every time.Duration) {
	b.Helper()
	names := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range 16 {
		wg.Go(func() {
			for i := range names {
				hc := &monitoringv1alpha1.HealthCheck{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("hc-%04d", i)},
					Spec:       monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: every}},
				}
				for j, srv := range servers {
					hc.Spec.Targets = append(hc.Spec.Targets, monitoringv1alpha1.Target{
						Name: fmt.Sprintf("t%d", j),
						URL:  fmt.Sprintf("%s/hc-%04d/t%d", srv.URL, i, j),
					})
				}
				if err := k8s.Create(b.Context(), hc); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("creating %s: %w", hc.Name, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		names <- i
	}
	close(names)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// startTargetServers starts n local servers that answer 200 at once.
func startTargetServers(b *testing.B, n int) []*delayserver.Server {
	b.Helper()
	servers := make([]*delayserver.Server, n)
	for i := range servers {
		srv, err := delayserver.Start(delayserver.Options{})
		must(b, err)
		b.Cleanup(func() { _ = srv.Close() })
		servers[i] = srv
	}
	return servers
}

// managerBinary returns -scale.manager, or builds ./cmd/manager.
func managerBinary(b *testing.B) string {
	b.Helper()
	if *managerBin != "" {
		return *managerBin
	}
	out := filepath.Join(b.TempDir(), "manager")
	cmd := exec.CommandContext(b.Context(), "go", "build", "-o", out, "github.com/healthcheck-operator/healthcheck-operator/cmd/manager")
	if output, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the manager: %v\n%s", err, output)
	}
	return out
}

// scrapeAsPrometheusWould scrapes the managers every interval until ctx ends,
// so that what serving metrics costs them is in the figures.
func scrapeAsPrometheusWould(ctx context.Context, mgrs managers, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			_, _ = mgrs.scrape(ctx)
		case <-ctx.Done():
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
