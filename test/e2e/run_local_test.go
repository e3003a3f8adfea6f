// Package e2e_test runs what `make run` runs, as a user would: the real program in
// a child process, with real etcd and kube-apiserver processes and real ports.
package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/devenv"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

const (
	// startTimeout covers starting the control plane, the operator and a first round.
	startTimeout = 2 * time.Minute
	stopTimeout  = time.Minute
	poll         = 500 * time.Millisecond
)

// TestMakeRunEmbedded runs the embedded mode twice in one state directory: the
// demo HealthCheck must show Up, Slow and Down targets, and each stop (SIGINT,
// then SIGTERM) must leave no process and no listening port behind. The second
// run reuses the first one's ports and finds a stale etcd data directory.
func TestMakeRunEmbedded(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds the control plane into bin/k8s")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildRunLocal(t, root)
	stateDir := filepath.Join(t.TempDir(), "run")
	ports, err := testenv.FreeLoopbackPorts(4)
	if err != nil {
		t.Fatal(err)
	}
	want := devenv.State{
		APIServer: loopback(ports[0]),
		Etcd:      loopback(ports[1]),
		EtcdPeer:  loopback(ports[2]),
		Demo:      loopback(ports[3]),
	}
	args := []string{
		"--state-dir=" + stateDir,
		"--assets=" + assets,
		"--api-server-port=" + strconv.Itoa(ports[0]),
		"--etcd-port=" + strconv.Itoa(ports[1]),
		"--etcd-peer-port=" + strconv.Itoa(ports[2]),
		"--demo-addr=" + want.Demo,
	}

	first := startRunLocal(t, root, bin, args)
	first.expectDemoWorking(t, stateDir, want)
	first.expectCleanStop(t, syscall.SIGINT, stateDir)

	makeStaleEtcdData(t, stateDir)
	second := startRunLocal(t, root, bin, args)
	second.expectDemoWorking(t, stateDir, want)
	second.expectCleanStop(t, syscall.SIGTERM, stateDir)
}

// runLocal is one run of the program, its output collected.
type runLocal struct {
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
	err    error // set when exited is closed
	// children are the processes the state file names, ended by the cleanup
	// should a failed test leave them behind.
	children []devenv.Process
}

// buildRunLocal builds the program `make run` runs into a temporary directory.
func buildRunLocal(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "run-local")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/run-local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/run-local: %v\n%s", err, out)
	}
	return bin
}

// startRunLocal starts the program from the repository root, as `make run` does,
// with a kubeconfig that does not exist, so that it chooses the embedded mode.
func startRunLocal(t *testing.T, root, bin string, args []string) *runLocal {
	t.Helper()
	r := &runLocal{output: &syncBuffer{}, exited: make(chan struct{})}
	r.cmd = exec.CommandContext(t.Context(), bin, args...)
	// Should the test end first, stop the run as a user would: SIGKILL would
	// orphan etcd and kube-apiserver. Wait sends SIGKILL after WaitDelay.
	r.cmd.Cancel = func() error { return r.cmd.Process.Signal(syscall.SIGTERM) }
	r.cmd.WaitDelay = stopTimeout
	r.cmd.Dir = root
	r.cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "no-such-kubeconfig"))
	r.cmd.Stdout = r.output
	r.cmd.Stderr = r.output
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting run-local: %v", err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("output of run-local (pid %d):\n%s", r.cmd.Process.Pid, r.output.String())
		}
		r.stopIfRunning(t)
	})
	return r
}

