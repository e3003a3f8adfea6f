// Command throughput measures the kubectl plugin as a user times it, whole
// process: its start-up, a latency-bound list against the ideal, and how many
// checks a second it runs against a local server that answers at once, next
// to what wrk reaches on the same server with and without keep-alive (the
// machine's ceiling), and the plugin's peak RSS. It prints Markdown tables,
// and last the goals of issue 14 as figures and ratios. On a shared machine
// the ceiling moves with the load, so each run of the plugin alone follows a
// short wrk run with a connection per request (-paired-wrk), and the goal's
// ratio is taken run by run against it.
//
//	go run ./hack/bench/throughput -plugin bin/kubectl-healthcheck -kubectl bin/k8s/kubectl
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/hack/bench/delayserver"
)

type config struct {
	plugin, kubectl, wrk string
	// seed is the seed's Python checker, run by python; "" skips it.
	seed, python     string
	urls             []int
	workers, repeats int
	// startups is how many times start-up is measured.
	startups    int
	wrkDuration time.Duration
	// pairedWrk is how long the wrk run with a connection per request lasts
	// that precedes each run of the plugin alone; 0 runs none.
	pairedWrk time.Duration
}

func main() {
	var (
		cfg  config
		urls string
	)
	flag.StringVar(&cfg.plugin, "plugin", "bin/kubectl-healthcheck", "the kubectl-healthcheck binary")
	flag.StringVar(&cfg.kubectl, "kubectl", "bin/k8s/kubectl", "kubectl, which runs the plugin as `kubectl healthcheck`; empty skips those runs")
	flag.StringVar(&cfg.wrk, "wrk", "wrk", "the wrk load generator")
	flag.StringVar(&cfg.seed, "seed", "hack/bench/seed/url_health_checker.py", "the seed's Python checker; empty skips it")
	flag.StringVar(&cfg.python, "python", "python3", "the Python interpreter that runs -seed")
	flag.StringVar(&urls, "urls", "5000,10000,50000", "comma-separated URL list sizes")
	flag.IntVar(&cfg.workers, "workers", 50, "the plugin's --workers, and wrk's connections")
	flag.IntVar(&cfg.repeats, "repeats", 3, "runs of each plugin measurement; the median is reported")
	flag.IntVar(&cfg.startups, "startups", 21, "runs of each start-up measurement; the median is reported")
	flag.DurationVar(&cfg.wrkDuration, "wrk-duration", 10*time.Second, "how long each wrk run lasts")
	flag.DurationVar(&cfg.pairedWrk, "paired-wrk", 3*time.Second, "how long the `wrk -H 'Connection: close'` run before each plugin run lasts, for the goals' ratios on a shared machine; 0 for none")
	flag.Parse()
	for _, s := range strings.Split(urls, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "throughput: bad -urls entry %q\n", s)
			os.Exit(2)
		}
		cfg.urls = append(cfg.urls, n)
	}
	if _, err := exec.LookPath(cfg.python); cfg.seed != "" && err != nil {
		fmt.Fprintf(os.Stderr, "throughput: %s not found, so the seed is not measured\n", cfg.python)
		cfg.seed = ""
	}
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "throughput: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	srv, err := delayserver.Start(delayserver.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	dir, err := os.MkdirTemp("", "throughput-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	p := &printer{w: out}
	var g goals

	if err := startup(ctx, cfg, srv, dir, p, &g); err != nil {
		return err
	}
	if err := latencyBound(ctx, cfg, dir, p, &g); err != nil {
		return err
	}

	p.printf("\nThroughput. Server: %s, answering 200 at once, in the driver's process. Workers/connections: %d. GOMAXPROCS=%d.\n\n",
		srv.URL, cfg.workers, runtime.GOMAXPROCS(0))
	p.printf("| URLs | command | wall time | checks/s | until the first check | checks/s while checking | plugin CPU (cores) | server CPU (cores) | peak RSS (MiB) |\n")
	p.printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range cfg.urls {
		file := filepath.Join(dir, fmt.Sprintf("urls-%d.txt", n))
		if err := writeURLs(file, srv.URL, n); err != nil {
			return err
		}
		commands := [][]string{{cfg.plugin}}
		if cfg.kubectl != "" {
			commands = append(commands, []string{cfg.kubectl, "healthcheck"})
		}
		if cfg.seed != "" {
			r, err := runSeed(ctx, cfg, file, n)
			if err != nil {
				return err
			}
			p.printf("| %d | `%s %s FILE %d` (the seed, once) | %.2fs | %.0f | %.2fs | %.0f | %.2f | %.2f | %.1f |\n", n, cfg.python, cfg.seed, cfg.workers,
				r.wall.Seconds(), float64(n)/r.wall.Seconds(), (r.wall - r.own).Seconds(), float64(n)/r.own.Seconds(),
				r.cpu.Seconds()/r.wall.Seconds(), r.serverCPU.Seconds()/r.wall.Seconds(), float64(r.maxRSS)/(1<<20))
		}
		for _, command := range commands {
			var runs []pluginRun
			for range cfg.repeats {
				var paired wrkRun
				if len(command) == 1 && cfg.pairedWrk > 0 {
					if paired, err = runWrk(ctx, srv, cfg, true, cfg.pairedWrk); err != nil {
						return err
					}
					settle(srv)
				}
				r, err := runPlugin(ctx, srv, command, file, n, cfg)
				if err != nil {
					return err
				}
				r.pairedWrk = paired.rps
				runs = append(runs, r)
			}
			slices.SortFunc(runs, func(a, b pluginRun) int { return int(a.wall - b.wall) })
			r := runs[len(runs)/2]
			if len(command) == 1 {
				g.throughput = append(g.throughput, throughputGoalOf(n, runs))
			}
			shown := strings.Join(append(slices.Clone(command), "run", "--urls-file", "FILE", "--workers", strconv.Itoa(cfg.workers), "-o", "json"), " ")
			rss := fmt.Sprintf("%.1f", float64(r.maxRSS)/(1<<20))
			if len(command) > 1 {
				rss += " (includes kubectl's)"
			}
			p.printf("| %d | `%s` | %.2fs | %.0f | %.2fs | %.0f | %.2f | %.2f | %s |\n", n, shown, r.wall.Seconds(),
				float64(n)/r.wall.Seconds(), r.startup.Seconds(), float64(n)/r.checking.Seconds(),
				r.cpu.Seconds()/r.wall.Seconds(), r.serverCPU.Seconds()/r.wall.Seconds(), rss)
		}
	}

	if cfg.seed != "" {
		if err := seedLatency(ctx, cfg, dir, p); err != nil {
			return err
		}
	}

	p.printf("\nwrk on the same server, %d connections, 2 threads, %s:\n\n", cfg.workers, cfg.wrkDuration)
	p.printf("| command | requests/s | errors | wrk CPU (cores) | server CPU (cores) |\n")
	p.printf("|---|---:|---|---:|---:|\n")
	for _, closeConn := range []bool{false, true} {
		r, err := runWrk(ctx, srv, cfg, closeConn, cfg.wrkDuration)
		if err != nil {
			return err
		}
		p.printf("| `%s` | %.0f | %s | %.2f | %.2f |\n", r.command, r.rps, r.errors, r.cpu, r.serverCPU)
		if closeConn {
			g.wrkClose, g.wrkDuration = r.rps, cfg.wrkDuration
		}
	}
	g.print(p)
	return p.err
}

