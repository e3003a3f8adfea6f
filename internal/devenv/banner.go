package devenv

import (
	"fmt"
	"os/exec"
	"path/filepath"
)

// printEmbeddedBanner tells the user the one thing to do next: point kubectl at
// the embedded API server. Paths are absolute, so the lines work from any
// directory of another terminal.
func printEmbeddedBanner(opts Options, kubeconfig, demoAddr string) {
	kubectl, note := kubectlCommand(opts.Kubectl)
	_, _ = fmt.Fprintf(opts.Out, `
The HealthCheck operator is running against an embedded control plane on %s,
checking the demo targets on http://%s/. In another terminal:

    export KUBECONFIG=%s
    %s get healthchecks
%s
Press Ctrl-C to stop everything.

`, loopback, demoAddr, absolute(kubeconfig), kubectl, note)
}

// publicSample is the sample a user with a cluster and internet starts from.
const publicSample = "config/samples/monitoring_v1alpha1_healthcheck.yaml"

// printClusterBanner tells the user which cluster the operator runs against and
// how to give it something to check.
func printClusterBanner(opts Options, c *cluster) {
	kubectl, note := kubectlCommand(opts.Kubectl)
	_, _ = fmt.Fprintf(opts.Out, `
The HealthCheck operator is running against %s (kubeconfig context %q).
The CRDs are installed; give it something to check, in another terminal:

    %s apply -f %s
    %s get healthchecks
%s
Press Ctrl-C to stop the operator.

`, c.config.Host, c.context, kubectl, absolute(publicSample), kubectl, note)
}

// kubectlCommand is "kubectl" when it is on PATH, else the kubectl that
// `make envtest` built, with a line saying why.
func kubectlCommand(built string) (command, note string) {
	if _, err := exec.LookPath("kubectl"); err == nil {
		return "kubectl", ""
	}
	return absolute(built), "    (kubectl is not on your PATH: this is the one `make envtest` built)\n"
}

func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
