// Package ha tests the operator as more than one process sees it: replicas that
// elect a leader on one real API server. Unlike the controllers suite, no manager
// runs here by default; each test starts the managers it needs.
package ha

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/controllers"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

var (
	env       *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
)

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds the control plane into bin/k8s")
		return 1
	}
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := monitoringv1alpha1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	if cfg, err = env.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		panic(err)
	}
	return m.Run()
}

// replica is one operator process: a manager with the real reconciler whose
// checks are counted.
type replica struct {
	// cache reads the replica's informer cache.
	cache  client.Reader
	checks atomic.Int64
	cancel context.CancelFunc
	done   chan error
}

// countingTransport counts the requests one replica sends.
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.count.Add(1)
	return t.next.RoundTrip(r)
}

// startReplica starts a manager electing a leader through the lease leaseID in
// namespace ns; an empty leaseID runs it without leader election.
func startReplica(t *testing.T, ns, leaseID string) *replica {
	t.Helper()
	return startReplicaWith(t, cfg, ns, leaseID)
}

// startShard starts a replica that checks one shard, with its own lease, and
// marks its requests with an X-Replica header.
func startShard(t *testing.T, ns string, shard controllers.Shard, name string) *replica {
	t.Helper()
	return startReplicaOn(t, cfg, ns, "shard-"+shard.String(), shard.CacheOptions(), func(r *controllers.HealthCheckReconciler, rep *replica) {
		r.Shard = shard
		r.Checker = checker.New(checker.Options{Transport: headerTransport{next: countingTransport{next: checker.NewTransport(), count: &rep.checks}, value: name}})
	})
}

// headerTransport marks each request with the replica that sent it.
type headerTransport struct {
	next  http.RoundTripper
	value string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Replica", t.value)
	return t.next.RoundTrip(r)
}

// startReplicaWith starts a replica that reaches the API server through restCfg;
// tweaks adjust its reconciler before it starts.
func startReplicaWith(t *testing.T, restCfg *rest.Config, ns, leaseID string, tweaks ...func(*controllers.HealthCheckReconciler, *replica)) *replica {
	t.Helper()
	return startReplicaOn(t, restCfg, ns, leaseID, controllers.Shard{}.CacheOptions(), tweaks...)
}

// startReplicaOn is startReplicaWith with the manager's cache options, as
// cmd/manager sets them for its shard.
func startReplicaOn(t *testing.T, restCfg *rest.Config, ns, leaseID string, cacheOpts cache.Options, tweaks ...func(*controllers.HealthCheckReconciler, *replica)) *replica {
	t.Helper()
	rep := &replica{done: make(chan error, 1)}
	renew, lease := 2*time.Second, 3*time.Second
	retry := 200 * time.Millisecond
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		LeaderElection:                leaseID != "",
		LeaderElectionID:              leaseID,
		LeaderElectionNamespace:       ns,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		RetryPeriod:                   &retry,
		// Each replica needs its own controller name space in this process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("creating manager: %v", err)
	}
	rep.cache = mgr.GetClient()
	rec := &controllers.HealthCheckReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorderFor("healthcheck-operator"), //nolint:staticcheck // as in cmd/manager
		Checker:   checker.New(checker.Options{Transport: countingTransport{next: checker.NewTransport(), count: &rep.checks}}),
		Metrics:   controllers.NewMetrics(prometheus.NewRegistry()),
	}
	for _, tweak := range tweaks {
		tweak(rec, rep)
	}
	if err := rec.SetupWithManager(mgr); err != nil {
		t.Fatalf("setting up reconciler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rep.cancel = cancel
	go func() { rep.done <- mgr.Start(ctx) }()
	t.Cleanup(rep.stop)
	return rep
}

// stop stops the replica and waits for it to exit.
func (r *replica) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // later stops return at once
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "ha-test-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

func newOKServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv
}
