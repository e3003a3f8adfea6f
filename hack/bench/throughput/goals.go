package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/hack/bench/delayserver"
)

// The one-shot goals of issue 14, whole process.
const (
	// maxStartup bounds the start-up: from starting the process to its first
	// check, for a list of one URL.
	maxStartup = 50 * time.Millisecond
	// minLatencyRatio is the least ideal/actual of the latency-bound list.
	minLatencyRatio = 0.85
	// minThroughputRatio is the least checks/s of an instant list over wrk's
	// requests/s with a connection per request.
	minThroughputRatio = 0.6
)

// The latency-bound list: latencyURLs URLs answered after latencyDelay, with
// latencyWorkers workers.
const (
	latencyURLs    = 1000
	latencyWorkers = 50
	latencyDelay   = 20 * time.Millisecond
	// latencyInARow is how many checks each worker makes one after another.
	latencyInARow = (latencyURLs + latencyWorkers - 1) / latencyWorkers
	// latencyIdeal is the list's ideal time: each worker's checks in a row,
	// each as long as the server's delay.
	latencyIdeal = latencyInARow * latencyDelay
)

// spread is a measurement's median and range over its runs.
type spread struct{ low, median, high time.Duration }

func spreadOf(d []time.Duration) spread {
	d = slices.Clone(d)
	slices.Sort(d)
	return spread{low: d[0], median: d[len(d)/2], high: d[len(d)-1]}
}

