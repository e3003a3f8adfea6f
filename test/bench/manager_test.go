package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

// manager is the operator's manager running as a process of its own, with its
// production flags, except that metrics are served over plain HTTP on loopback
// for the benchmark to read.
type manager struct {
	cmd        *exec.Cmd
	metricsURL string
	logPath    string
	done       chan error
}

func startManager(b *testing.B, env *testenv.Env, bin string, shardArgs []string) *manager {
	b.Helper()
	dir := b.TempDir()
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	must(b, env.WriteKubeconfig(kubeconfigPath, "bench-manager"))
	ports, err := testenv.FreeLoopbackPorts(1)
	must(b, err)
	port := ports[0]

	m := &manager{
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port),
		logPath:    filepath.Join(dir, "manager.log"),
		done:       make(chan error, 1),
	}
	logFile, err := os.Create(m.logPath)
	must(b, err)
	args := []string{
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port),
		"--metrics-secure=false",
		"--health-probe-bind-address=0",
	}
	args = append(args, shardArgs...)
	m.cmd = exec.Command(bin, append(args, strings.Fields(*managerArgs)...)...)
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath)
	m.cmd.Stdout, m.cmd.Stderr = logFile, logFile
	must(b, m.cmd.Start())
	go func() {
		m.done <- m.cmd.Wait()
		_ = logFile.Close()
	}()
	b.Cleanup(m.stop)

	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := m.scrape(b.Context()); err == nil {
			return m
		}
		if err := m.alive(); err != nil || time.Now().After(deadline) {
			b.Fatalf("the manager did not serve metrics (%v)\nmanager log:\n%s", err, m.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// managers are the manager processes of one run, one per shard.
type managers []*manager

func (ms managers) status(b *testing.B) []procStatus {
	b.Helper()
	out := make([]procStatus, len(ms))
	for i, m := range ms {
		out[i] = m.status(b)
	}
	return out
}

// scrape reads every manager's metrics as one scrape: counters and histogram
// buckets add up across shards.
func (ms managers) scrape(ctx context.Context) (metrics, error) {
	var all metrics
	for _, m := range ms {
		got, err := m.scrape(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	return all, nil
}

func (ms managers) alive() error {
	for i, m := range ms {
		if err := m.alive(); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	return nil
}

func (ms managers) logTail() string {
	var out strings.Builder
	for i, m := range ms {
		fmt.Fprintf(&out, "--- shard %d\n%s\n", i, m.logTail())
	}
	return out.String()
}

// stop sends SIGTERM, as the kubelet would, and waits for the manager to exit.
func (m *manager) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// alive returns an error if the manager has exited.
func (m *manager) alive() error {
	select {
	case err := <-m.done:
		m.done <- err
		return fmt.Errorf("the manager exited: %v", err)
	default:
		return nil
	}
}

func (m *manager) logTail() string {
	data, _ := os.ReadFile(m.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// scrape reads the manager's metrics endpoint.
func (m *manager) scrape(ctx context.Context) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", m.metricsURL, resp.Status)
	}
	return parseMetrics(body), nil
}

// procStatus is what /proc says about one process.
type procStatus struct {
	cpu          time.Duration // user + system, all threads
	rss, peakRSS int64         // bytes: VmRSS and VmHWM
}

func (m *manager) status(b *testing.B) procStatus {
	b.Helper()
	st, err := readProc(m.cmd.Process.Pid)
	must(b, err)
	return st
}

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on Linux.
const userHZ = 100

func readProc(pid int) (procStatus, error) {
	var st procStatus
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name, in parentheses, may hold spaces: fields start after it.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return st, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14 of proc(5)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return st, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	st.cpu = time.Duration(utime+stime) * time.Second / userHZ

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range strings.Lines(string(status)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return st, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			st.rss = kb << 10
		} else {
			st.peakRSS = kb << 10
		}
	}
	return st, nil
}

// findProcess returns the pid of the process whose executable is named name and
// one of whose arguments contains arg, or 0.
func findProcess(name, arg string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) != name {
			continue
		}
		for _, a := range args[1:] {
			if strings.Contains(a, arg) {
				return pid
			}
		}
	}
	return 0
}
