package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary runs main itself when this is set, so that the tests below
// see the real process: its exit status and its standard streams.
const runMainEnv = "KUBECTL_HEALTHCHECK_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// kubectlHealthcheck runs the plugin as a process with args and stdin.
func kubectlHealthcheck(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running the plugin: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

func TestTheProcessExitsWithTheReportsVerdict(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: ci}
spec: {targets: [{url: "` + srv.URL + `/up"}]}
`
	cases := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"Up", manifest, []string{"run", "-f", "-"}, 0, "HealthCheck default/ci\nChecking 1 URLs with 10 workers...", ""},
		{"Down", "", []string{"run", "--url", srv.URL + "/down"}, 1, " [DOWN]\n", ""},
		{"bad usage", "", []string{"run", "--url"}, 2, "", "error: flag needs an argument: --url\nSee 'kubectl healthcheck run --help' for usage.\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := kubectlHealthcheck(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.inStdout) || !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("exit status %d, stdout:\n%s\nstderr:\n%s\nwant %d, %q in stdout and %q in stderr", code, stdout, stderr, tc.code, tc.inStdout, tc.inStderr)
			}
		})
	}
}

// TestTheBinaryLinksNoClusterClientScheme keeps out of the plugin what made
// every command, run included, slow to start (issue 14): client-go's scheme of
// every built-in kind, controller-runtime, and cli-runtime beyond its
// IOStreams. Their package initialisation runs at each start, used or not.
func TestTheBinaryLinksNoClusterClientScheme(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case pkg == "k8s.io/client-go/kubernetes/scheme",
			strings.HasPrefix(pkg, "sigs.k8s.io/controller-runtime/"),
			strings.HasPrefix(pkg, "sigs.k8s.io/kustomize/"),
			strings.HasPrefix(pkg, "k8s.io/cli-runtime/") && pkg != "k8s.io/cli-runtime/pkg/genericiooptions":
			t.Errorf("kubectl-healthcheck links %s", pkg)
		}
	}
}
