// Package devenv is what `make run` runs: the operator in the foreground against
// the cluster of the current kubeconfig when one answers, and otherwise against an
// embedded control plane on loopback (the pinned etcd and kube-apiserver that the
// tests use), with demo targets and a HealthCheck of them, so that a fresh clone
// shows Up, Slow and Down targets with no cluster and no internet.
package devenv

import (
	"context"
	"fmt"
	"io"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/healthcheck-operator/healthcheck-operator/internal/demo"
	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
)

// Mode chooses where the operator runs.
type Mode string

// Modes of Run.
const (
	// ModeAuto uses the kubeconfig's cluster when it answers, else an embedded one.
	ModeAuto Mode = "auto"
	// ModeCluster uses the kubeconfig's cluster, and fails when it does not answer.
	ModeCluster Mode = "cluster"
	// ModeEmbedded always starts an embedded control plane with the demo targets.
	ModeEmbedded Mode = "embedded"
)

// Options configure Run. Relative paths are relative to the working directory,
// which `make run` sets to the repository root.
type Options struct {
	// Mode chooses between the kubeconfig's cluster and an embedded one.
	Mode Mode
	// Kubeconfig is an explicit kubeconfig path; empty means KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// ReachTimeout is how long the kubeconfig's cluster has to answer in ModeAuto.
	ReachTimeout time.Duration

	// Kubectl is the kubectl that installs the CRDs into an existing cluster.
	Kubectl string
	// CRDDir holds the CRD manifests.
	CRDDir string

	// StateDir holds what the embedded mode writes: its kubeconfig, the control
	// plane's data, certificates and logs, and a lock against a second run.
	StateDir string
	// AssetsDir holds the etcd and kube-apiserver binaries (KUBEBUILDER_ASSETS).
	AssetsDir string
	// APIServerPort, EtcdPort and EtcdPeerPort are the control plane's ports on
	// 127.0.0.1; 0 picks a free one.
	APIServerPort, EtcdPort, EtcdPeerPort int
	// DemoAddr is where the demo targets are served; when it is taken, a free port
	// on the same host is used instead.
	DemoAddr string
	// DemoSample is the HealthCheck of the demo targets, written for demo.DefaultAddr.
	DemoSample string

	// Operator are the operator's own settings, the Deployment's defaults
	// (operator.Defaults) but for the probe endpoint, which a developer's
	// machine does not need.
	Operator operator.Options

	// Out receives the few lines a user must read; logs go to the logger.
	Out io.Writer
}

// DefaultOptions returns the options `make run` uses unless told otherwise.
func DefaultOptions() Options {
	op := operator.Defaults()
	op.ProbeAddr = "0" // no port to collide with
	return Options{
		Operator:     op,
		Mode:         ModeAuto,
		ReachTimeout: 3 * time.Second,
		Kubectl:      "bin/k8s/kubectl",
		CRDDir:       "config/crd/bases",
		StateDir:     ".run",
		AssetsDir:    "bin/k8s",
		DemoAddr:     demo.DefaultAddr,
		DemoSample:   "config/samples/monitoring_v1alpha1_healthcheck_demo.yaml",
	}
}

// Run runs the operator in the foreground until ctx ends, then stops everything it
// started: the operator, and in embedded mode the demo server and control plane.
func Run(ctx context.Context, opts Options) error {
	log := ctrl.LoggerFrom(ctx)
	switch opts.Mode {
	case ModeEmbedded:
		return runEmbedded(ctx, opts)
	case ModeCluster:
		target, err := reachCluster(opts)
		if err != nil {
			return err
		}
		return runAgainstCluster(ctx, opts, target)
	case ModeAuto:
		target, err := reachCluster(opts)
		if err != nil {
			log.Info("Starting an embedded control plane, as no cluster answered", "reason", err.Error())
			return runEmbedded(ctx, opts)
		}
		return runAgainstCluster(ctx, opts, target)
	default:
		return fmt.Errorf("unknown mode %q: want %s, %s or %s", opts.Mode, ModeAuto, ModeCluster, ModeEmbedded)
	}
}
