// Package operator builds the HealthCheck operator's manager from one set of
// options. cmd/manager (the Deployment), `make run` (internal/devenv) and the
// test suites all build it here, so every mode runs with the same defaults:
// the global check cap, the outbound policy, the status refresh, the shard and
// the event correlator.
package operator

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/controllers"
	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// Options are the operator's settings; Defaults gives the ones every mode
// starts from, and BindFlags the command line that sets them.
type Options struct {
	// MetricsAddr is where the metrics endpoint binds, such as :8443; "0" disables it.
	MetricsAddr string
	// SecureMetrics serves metrics over HTTPS, authenticated and authorized
	// through the Kubernetes API.
	SecureMetrics bool
	// EnableHTTP2 allows HTTP/2 on the metrics server.
	EnableHTTP2 bool
	// ProbeAddr is where the liveness and readiness probes bind; "0" disables them.
	ProbeAddr string
	// PprofAddr is where Go's pprof endpoints bind; "0" disables them.
	PprofAddr string
	// LeaderElect elects a leader, so that only one replica checks.
	LeaderElect bool
	// StatusRefreshInterval bounds how stale status timestamps get when nothing
	// else changed.
	StatusRefreshInterval time.Duration
	// MaxConcurrentReconciles is how many HealthChecks reconcile at once.
	MaxConcurrentReconciles int
	// MaxConcurrentChecks caps the checks in flight across all HealthChecks.
	MaxConcurrentChecks int
	// Shard is this process's share of the HealthChecks; an Index of -1 is read
	// from a StatefulSet pod's host name by Complete.
	Shard controllers.Shard
	// AllowCIDRs and DenyCIDRs are the outbound policy's comma-separated CIDRs.
	AllowCIDRs, DenyCIDRs string
	// TargetLatencyHistograms exports a latency histogram per target.
	TargetLatencyHistograms bool
	// MemoryLimitRatio is the share of the container's memory limit that the Go
	// runtime's soft memory limit is set to (see SetGoMemoryLimit); 0 sets none.
	MemoryLimitRatio float64
}

// Defaults are the settings of every mode unless a flag says otherwise.
func Defaults() Options {
	return Options{
		MetricsAddr:             "0",
		SecureMetrics:           true,
		ProbeAddr:               ":8081",
		PprofAddr:               "0",
		StatusRefreshInterval:   controllers.DefaultStatusRefreshInterval,
		MaxConcurrentReconciles: 4,
		MaxConcurrentChecks:     512,
		Shard:                   controllers.Shard{Total: 1, Index: -1},
		MemoryLimitRatio:        0.9,
	}
}

// BindFlags registers the operator's flags on fs, with o's values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "The address the metrics endpoint binds to, such as :8443 (https) or :8080 (http); 0 disables it.")
	fs.BoolVar(&o.SecureMetrics, "metrics-secure", o.SecureMetrics, "Serve metrics over HTTPS, authenticated and authorized through the Kubernetes API.")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", o.EnableHTTP2, "Allow HTTP/2 on the metrics server (off by default: CVE-2023-44487, CVE-2023-39325).")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "The address the liveness and readiness probes bind to; 0 disables them.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader, so that only one replica checks.")
	fs.DurationVar(&o.StatusRefreshInterval, "status-refresh-interval", o.StatusRefreshInterval,
		"How stale lastRunTime and latencies may get in the status of a HealthCheck whose states do not change.")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", o.MaxConcurrentReconciles, "How many HealthChecks reconcile at once; rounds run apart from this.")
	fs.IntVar(&o.Shard.Total, "total-shards", o.Shard.Total, "Split the HealthChecks among this many operator processes, each with its own leader election.")
	fs.IntVar(&o.Shard.Index, "shard-index", o.Shard.Index,
		"This process's shard, 0 to total-shards-1; -1 reads it from the ordinal of a StatefulSet pod's host name.")
	fs.StringVar(&o.DenyCIDRs, "deny-cidrs", o.DenyCIDRs,
		"Comma-separated CIDRs that checks and webhooks may never connect to, on top of the built-in link-local and cloud metadata ranges.")
	fs.StringVar(&o.AllowCIDRs, "allow-cidrs", o.AllowCIDRs,
		"Comma-separated CIDRs that checks and webhooks may connect to; when set, every other address is denied.")
	fs.IntVar(&o.MaxConcurrentChecks, "max-concurrent-checks", o.MaxConcurrentChecks,
		"The most checks in flight at once across all HealthChecks, so no spec can exhaust sockets or file descriptors; each HealthCheck's workers still bound its own.")
	fs.BoolVar(&o.TargetLatencyHistograms, "target-latency-histograms", o.TargetLatencyHistograms,
		"Export healthcheck_target_latency_seconds, a latency histogram per target (16 series a target); by default each target has its last latency, one series.")
	fs.Float64Var(&o.MemoryLimitRatio, "memory-limit-ratio", o.MemoryLimitRatio,
		"Set the Go runtime's soft memory limit (GOMEMLIMIT) to this share of the container's memory limit, so the garbage collector works harder before the pod is OOM-killed; 0 sets none, and a GOMEMLIMIT in the environment wins.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr,
		"The address Go's pprof endpoints bind to, such as 127.0.0.1:6060, for profiling; 0 disables them. Keep it off the pod network.")
}