func (s spread) String() string {
	return fmt.Sprintf("%s (%s–%s)", ms(s.median), ms(s.low), ms(s.high))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// goals collects what the goals are judged on, for the summary.
type goals struct {
	startup spread
	// latency is the latency-bound list's wall time, process start to exit.
	latency spread
	// latencyFloor is the least the latency-bound list can take on this
	// machine, process start to exit: the start-up's median, then each
	// worker's checks one after another, each as long as one request with a
	// fresh connection takes wrk on the same server.
	latencyFloor time.Duration
	throughput   []throughputGoal
	wrkClose     float64 // requests/s
	// wrkDuration is how long the wrk run of wrkClose lasted.
	wrkDuration time.Duration
}

type throughputGoal struct {
	urls int
	// median, low and high are checks/s, whole process.
	median, low, high float64
	// ratios are each run's checks/s over the requests/s of the wrk run
	// just before it, sorted; none without paired wrk runs.
	ratios []float64
}

func throughputGoalOf(n int, runs []pluginRun) throughputGoal {
	rates := make([]float64, 0, len(runs))
	var ratios []float64
	for _, r := range runs {
		rate := float64(n) / r.wall.Seconds()
		rates = append(rates, rate)
		if r.pairedWrk > 0 {
			ratios = append(ratios, rate/r.pairedWrk)
		}
	}
	slices.Sort(rates)
	slices.Sort(ratios)
	return throughputGoal{urls: n, median: rates[len(rates)/2], low: rates[0], high: rates[len(rates)-1], ratios: ratios}
}

// startup times, cfg.startups times each, a program that does nothing (the
// machine's floor for starting a process), `kubectl-healthcheck --help` to its
// exit, and `run` of a list of one URL to its first check and to its exit.
// The goal is judged on the time to the first check: it holds all a user
// waits for before anything is checked (the Go runtime, every package's
// initialisation, reading flags and the list, admitting the URL).
func startup(ctx context.Context, cfg config, srv *delayserver.Server, dir string, p *printer, g *goals) error {
	file := filepath.Join(dir, "one-url.txt")
	if err := writeURLs(file, srv.URL, 1); err != nil {
		return err
	}
	nothing, err := exec.LookPath("true")
	if err != nil {
		return err
	}
	var floor, help, first, exit []time.Duration
	for range cfg.startups {
		m, err := measure(exec.CommandContext(ctx, nothing))
		if err != nil {
			return err
		}
		floor = append(floor, m.wall)
		cmd, err := pluginCommand(ctx, cfg, []string{cfg.plugin}, []string{"--help"})
		if err != nil {
			return err
		}
		if m, err = measure(cmd); err != nil {
			return err
		}
		help = append(help, m.wall)
		if cmd, err = pluginCommand(ctx, cfg, []string{cfg.plugin}, []string{"run", "--urls-file", file, "-o", "json"}); err != nil {
			return err
		}
		srv.ResetStats()
		if m, err = measure(cmd); err != nil {
			return err
		}
		st := srv.Stats()
		if st.Requests != 1 || upCount(m.stdout) != 1 {
			return fmt.Errorf("%s: %d requests, %d Up, for 1 URL", cmd, st.Requests, upCount(m.stdout))
		}
		first = append(first, st.First.Sub(m.start))
		exit = append(exit, m.wall)
	}
	g.startup = spreadOf(first)
	p.printf("Start-up, whole process: median (range) of %d runs.\n\n", cfg.startups)
	p.printf("| command | until | time |\n|---|---|---:|\n")
	p.printf("| `%s` (does nothing: the machine's floor) | exit | %s |\n", nothing, spreadOf(floor))
	p.printf("| `%s --help` | exit | %s |\n", cfg.plugin, spreadOf(help))
	p.printf("| `%s run --urls-file FILE -o json`, 1 URL | **the first check** | **%s** |\n", cfg.plugin, g.startup)
	p.printf("| `%s run --urls-file FILE -o json`, 1 URL | exit | %s |\n", cfg.plugin, spreadOf(exit))
	return p.err
}

// latencyBound runs the plugin on latencyURLs URLs that a server answers
// after latencyDelay, with latencyWorkers workers, and prints ideal/actual
// from process start to exit, and for the round alone (the first request to
// the last answer).
func latencyBound(ctx context.Context, cfg config, dir string, p *printer, g *goals) error {
	srv, err := delayserver.Start(delayserver.Options{Delay: latencyDelay, Sleep: delayserver.Precise})
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	file := filepath.Join(dir, "latency-plugin.txt")
	if err := writeURLs(file, srv.URL, latencyURLs); err != nil {
		return err
	}
	runs := max(cfg.repeats, 5)
	var wall, first, round []time.Duration
	for range runs {
		cmd, err := pluginCommand(ctx, cfg, []string{cfg.plugin}, []string{"run", "--urls-file", file, "--workers", strconv.Itoa(latencyWorkers), "-o", "json"})
		if err != nil {
			return err
		}
		srv.ResetStats()
		m, err := measure(cmd)
		if err != nil {
			return err
		}
		st := srv.Stats()
		if up := upCount(m.stdout); st.Requests != latencyURLs || up != latencyURLs {
			return fmt.Errorf("%s: %d requests, %d Up, for %d URLs", cmd, st.Requests, up, latencyURLs)
		}
		wall = append(wall, m.wall)
		first = append(first, st.First.Sub(m.start))
		round = append(round, st.Last.Sub(st.First)+latencyDelay)
	}
	ideal := latencyIdeal
	g.latency = spreadOf(wall)
	// One connection, one request after another, each on a fresh connection
	// as every check is: the time a request takes here, client and server
	// and the machine between them, when nothing else runs.
	one, err := runWrkWith(ctx, srv, cfg.wrk, 1, 1, true, 3*time.Second)
	if err != nil {
		return err
	}
	if one.rps <= 0 {
		return fmt.Errorf("%s: no requests", one.command)
	}
	perRequest := time.Duration(float64(time.Second) / one.rps)
	inARow := latencyInARow * perRequest
	g.latencyFloor = g.startup.median + inARow
	ratio := func(s spread) string {
		return fmt.Sprintf("%.3f (%.3f–%.3f)", float64(ideal)/float64(s.median), float64(ideal)/float64(s.high), float64(ideal)/float64(s.low))
	}
	p.printf("\nLatency-bound, whole process: %d URLs answered after %s (server in the driver's process, kernel timer), %d workers, ideal %s; median (range) of %d runs.\n\n",
		latencyURLs, latencyDelay, latencyWorkers, ms(ideal), runs)
	p.printf("| command | process start to exit | **ideal/actual** | until the first check | the round (first request to last answer) | ideal/round |\n")
	p.printf("|---|---:|---:|---:|---:|---:|\n")
	p.printf("| `%s run --urls-file FILE --workers %d -o json` | %s | **%s** | %s | %s | %s |\n", cfg.plugin, latencyWorkers,
		g.latency, ratio(g.latency), spreadOf(first), spreadOf(round), ratio(spreadOf(round)))
	p.printf("\nThe machine's floor for it: `%s` on the same server gives %.1f requests/s, %s a request with a fresh connection each (the delay is %s). "+
		"A worker's %d checks in a row take at least %d × that, %s (ideal/that: %.3f); after the start-up's median (%s), the whole process at least %s: ideal/floor %.3f.\n",
		one.command, one.rps, ms(perRequest), latencyDelay, latencyInARow, latencyInARow, ms(inARow),
		float64(ideal)/float64(inARow), ms(g.startup.median), ms(g.latencyFloor), float64(ideal)/float64(g.latencyFloor))
	return p.err
}

// print writes the goals as figures and ratios.
func (g *goals) print(p *printer) {
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	p.printf("\nThe one-shot goals of issue 14, whole process (medians; ranges over the runs):\n\n")
	p.printf("| goal | measured | ratio | |\n|---|---:|---:|---|\n")
	p.printf("| start-up: process start to the first check of 1 URL, under %s | %s | %.2f of the bound | %s |\n",
		ms(maxStartup), g.startup, float64(g.startup.median)/float64(maxStartup), met(g.startup.median < maxStartup))
	ideal := latencyIdeal
	lr := float64(ideal) / float64(g.latency.median)
	p.printf("| %d URLs × %s, %d workers: ideal (%s) / process start to exit ≥ %.2f | %s | %.3f (%.3f–%.3f) | %s |\n",
		latencyURLs, latencyDelay, latencyWorkers, ms(ideal), minLatencyRatio, g.latency, lr,
		float64(ideal)/float64(g.latency.high), float64(ideal)/float64(g.latency.low), met(lr >= minLatencyRatio))
	if g.latencyFloor > 0 {
		p.printf("| … the machine's floor for it (start-up, then %d requests in a row at wrk's time for one, above) | %s | %.3f | the most this machine allows |\n",
			latencyInARow, ms(g.latencyFloor), float64(ideal)/float64(g.latencyFloor))
	}
	for _, t := range g.throughput {
		if len(t.ratios) > 0 {
			r := t.ratios[len(t.ratios)/2]
			p.printf("| %d instant URLs: checks/s ÷ wrk `Connection: close` run just before each run ≥ %.1f | %.0f/s (%.0f–%.0f) | %.3f (%.3f–%.3f) | %s |\n",
				t.urls, minThroughputRatio, t.median, t.low, t.high, r, t.ratios[0], t.ratios[len(t.ratios)-1], met(r >= minThroughputRatio))
		}
		if g.wrkClose > 0 {
			r := t.median / g.wrkClose
			p.printf("| %d instant URLs: checks/s ÷ the %s wrk `Connection: close` run above (%.0f/s) ≥ %.1f | %.0f/s (%.0f–%.0f) | %.3f (%.3f–%.3f) | %s |\n",
				t.urls, g.wrkDuration, g.wrkClose, minThroughputRatio, t.median, t.low, t.high, r, t.low/g.wrkClose, t.high/g.wrkClose, met(r >= minThroughputRatio))
		}
	}
}