// printer writes the report and keeps the first write error, so the tables
// read as a list of rows.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// writeURLs writes n distinct URLs of base, one a line.
func writeURLs(file, base string, n int) error {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%s/target/%d\n", base, i)
	}
	return os.WriteFile(file, b.Bytes(), 0o600)
}

type pluginRun struct {
	wall, cpu, serverCPU time.Duration
	// startup is from starting the process to the first check (reading and
	// validating the list); checking is from the first check to the last.
	startup, checking time.Duration
	maxRSS            int64 // bytes
	// pairedWrk is the requests/s of the wrk run with a connection per
	// request just before this run, 0 for none.
	pairedWrk float64
}

// measured is what running one process cost: its wall time, its CPU, the
// server's CPU meanwhile (this process's), and its peak RSS.
type measured struct {
	start                time.Time
	wall, cpu, serverCPU time.Duration
	maxRSS               int64 // bytes
	stdout               []byte
}

// measure runs cmd to completion and measures it.
func measure(cmd *exec.Cmd) (measured, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	before := selfCPU()
	start := time.Now()
	err := cmd.Run()
	m := measured{start: start, wall: time.Since(start), serverCPU: selfCPU() - before, stdout: stdout.Bytes()}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", cmd, err, tail(stderr.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return m, fmt.Errorf("%s: no resource usage", cmd)
	}
	m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	m.maxRSS = ru.Maxrss << 10 // KiB on Linux
	return m, nil
}

