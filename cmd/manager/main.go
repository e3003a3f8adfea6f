// Command manager runs the HealthCheck operator; internal/operator builds it
// from the flags, as it does for `make run` and the tests.
package main

import (
	"errors"
	"flag"
	"math"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
)

func main() {
	opts := operator.Defaults()
	opts.BindFlags(flag.CommandLine)
	logOpts := zap.Options{}
	logOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&logOpts)))
	setupLog := ctrl.Log.WithName("setup")
	// Not being able to read the container's limit (no cgroups, as outside a
	// container) only leaves the runtime unlimited, as Prometheus does too.
	if limit, err := operator.SetGoMemoryLimit(opts.MemoryLimitRatio, memlimit.FromCgroup); errors.Is(err, operator.ErrMemoryLimitRatio) {
		setupLog.Error(err, "Invalid flag")
		os.Exit(2)
	} else if err != nil {
		setupLog.Info("The Go memory limit was not set", "reason", err.Error())
	} else if limit != math.MaxInt64 {
		setupLog.Info("Go memory limit set", "bytes", limit)
	}

	mgr, err := operator.New(ctrl.GetConfigOrDie(), opts)
	if err != nil {
		setupLog.Error(err, "Unable to set up the operator")
		os.Exit(2)
	}
	setupLog.Info("Starting the manager", "totalShards", opts.Shard.Total, "maxConcurrentChecks", opts.MaxConcurrentChecks)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}
