package plugin_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the output")

// The API server is started by the first test that needs one, so that the pure
// tests and the fuzz target run without it, and stopped by TestMain.
var (
	apiServerOnce sync.Once
	env           *testenv.Env
	apiServer     *cluster
	apiServerErr  error
)

// cluster is a running envtest API server with the HealthCheck CRD installed.
type cluster struct {
	client client.Client
	// kubeconfig is a file granting system:masters, for the plugin's --kubeconfig.
	kubeconfig string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping envtest: %v\n", err)
		}
	}
	if apiServer != nil {
		_ = os.RemoveAll(filepath.Dir(apiServer.kubeconfig))
	}
	os.Exit(code)
}

// startCluster returns the shared API server, starting it on first use.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	apiServerOnce.Do(func() { apiServer, apiServerErr = newCluster() })
	if apiServerErr != nil {
		t.Fatal(apiServerErr)
	}
	return apiServer
}

func newCluster() (*cluster, error) {
	var err error
	if env, err = testenv.Start(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectl-healthcheck-test-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := env.WriteKubeconfig(path, "plugin-test"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &cluster{client: env.Client, kubeconfig: path}, nil
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func (c *cluster) newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "plugin-test-"}}
	if err := c.client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() { _ = c.client.Delete(context.Background(), ns) })
	return ns.Name
}

// fixedClock makes every check take latency and every report be read at now,
// so that reports are the same on every run without sleeping anywhere.
type fixedClock struct {
	now     time.Time
	latency time.Duration
}

func (c fixedClock) Now() time.Time                { return c.now }
func (c fixedClock) Since(time.Time) time.Duration { return c.latency }

// testNow is the time of every fixedClock.
var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// invocation is the outcome of one command line.
type invocation struct {
	code           int
	stdout, stderr string
}

// runPlugin runs args with stdin and the given clock (nil for the real one).
func runPlugin(t *testing.T, clock *fixedClock, stdin string, args ...string) invocation {
	t.Helper()
	var stdout, stderr bytes.Buffer
	p := &plugin.Plugin{Streams: genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &stdout, ErrOut: &stderr}}
	if clock != nil {
		p.Clock = *clock
	}
	code := p.Run(context.Background(), args)
	return invocation{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// assertGolden compares got with testdata/name, or rewrites it with -update.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
