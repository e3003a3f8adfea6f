package plugin_test

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

// TestStatusAndTriggerSayWhenTheCRDIsMissing runs them against an API server
// without the HealthCheck CRD: a missing kind is not a missing object.
func TestStatusAndTriggerSayWhenTheCRDIsMissing(t *testing.T) {
	env, err := testenv.Start(testenv.WithoutCRDs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig, "plugin-test"); err != nil {
		t.Fatal(err)
	}
	const want = "error: the cluster does not serve HealthChecks (monitoring.healthcheck.dev/v1alpha1): is the CRD installed?\n"
	for _, args := range [][]string{
		{"status", "web"},
		{"status"},
		{"status", "-A"},
		{"trigger", "web"},
	} {
		got := runPlugin(t, &fixedClock{now: testNow}, "", append(args, "--kubeconfig", kubeconfig)...)
		if got.code != plugin.ExitError || got.stdout != "" || got.stderr != want {
			t.Errorf("%q: exit status %d, stdout %q, stderr %q; want %d, nothing and %q", args, got.code, got.stdout, got.stderr, plugin.ExitError, want)
		}
	}
}

// TestStatusReadsTheNamespaceOfTheContext selects a context with --context and
// takes its namespace, as kubectl does.
func TestStatusReadsTheNamespaceOfTheContext(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	c.createWithStatus(t, webHealthCheck(ns))
	// The current context now reaches nowhere; "web-ns" is the test's cluster
	// and user, in the test's namespace.
	cfg, err := clientcmd.LoadFromFile(c.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	current := cfg.Contexts[cfg.CurrentContext]
	cfg.Contexts["web-ns"] = current.DeepCopy()
	cfg.Contexts["web-ns"].Namespace = ns
	cfg.Clusters["nowhere"] = cfg.Clusters[current.Cluster].DeepCopy()
	cfg.Clusters["nowhere"].Server = "https://127.0.0.1:1"
	current.Cluster = "nowhere"
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	got := runPlugin(t, &fixedClock{now: testNow}, "", "status", "web", "--kubeconfig", kubeconfig, "--context", "web-ns", "-o", "csv")
	if got.code != plugin.ExitDown || got.stderr != "" {
		t.Errorf("status --context web-ns: exit status %d, stderr %q; want %d (targets are Down) and nothing", got.code, got.stderr, plugin.ExitDown)
	}
	assertGolden(t, "status_csv.golden", strings.ReplaceAll(got.stdout, ns, "NAMESPACE"))

	got = runPlugin(t, &fixedClock{now: testNow}, "", "status", "web", "--kubeconfig", kubeconfig, "--request-timeout", "5s")
	if got.code != plugin.ExitError || got.stdout != "" || !strings.HasPrefix(got.stderr, "error: reading HealthCheck \"web\" in namespace \"default\": ") {
		t.Errorf("status with the current context: exit status %d, stdout %q, stderr %q; want %d, nothing and an error", got.code, got.stdout, got.stderr, plugin.ExitError)
	}
}
