// Command run-local is what `make run` runs: the HealthCheck operator in the
// foreground against the current kubeconfig's cluster when one answers, and
// otherwise against an embedded control plane on loopback, with demo targets and
// a HealthCheck of them. Ctrl-C stops everything it started.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/healthcheck-operator/healthcheck-operator/internal/devenv"
)

func main() {
	opts := devenv.DefaultOptions()
	if assets := os.Getenv("KUBEBUILDER_ASSETS"); assets != "" {
		opts.AssetsDir = assets
	}
	// A flag set of our own: controller-runtime puts its own --kubeconfig on flag.CommandLine.
	fs := flag.NewFlagSet("run-local", flag.ExitOnError)
	fs.StringVar((*string)(&opts.Mode), "mode", string(opts.Mode),
		"Where to run: auto (the kubeconfig's cluster if it answers, else embedded), cluster or embedded.")
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "Path to a kubeconfig; default KUBECONFIG, then ~/.kube/config.")
	fs.DurationVar(&opts.ReachTimeout, "reach-timeout", opts.ReachTimeout,
		"How long the kubeconfig's cluster has to answer before an embedded one is started instead.")
	fs.StringVar(&opts.Kubectl, "kubectl", opts.Kubectl, "The kubectl that installs the CRDs into an existing cluster.")
	fs.StringVar(&opts.CRDDir, "crd-dir", opts.CRDDir, "Directory of the CRD manifests.")
	fs.StringVar(&opts.StateDir, "state-dir", opts.StateDir,
		"Directory of the embedded mode's kubeconfig, data and logs (one run at a time per directory).")
	fs.StringVar(&opts.AssetsDir, "assets", opts.AssetsDir, "Directory of the etcd and kube-apiserver binaries (default KUBEBUILDER_ASSETS, else bin/k8s).")
	fs.IntVar(&opts.APIServerPort, "api-server-port", 0, "Port of the embedded kube-apiserver on 127.0.0.1; 0 picks a free one.")
	fs.IntVar(&opts.EtcdPort, "etcd-port", 0, "Client port of the embedded etcd on 127.0.0.1; 0 picks a free one.")
	fs.IntVar(&opts.EtcdPeerPort, "etcd-peer-port", 0, "Peer port of the embedded etcd on 127.0.0.1; 0 picks a free one.")
	fs.StringVar(&opts.DemoAddr, "demo-addr", opts.DemoAddr, "Loopback address of the demo targets; a free port is used if it is taken.")
	fs.StringVar(&opts.DemoSample, "demo-sample", opts.DemoSample, "The HealthCheck of the demo targets to apply.")
	// The operator's own flags, as cmd/manager has them, such as --deny-cidrs.
	opts.Operator.BindFlags(fs)
	logOpts := zap.Options{Development: true, Level: zapcore.InfoLevel, StacktraceLevel: zapcore.PanicLevel}
	logOpts.BindFlags(fs)
	_ = fs.Parse(os.Args[1:]) // ExitOnError
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&logOpts)))
	log := ctrl.Log.WithName("run-local")
	opts.Out = os.Stdout

	// SIGHUP too: closing the terminal must not leave etcd and kube-apiserver behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	announceStop := context.AfterFunc(ctx, func() { log.Info("Stopping everything this run started") })
	err := devenv.Run(ctrl.LoggerInto(ctx, log), opts)
	announceStop()
	stop()
	if err != nil {
		log.Error(err, "Stopped with an error")
		os.Exit(1)
	}
	log.Info("Stopped")
}