// runPlugin runs one `run --urls-file` and checks that every URL was checked and Up.
func runPlugin(ctx context.Context, srv *delayserver.Server, command []string, file string, n int, cfg config) (pluginRun, error) {
	args := []string{"run", "--urls-file", file, "--workers", strconv.Itoa(cfg.workers), "-o", "json"}
	cmd, err := pluginCommand(ctx, cfg, command, args)
	if err != nil {
		return pluginRun{}, err
	}

	srv.ResetStats()
	m, err := measure(cmd)
	if err != nil {
		return pluginRun{}, err
	}
	if up := upCount(m.stdout); up != n {
		return pluginRun{}, fmt.Errorf("%s: %d of %d URLs were Up", cmd, up, n)
	}
	st := srv.Stats()
	if st.Requests != int64(n) {
		return pluginRun{}, fmt.Errorf("%s: the server saw %d requests for %d URLs", cmd, st.Requests, n)
	}
	return pluginRun{
		wall:      m.wall,
		startup:   st.First.Sub(m.start),
		checking:  st.Last.Sub(st.First),
		cpu:       m.cpu,
		serverCPU: m.serverCPU,
		maxRSS:    m.maxRSS,
	}, nil
}

// pluginCommand is command (the plugin, or kubectl and "healthcheck") with args.
func pluginCommand(ctx context.Context, cfg config, command, args []string) (*exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, command[0], append(slices.Clone(command[1:]), args...)...)
	// kubectl finds the plugin as kubectl-healthcheck on the PATH.
	pluginDir, err := filepath.Abs(filepath.Dir(cfg.plugin))
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return cmd, nil
}

// settle waits until the server has answered the last requests of a wrk run,
// some of which arrive after wrk exits (connections still in the listen
// queue), so that they are not counted as the plugin's.
func settle(srv *delayserver.Server) {
	for last := int64(-1); ; {
		n := srv.Stats().Requests
		if n == last {
			return
		}
		last = n
		time.Sleep(200 * time.Millisecond)
	}
}

