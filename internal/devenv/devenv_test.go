package devenv

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestLoadDemoSamplePointsTargetsAtTheDemoServer(t *testing.T) {
	g := NewWithT(t)
	hc, err := loadDemoSample(filepath.Join("..", "..", DefaultOptions().DemoSample), "127.0.0.1:41234")
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(hc.GetNamespace()).To(Equal("default"))
	targets, _, err := unstructured.NestedSlice(hc.Object, "spec", "targets")
	g.Expect(err).NotTo(HaveOccurred())
	var urls []string
	for _, target := range targets {
		urls = append(urls, target.(map[string]any)["url"].(string))
	}
	g.Expect(urls).To(ConsistOf(
		"http://127.0.0.1:41234/get",
		"http://127.0.0.1:41234/status/200",
		"http://127.0.0.1:41234/status/404",
		"http://127.0.0.1:41234/delay/1",
		"http://127.0.0.1:41234/ip",
		"http://127.0.0.1:41234/uuid",
		"http://127.0.0.1:41234/status/500",
		"http://127.0.0.1:1/",
	))
}

// writeKubeconfig writes a kubeconfig whose cluster is server.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
users:
- name: u
  user:
    token: t
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`, server)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReachCluster(t *testing.T) {
	version := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	defer version.Close()
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
	}))
	defer unauthorized.Close()
	var lc net.ListenConfig
	closed, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	_ = closed.Close()

	tests := []struct {
		name       string
		kubeconfig string // "" means KUBECONFIG names a missing file
		wantErr    string
	}{
		{name: "no kubeconfig", wantErr: "no kubeconfig found"},
		{name: "nothing answers", kubeconfig: writeKubeconfig(t, closedURL), wantErr: "did not answer"},
		{name: "a cluster answers", kubeconfig: writeKubeconfig(t, version.URL)},
		{name: "a cluster refuses us, but answers", kubeconfig: writeKubeconfig(t, unauthorized.URL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
			opts := DefaultOptions()
			opts.Kubeconfig = tt.kubeconfig
			opts.ReachTimeout = 2 * time.Second
			c, err := reachCluster(opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("reachCluster() error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("reachCluster() error = %v", err)
			}
			if c.context != "ctx" {
				t.Errorf("context = %q, want ctx", c.context)
			}
		})
	}
}

func TestListenDemoFallsBackToAFreePort(t *testing.T) {
	g := NewWithT(t)
	var lc net.ListenConfig
	taken, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = taken.Close() }()

	l, err := listenDemo(t.Context(), taken.Addr().String())
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	g.Expect(l.Addr().String()).NotTo(Equal(taken.Addr().String()))
	g.Expect(l.Addr().(*net.TCPAddr).IP.String()).To(Equal("127.0.0.1"))
}

func TestStateDirAllowsOneRunAtATime(t *testing.T) {
	g := NewWithT(t)
	path := filepath.Join(t.TempDir(), "run")
	first, err := openStateDir(path)
	g.Expect(err).NotTo(HaveOccurred())

	_, err = openStateDir(path)
	g.Expect(err).To(MatchError(ContainSubstring("another `make run` is using")))

	g.Expect(first.close()).To(Succeed())
	second, err := openStateDir(path)
	g.Expect(err).NotTo(HaveOccurred(), "the lock goes with the run")
	g.Expect(second.close()).To(Succeed())
}

func TestStateDirResetClearsStaleData(t *testing.T) {
	g := NewWithT(t)
	dir, err := openStateDir(filepath.Join(t.TempDir(), "run"))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = dir.close() }()
	g.Expect(os.MkdirAll(dir.join("etcd/member/wal"), 0o700)).To(Succeed())
	g.Expect(dir.writeFile(KubeconfigFile, []byte("stale"))).To(Succeed())
	g.Expect(dir.writeState(State{PID: 1, Processes: []Process{{PID: 1, Exe: "/no/such/binary"}}})).To(Succeed())

	g.Expect(dir.reset(t.Context())).To(Succeed())
	g.Expect(dir.join(etcdDataDir)).NotTo(BeADirectory())
	g.Expect(dir.join(KubeconfigFile)).NotTo(BeAnExistingFile())
	g.Expect(dir.join(StateFile)).NotTo(BeAnExistingFile())
	g.Expect(dir.join(certsDir)).To(BeADirectory())
}

func TestChildProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	g := NewWithT(t)
	sleep := exec.CommandContext(t.Context(), "sleep", "60")
	g.Expect(sleep.Start()).To(Succeed())
	defer func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
	}()

	children := childProcesses(os.Getpid())
	g.Expect(children).To(ContainElement(HaveField("PID", sleep.Process.Pid)))
	for _, p := range children {
		if p.PID == sleep.Process.Pid {
			g.Expect(isRunning(p)).To(BeTrue())
			g.Expect(isRunning(Process{PID: p.PID, Exe: "/some/other/binary"})).To(BeFalse(), "a reused PID is not the process")
		}
	}
}
