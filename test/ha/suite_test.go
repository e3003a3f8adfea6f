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
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/healthcheck-operator/healthcheck-operator/controllers"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

var (
	env       *testenv.Env
	cfg       *rest.Config
	k8sClient client.Client
)

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	cfg, k8sClient = env.Config, env.Client
	return m.Run()
}

// replica is one operator process: a manager with the real reconciler whose
// checks are counted.
type replica struct {
	// cache reads the replica's informer cache.
	cache  client.Client
	checks atomic.Int64
	op     *testenv.Operator
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
	return startReplicaOn(t, cfg, ns, "shard-"+shard.String(), shard, func(r *controllers.HealthCheckReconciler, rep *replica) {
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
	return startReplicaOn(t, restCfg, ns, leaseID, controllers.Shard{}, tweaks...)
}

// startReplicaOn is startReplicaWith for one shard: the operator as cmd/manager
// builds it with --total-shards and --shard-index, with leader election timings
// short enough for a test.
func startReplicaOn(t *testing.T, restCfg *rest.Config, ns, leaseID string, shard controllers.Shard, tweaks ...func(*controllers.HealthCheckReconciler, *replica)) *replica {
	t.Helper()
	rep := &replica{}
	opts := testenv.OperatorOptions()
	opts.LeaderElect = leaseID != ""
	if shard.Total > 1 {
		opts.Shard = shard
	}
	renew, lease := 2*time.Second, 3*time.Second
	retry := 200 * time.Millisecond
	op, err := testenv.StartOperator(restCfg, opts,
		operator.WithManagerOptions(func(o *ctrl.Options) {
			o.LeaderElectionID = leaseID
			o.LeaderElectionNamespace = ns
			o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = &lease, &renew, &retry
			// Each replica needs its own controller name space in this process.
			o.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
			// and sees only its test's namespace, so that tests run side by side.
			o.Cache.DefaultNamespaces = map[string]cache.Config{ns: {}}
		}),
		operator.WithManager(func(mgr ctrl.Manager) { rep.cache = mgr.GetClient() }),
		operator.WithReconciler(func(r *controllers.HealthCheckReconciler) {
			r.Client = rep.cache
			r.Checker = checker.New(checker.Options{Transport: countingTransport{next: checker.NewTransport(), count: &rep.checks}})
			r.Metrics = controllers.NewMetrics(prometheus.NewRegistry(), controllers.MetricsOptions{})
			for _, tweak := range tweaks {
				tweak(r, rep)
			}
		}))
	if err != nil {
		t.Fatalf("starting a replica: %v", err)
	}
	rep.op = op
	t.Cleanup(rep.stop)
	return rep
}

// stop stops the replica and waits for it to exit.
func (r *replica) stop() { _ = r.op.Stop() }

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