// expectDemoWorking waits until the demo HealthCheck, read through the written
// kubeconfig, counts Up, Slow and Down targets, then checks the state file, the
// child processes and the line the user is told to type.
func (r *runLocal) expectDemoWorking(t *testing.T, stateDir string, want devenv.State) {
	t.Helper()
	g := NewWithT(t)
	kubeconfig := filepath.Join(stateDir, devenv.KubeconfigFile)
	g.Eventually(func(g Gomega) {
		select {
		case <-r.exited:
			StopTrying("run-local exited early").Now()
		default:
		}
		summary := demoSummary(g, kubeconfig)
		g.Expect(summary.Up).To(BeNumerically(">", 0), "Up")
		g.Expect(summary.Slow).To(BeNumerically(">", 0), "Slow")
		g.Expect(summary.Down).To(BeNumerically(">", 0), "Down")
	}).WithTimeout(startTimeout).WithPolling(poll).Should(Succeed())

	state, err := devenv.ReadState(stateDir)
	g.Expect(err).NotTo(HaveOccurred())
	r.children = state.Processes
	g.Expect(state.PID).To(Equal(r.cmd.Process.Pid))
	g.Expect(state.Listeners()).To(Equal(want.Listeners()))
	g.Expect(state.Processes).To(ConsistOf(
		HaveField("Exe", HaveSuffix("/etcd")),
		HaveField("Exe", HaveSuffix("/kube-apiserver")),
	))
	g.Expect(childPIDs(t, r.cmd.Process.Pid)).To(ConsistOf(pidsOf(state.Processes)),
		"the state file names every child process")
	g.Expect(r.output.String()).To(ContainSubstring("export KUBECONFIG=" + kubeconfig + "\n"))
	g.Eventually(r.output.String).WithTimeout(startTimeout).WithPolling(poll).
		Should(MatchRegexp(`First round of HealthCheck demo: [1-9]\d* Up, [1-9]\d* Slow, [1-9]\d* Down of 8 targets\.`))
}

// expectCleanStop sends sig, waits for a clean exit, then checks that the child
// processes are gone, nothing listens on the ports used, and the kubeconfig of
// the stopped API server is gone.
func (r *runLocal) expectCleanStop(t *testing.T, sig syscall.Signal, stateDir string) {
	t.Helper()
	g := NewWithT(t)
	state, err := devenv.ReadState(stateDir)
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(r.cmd.Process.Signal(sig)).To(Succeed())
	g.Eventually(r.exited).WithTimeout(stopTimeout).Should(BeClosed(), "run-local did not exit after %s", sig)
	g.Expect(r.err).NotTo(HaveOccurred(), "run-local's exit after %s", sig)

	for _, p := range state.Processes {
		g.Expect(processRuns(p)).To(BeFalse(), "%s (pid %d) still runs", p.Exe, p.PID)
	}
	for _, addr := range state.Listeners() {
		dialer := net.Dialer{Timeout: time.Second}
		conn, err := dialer.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
		}
		g.Expect(err).To(HaveOccurred(), "something still listens on %s", addr)
	}
	g.Expect(filepath.Join(stateDir, devenv.KubeconfigFile)).NotTo(BeAnExistingFile())
	g.Expect(filepath.Join(stateDir, devenv.StateFile)).NotTo(BeAnExistingFile())
}

// stopIfRunning waits for a run a failed test left behind to stop, then kills
// any child it left. The test's context is done by now, so exec has sent the run
// SIGTERM (cmd.Cancel), and sends SIGKILL after cmd.WaitDelay.
func (r *runLocal) stopIfRunning(t *testing.T) {
	<-r.exited
	for _, p := range r.children {
		if processRuns(p) {
			t.Logf("killing %s (pid %d), left behind by run-local", p.Exe, p.PID)
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
}

// demoSummary reads the demo HealthCheck's summary through kubeconfig.
func demoSummary(g Gomega, kubeconfig string) monitoringv1alpha1.Summary {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	g.Expect(err).NotTo(HaveOccurred(), "reading the written kubeconfig")
	scheme := runtime.NewScheme()
	g.Expect(monitoringv1alpha1.AddToScheme(scheme)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var hc monitoringv1alpha1.HealthCheck
	g.Expect(c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "demo"}, &hc)).To(Succeed())
	g.Expect(hc.Status.Summary).NotTo(BeNil(), "no summary yet")
	return *hc.Status.Summary
}

// makeStaleEtcdData leaves an etcd data directory with garbage in it, as a run
// killed mid-write would.
func makeStaleEtcdData(t *testing.T, stateDir string) {
	t.Helper()
	wal := filepath.Join(stateDir, "etcd", "member", "wal")
	if err := os.MkdirAll(wal, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wal, "0000000000000000-0000000000000000.wal"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// childPIDs lists the live children of ppid, read from /proc.
func childPIDs(t *testing.T, ppid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("listing processes: %v", err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces, so count from its closing parenthesis.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(ppid) && fields[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

func pidsOf(ps []devenv.Process) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}

// processRuns says whether p's PID still runs p's binary.
func processRuns(p devenv.Process) bool {
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.PID), "exe"))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	return err == nil && exe == p.Exe
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.Cmd and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