// NewScheme knows the built-in kinds and HealthCheck.
func NewScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering the built-in kinds: %w", err)
	}
	if err := monitoringv1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering HealthCheck: %w", err)
	}
	// HTTPRoutes and Gateways, read by httpRoutes sources where the cluster serves them.
	if err := gatewayv1.Install(scheme); err != nil {
		return nil, fmt.Errorf("registering the Gateway API: %w", err)
	}
	return scheme, nil
}

// Option adjusts what New builds, for tests: the manager's options before it
// is created, and the reconciler before it is set up.
type Option func(*build)

type build struct {
	manager    []func(*ctrl.Options)
	created    []func(ctrl.Manager)
	reconciler []func(*controllers.HealthCheckReconciler)
}

// WithManagerOptions adjusts the manager's options, such as leader election timings.
func WithManagerOptions(f func(*ctrl.Options)) Option {
	return func(b *build) { b.manager = append(b.manager, f) }
}

// WithManager is given the manager once it is created, such as to read its cache.
func WithManager(f func(ctrl.Manager)) Option {
	return func(b *build) { b.created = append(b.created, f) }
}

// WithReconciler adjusts the reconciler, such as its checker or metrics registry.
func WithReconciler(f func(*controllers.HealthCheckReconciler)) Option {
	return func(b *build) { b.reconciler = append(b.reconciler, f) }
}

// New builds the manager with the HealthCheck controller, its probes and its
// runnables from o, against the API server of cfg. Flags that do not parse are
// errors naming the flag.
func New(cfg *rest.Config, o Options, opts ...Option) (ctrl.Manager, error) {
	var b build
	for _, opt := range opts {
		opt(&b)
	}
	shard, err := resolveShard(o.Shard)
	if err != nil {
		return nil, err
	}
	policy, err := outboundPolicy(o.AllowCIDRs, o.DenyCIDRs)
	if err != nil {
		return nil, err
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}

	var tlsOpts []func(*tls.Config)
	if !o.EnableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	var auth controllers.FilterProvider
	if o.SecureMetrics {
		auth = filters.WithAuthenticationAndAuthorization
	}
	metricsOpts := metricsserver.Options{BindAddress: o.MetricsAddr, SecureServing: o.SecureMetrics, TLSOpts: tlsOpts,
		// The targets' series are written out after the registry's (see ServeTargetSeries).
		FilterProvider: controllers.ServeTargetSeries(auth)}
	mgrOpts := ctrl.Options{
		Scheme:                 scheme,
		Cache:                  shard.CacheOptions(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: o.ProbeAddr,
		PprofBindAddress:       o.PprofAddr,
		LeaderElection:         o.LeaderElect,
		LeaderElectionID:       leaseName(shard),
		// Stop checking at once when leadership is lost, so a new leader never races us.
		LeaderElectionReleaseOnCancel: true,
	}
	for _, f := range b.manager {
		f(&mgrOpts)
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	for _, f := range b.created {
		f(mgr)
	}

	reconciler := &controllers.HealthCheckReconciler{
		StatusRefreshInterval:   o.StatusRefreshInterval,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		Shard:                   shard,
		Policy:                  policy,
		MaxConcurrentChecks:     o.MaxConcurrentChecks,
		MetricsOptions:          controllers.MetricsOptions{TargetLatencyHistograms: o.TargetLatencyHistograms},
	}
	for _, f := range b.reconciler {
		f(reconciler)
	}
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the HealthCheck controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the ready check: %w", err)
	}
	return mgr, nil
}

// leaseName is the leader election lease of a shard's replicas.
func leaseName(shard controllers.Shard) string {
	if shard.Total > 1 {
		return "healthcheck-operator-shard-" + shard.String() + ".monitoring.healthcheck.dev"
	}
	return "healthcheck-operator.monitoring.healthcheck.dev"
}

// resolveShard fills in the shard index from the host name when asked to, and
// checks the result.
func resolveShard(shard controllers.Shard) (controllers.Shard, error) {
	if shard.Total <= 1 {
		return controllers.Shard{}, nil
	}
	if shard.Index < 0 {
		hostname, err := os.Hostname()
		if err != nil {
			return shard, fmt.Errorf("reading the host name for --shard-index=-1: %w", err)
		}
		if shard.Index, err = controllers.OrdinalFromHostname(hostname); err != nil {
			return shard, err
		}
	}
	return shard, shard.Validate()
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
