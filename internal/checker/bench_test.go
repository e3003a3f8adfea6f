package checker

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/hack/bench/delayserver"
)

// BenchmarkRun measures how close Run comes to perfect scheduling when checks are
// bound by the targets' latency: n targets on a local server that answers after
// latency, with the given workers. Perfect scheduling takes ceil(n/workers)*latency
// a round; "ideal/actual" is that over the median measured round (1.0 is perfect,
// lower is overhead). It prints figures and never fails on speed:
//
//	make bench
//	go test -run='^$' -bench=BenchmarkRun -benchtime=5x ./internal/checker/
//
// The variants take the overhead apart:
//
//   - server=process: the server runs in a child process, so its goroutines never
//     queue behind the checker's; server=inprocess shares the checker's runtime.
//   - sleep=precise: the server waits on a kernel timer, so its answers are late
//     only by a goroutine wake-up; sleep=timer waits on a time.Timer, which in an
//     idle Go process fires up to a millisecond late (the runtime's epoll_wait
//     timeout is in whole milliseconds). "server-late-µs" is what the server
//     itself added to each check.
//   - conn=fresh: the production transports, one new connection per check;
//     conn=keepalive injects a transport that reuses connections, to show what
//     connection setup costs.
func BenchmarkRun(b *testing.B) {
	cases := []struct {
		n, workers int
		latency    time.Duration
	}{
		{n: 1000, workers: 50, latency: 20 * time.Millisecond},
		{n: 10000, workers: 200, latency: 50 * time.Millisecond},
	}
	variants := []struct {
		inProcess bool
		sleep     delayserver.Sleep
		keepAlive bool
	}{
		{sleep: delayserver.Precise},
		{sleep: delayserver.GoTimer},
		{sleep: delayserver.Precise, inProcess: true},
		{sleep: delayserver.Precise, keepAlive: true},
	}
	for _, tc := range cases {
		for _, v := range variants {
			server, conn := "process", "fresh"
			if v.inProcess {
				server = "inprocess"
			}
			if v.keepAlive {
				conn = "keepalive"
			}
			name := fmt.Sprintf("n=%d/latency=%s/workers=%d/server=%s/sleep=%s/conn=%s", tc.n, tc.latency, tc.workers, server, v.sleep, conn)
			b.Run(name, func(b *testing.B) {
				srv := startDelayServer(b, delayserver.Options{Delay: tc.latency, Sleep: v.sleep}, v.inProcess)
				opts := Options{}
				if v.keepAlive {
					tr := &http.Transport{MaxIdleConnsPerHost: tc.workers}
					b.Cleanup(tr.CloseIdleConnections)
					opts.Transport = tr
				}
				benchmarkRounds(b, New(opts), srv, tc.n, tc.workers, tc.latency)
			})
		}
	}
}

// benchmarkRounds times rounds of n targets on srv and reports the figures.
func benchmarkRounds(b *testing.B, c *Checker, srv benchServer, n, workers int, latency time.Duration) {
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/%d", srv.url, i)}
	}
	round := func() {
		results := c.Run(b.Context(), targets, workers, nil)
		if ok := countOK(results); ok != n {
			b.Fatalf("%d of %d checks were good", ok, n)
		}
	}
	round() // warm-up: goroutine stacks, the server's accept path
	srv.reset(b)
	var rounds []time.Duration
	cpu := processCPU(b)
	for b.Loop() {
		start := time.Now()
		round()
		rounds = append(rounds, time.Since(start))
	}
	// The median, not the mean: this machine is shared, and one round slowed by
	// something else should not move the figure.
	cpu = processCPU(b) - cpu
	slices.Sort(rounds)
	median := rounds[len(rounds)/2]
	ideal := time.Duration((n+workers-1)/workers) * latency
	b.ReportMetric(float64(ideal)/float64(median), "ideal/actual")
	b.ReportMetric(float64(median)/float64(time.Millisecond), "ms/round")
	b.ReportMetric(float64(n)/median.Seconds(), "checks/s")
	// What this process spent per check, user and system: the checker's own
	// cost when the server runs in a child process.
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(n*len(rounds)), "cpu-µs/check")
	b.ReportMetric(float64(srv.stats(b).MeanOvershoot)/float64(time.Microsecond), "server-late-µs")
	b.ReportMetric(0, "ns/op") // a round is not a comparable op: see ms/round
}

// benchServer is a delayserver in this process or a child one.
type benchServer struct {
	url   string
	stats func(testing.TB) delayserver.Stats
	reset func(testing.TB)
}

// startDelayServer starts a delay server that is closed at cleanup, in this
// process or, unless inProcess, in a child running TestDelayServerProcess.
func startDelayServer(b *testing.B, opts delayserver.Options, inProcess bool) benchServer {
	b.Helper()
	if inProcess {
		srv, err := delayserver.Start(opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = srv.Close() })
		return benchServer{
			url:   srv.URL,
			stats: func(testing.TB) delayserver.Stats { return srv.Stats() },
			reset: func(testing.TB) { srv.ResetStats() },
		}
	}
	// Not b.Context(): it ends before cleanups run, and Close should stop the
	// child rather than a cancelled context kill it.
	ctx := context.Background()
	proc, err := delayserver.StartProcess(ctx, opts, "-test.run=^TestDelayServerProcess$")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := proc.Close(); err != nil {
			b.Errorf("stopping the server process: %v", err)
		}
	})
	return benchServer{
		url: proc.URL,
		stats: func(t testing.TB) delayserver.Stats {
			st, err := proc.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		reset: func(t testing.TB) {
			if err := proc.ResetStats(ctx); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestDelayServerProcess is not a test: it is the child process of
// startDelayServer, and skips unless started as one.
func TestDelayServerProcess(t *testing.T) {
	if !delayserver.IsProcess() {
		t.Skip("the server process of BenchmarkRun")
	}
	if err := delayserver.ServeProcess(); err != nil {
		t.Fatal(err)
	}
}
