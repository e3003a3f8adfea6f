// Command manager runs the HealthCheck operator.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/controllers"
	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

func main() {
	var (
		metricsAddr           string
		secureMetrics         bool
		enableHTTP2           bool
		probeAddr             string
		leaderElect           bool
		statusRefresh         time.Duration
		maxConcurrentReconcil int
		shard                 controllers.Shard
		denyCIDRs, allowCIDRs string
		maxConcurrentChecks   int
		pprofAddr             string
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to, such as :8443 (https) or :8080 (http); 0 disables it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorized through the Kubernetes API.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Allow HTTP/2 on the metrics server (off by default: CVE-2023-44487, CVE-2023-39325).")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the liveness and readiness probes bind to.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one replica checks.")
	flag.DurationVar(&statusRefresh, "status-refresh-interval", controllers.DefaultStatusRefreshInterval,
		"How stale lastRunTime and latencies may get in the status of a HealthCheck whose states do not change.")
	flag.IntVar(&maxConcurrentReconcil, "max-concurrent-reconciles", 4, "How many HealthChecks reconcile at once; rounds run apart from this.")
	flag.IntVar(&shard.Total, "total-shards", 1, "Split the HealthChecks among this many operator processes, each with its own leader election.")
	flag.IntVar(&shard.Index, "shard-index", -1,
		"This process's shard, 0 to total-shards-1; -1 reads it from the ordinal of a StatefulSet pod's host name.")
	flag.StringVar(&denyCIDRs, "deny-cidrs", "",
		"Comma-separated CIDRs that checks and webhooks may never connect to, on top of the built-in link-local and cloud metadata ranges.")
	flag.StringVar(&allowCIDRs, "allow-cidrs", "",
		"Comma-separated CIDRs that checks and webhooks may connect to; when set, every other address is denied.")
	flag.IntVar(&maxConcurrentChecks, "max-concurrent-checks", 512,
		"The most checks in flight at once across all HealthChecks, so no spec can exhaust sockets or file descriptors; each HealthCheck's workers still bound its own.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0",
		"The address Go's pprof endpoints bind to, such as 127.0.0.1:6060, for profiling; 0 disables them. Keep it off the pod network.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	setupLog := ctrl.Log.WithName("setup")

	if err := resolveShard(&shard); err != nil {
		setupLog.Error(err, "Invalid sharding flags")
		os.Exit(2)
	}
	leaseID := "healthcheck-operator.monitoring.healthcheck.dev"
	if shard.Total > 1 {
		leaseID = "healthcheck-operator-shard-" + shard.String() + ".monitoring.healthcheck.dev"
		setupLog.Info("Checking one shard of the HealthChecks", "shard", shard.Index, "totalShards", shard.Total)
	}

	policy, err := outboundPolicy(allowCIDRs, denyCIDRs)
	if err != nil {
		setupLog.Error(err, "Invalid outbound policy flags")
		os.Exit(2)
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(monitoringv1alpha1.AddToScheme(scheme))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: tlsOpts}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Cache:                  shard.CacheOptions(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       leaseID,
		// Stop checking at once when leadership is lost, so a new leader never races us.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		setupLog.Error(err, "Unable to create the manager")
		os.Exit(1)
	}

	if err := (&controllers.HealthCheckReconciler{
		StatusRefreshInterval:   statusRefresh,
		MaxConcurrentReconciles: maxConcurrentReconcil,
		Shard:                   shard,
		Policy:                  policy,
		MaxConcurrentChecks:     maxConcurrentChecks,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Unable to set up the controller", "controller", "HealthCheck")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up the ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

// resolveShard fills in the shard index from the host name when asked to, and
// checks the result.
func resolveShard(shard *controllers.Shard) error {
	if shard.Total <= 1 {
		*shard = controllers.Shard{}
		return nil
	}
	if shard.Index < 0 {
		hostname, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("reading the host name for --shard-index=-1: %w", err)
		}
		if shard.Index, err = controllers.OrdinalFromHostname(hostname); err != nil {
			return err
		}
	}
	return shard.Validate()
}

// outboundPolicy builds the policy of --allow-cidrs and --deny-cidrs.
func outboundPolicy(allowFlag, denyFlag string) (*netpolicy.Policy, error) {
	allow, err := netpolicy.ParseCIDRList(allowFlag)
	if err != nil {
		return nil, fmt.Errorf("--allow-cidrs: %w", err)
	}
	deny, err := netpolicy.ParseCIDRList(denyFlag)
	if err != nil {
		return nil, fmt.Errorf("--deny-cidrs: %w", err)
	}
	return netpolicy.New(allow, deny), nil
}
