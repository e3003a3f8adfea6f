package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
)

// cluster is the kubeconfig's cluster, once it has answered.
type cluster struct {
	config  *rest.Config
	context string
}

// reachCluster loads the kubeconfig (Options.Kubeconfig, else KUBECONFIG, else
// ~/.kube/config) and asks its API server for its version within ReachTimeout.
// Any answer counts, even a refusal: a cluster that says 401 is still there.
func reachCluster(opts Options) (*cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := loader.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errors.New("no kubeconfig found (--kubeconfig, KUBECONFIG or ~/.kube/config)")
	}
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}

	probe := rest.CopyConfig(cfg)
	probe.Timeout = opts.ReachTimeout
	dc, err := discovery.NewDiscoveryClientForConfig(probe)
	if err != nil {
		return nil, fmt.Errorf("building a client for %s: %w", cfg.Host, err)
	}
	if _, err := dc.ServerVersion(); err != nil {
		var status apierrors.APIStatus
		if !errors.As(err, &status) {
			return nil, fmt.Errorf("the kubeconfig's cluster %s (context %q) did not answer within %s: %w",
				cfg.Host, raw.CurrentContext, opts.ReachTimeout, err)
		}
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1 // no client-side rate limit, as ctrl.GetConfig: the API server has priority and fairness
	}
	return &cluster{config: cfg, context: raw.CurrentContext}, nil
}

// runAgainstCluster installs the CRDs into the kubeconfig's cluster and runs the
// operator against it in the foreground, the kubebuilder way.
func runAgainstCluster(ctx context.Context, opts Options, c *cluster) error {
	ctrl.LoggerFrom(ctx).Info("Using the kubeconfig's cluster", "context", c.context, "server", c.config.Host)
	if err := installCRDsWithKubectl(ctx, opts); err != nil {
		return err
	}
	printClusterBanner(opts, c)
	return runOperator(ctx, c.config, opts.Operator)
}

// installCRDsWithKubectl applies the CRDs server-side and waits until they are served.
func installCRDsWithKubectl(ctx context.Context, opts Options) error {
	steps := [][]string{
		{"apply", "--server-side", "-f", opts.CRDDir},
		{"wait", "--for", "condition=Established", "--timeout", "60s", "-f", opts.CRDDir},
	}
	for _, args := range steps {
		if opts.Kubeconfig != "" {
			args = append([]string{"--kubeconfig", opts.Kubeconfig}, args...)
		}
		if err := runKubectl(ctx, opts.Kubectl, opts.Out, args...); err != nil {
			return fmt.Errorf("installing the CRDs: %w", err)
		}
	}
	return nil
}

// runKubectl runs kubectl, copying what it prints to out and its complaints into the error.
func runKubectl(ctx context.Context, kubectl string, out io.Writer, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, args...)
	cmd.Stdout = out
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %s %s: %w: %s", kubectl, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