// upCount reads the summary line of the plugin's JSON output.
func upCount(out []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	up := -1
	for sc.Scan() {
		var line struct {
			Summary *struct{ Up, Slow int } `json:"summary"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Summary != nil {
			up = line.Summary.Up + line.Summary.Slow
		}
	}
	return up
}

type wrkRun struct {
	command        string
	rps            float64
	errors         string
	cpu, serverCPU float64 // cores
}

var (
	rpsLine    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	errorLines = regexp.MustCompile(`(?m)^\s*(Socket errors:.*|Non-2xx or 3xx responses:.*)$`)
)

func runWrk(ctx context.Context, srv *delayserver.Server, cfg config, closeConn bool, d time.Duration) (wrkRun, error) {
	return runWrkWith(ctx, srv, cfg.wrk, 2, cfg.workers, closeConn, d)
}

// runWrkWith runs wrk on srv with threads threads and conns connections.
func runWrkWith(ctx context.Context, srv *delayserver.Server, wrk string, threads, conns int, closeConn bool, d time.Duration) (wrkRun, error) {
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(conns), "-d" + d.String()}
	if closeConn {
		args = append(args, "-H", "Connection: close")
	}
	args = append(args, srv.URL+"/")
	cmd := exec.CommandContext(ctx, wrk, args...)
	before := selfCPU()
	start := time.Now()
	output, err := cmd.CombinedOutput()
	wall := time.Since(start)
	serverCPU := selfCPU() - before
	shown := "wrk " + strings.Join(args[:len(args)-1], " ") + " URL"
	shown = strings.Replace(shown, "-H Connection: close", "-H 'Connection: close'", 1)
	if err != nil {
		return wrkRun{}, fmt.Errorf("%s: %w\n%s", shown, err, output)
	}
	m := rpsLine.FindSubmatch(output)
	if m == nil {
		return wrkRun{}, fmt.Errorf("%s: no Requests/sec in\n%s", shown, output)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	errs := "none"
	if found := errorLines.FindAll(output, -1); len(found) > 0 {
		errs = strings.TrimSpace(string(bytes.Join(found, []byte("; "))))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return wrkRun{command: shown, rps: rps, errors: errs, cpu: cpu.Seconds() / wall.Seconds(), serverCPU: serverCPU.Seconds() / wall.Seconds()}, nil
}

// selfCPU is this process's CPU time so far: the server's, since nothing else
// runs here while a measurement does.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// seedRun is one run of the seed's checker.
type seedRun struct {
	pluginRun
	// own is the seed's own timing of its checks, without Python's start.
	own time.Duration
}

// runSeed runs the seed's checker over file with cfg.workers threads and checks
// that every URL was checked and OK.
func runSeed(ctx context.Context, cfg config, file string, n int) (seedRun, error) {
	cmd := exec.CommandContext(ctx, cfg.python, cfg.seed, file, strconv.Itoa(cfg.workers))
	m, err := measure(cmd)
	if err != nil {
		return seedRun{}, err
	}
	lines := bytes.Split(bytes.TrimSpace(m.stdout), []byte("\n"))
	var last struct {
		Checked, OK int
		Seconds     float64
	}
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
		return seedRun{}, fmt.Errorf("%s: no summary line: %w", cmd, err)
	}
	if last.OK != n {
		return seedRun{}, fmt.Errorf("%s: %d of %d URLs were OK", cmd, last.OK, n)
	}
	return seedRun{
		pluginRun: pluginRun{wall: m.wall, cpu: m.cpu, serverCPU: m.serverCPU, maxRSS: m.maxRSS},
		own:       time.Duration(last.Seconds * float64(time.Second)),
	}, nil
}

// seedLatency runs the seed on the latency-bound work of BenchmarkRun: n URLs
// on a server that answers after latency, with workers threads, and prints its
// ideal/actual, the seed timing its own checks.
func seedLatency(ctx context.Context, cfg config, dir string, p *printer) error {
	p.printf("\nThe seed on the latency-bound work of BenchmarkRun (server in the driver's process, waiting on a kernel timer; the seed's own timing, without Python's start):\n\n")
	p.printf("| URLs | latency | workers | command | ideal | seed's round | ideal/actual |\n")
	p.printf("|---:|---:|---:|---|---:|---:|---:|\n")
	for _, w := range []struct {
		n, workers int
		latency    time.Duration
	}{{1000, 50, 20 * time.Millisecond}, {10000, 200, 50 * time.Millisecond}} {
		srv, err := delayserver.Start(delayserver.Options{Delay: w.latency, Sleep: delayserver.Precise})
		if err != nil {
			return err
		}
		file := filepath.Join(dir, fmt.Sprintf("latency-%d.txt", w.n))
		if err := writeURLs(file, srv.URL, w.n); err != nil {
			_ = srv.Close()
			return err
		}
		seedCfg := cfg
		seedCfg.workers = w.workers
		r, err := runSeed(ctx, seedCfg, file, w.n)
		_ = srv.Close()
		if err != nil {
			return err
		}
		ideal := time.Duration((w.n+w.workers-1)/w.workers) * w.latency
		p.printf("| %d | %s | %d | `%s %s FILE %d` | %s | %s | %.4f |\n", w.n, w.latency, w.workers, cfg.python, cfg.seed, w.workers,
			ideal, r.own.Round(time.Millisecond), float64(ideal)/float64(r.own))
	}
	return nil
}
