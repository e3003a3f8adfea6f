package controllers_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/controllers"
	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// The suite runs one real kube-apiserver and etcd (envtest) and one manager with
// the real reconciler and checker, shared by every test; each test works in a
// namespace of its own.
var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
)

// blockedAddress is a loopback address the suite's outbound policy denies.
const blockedAddress = "127.0.0.2"

const (
	timeout = 20 * time.Second
	poll    = 100 * time.Millisecond
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds the control plane into bin/k8s")
		return 1
	}
	must(clientgoscheme.AddToScheme(scheme))
	must(monitoringv1alpha1.AddToScheme(scheme))

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	cfg, err = testEnv.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest: %v\n", err)
		return 1
	}
	defer func() { _ = testEnv.Stop() }()

	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	must(err)

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Cache: controllers.Shard{}.CacheOptions(), Metrics: metricsserver.Options{BindAddress: "0"}})
	must(err)
	must((&controllers.HealthCheckReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorderFor("healthcheck-operator"), //nolint:staticcheck // see HealthCheckReconciler.Recorder
		// Long, so that the write-counting tests see only writes caused by change.
		StatusRefreshInterval:   time.Hour,
		MaxConcurrentReconciles: 4,
		// The default policy plus one loopback address, so blocking can be shown
		// without touching any address off this machine.
		Policy: netpolicy.New(nil, []netip.Prefix{netip.MustParsePrefix(blockedAddress + "/32")}),
	}).SetupWithManager(mgr))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	return code
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "hc-test-"}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ns) })
	return ns.Name
}

// recordedEvent is an event as a user reads it in `kubectl events`.
type recordedEvent struct {
	Type, Reason, Note string
	Count              int32
}

// eventsFor lists the events about one HealthCheck, counting repeats folded into a series.
func eventsFor(g Gomega, ns, name string) []recordedEvent {
	var list corev1.EventList
	g.Expect(k8sClient.List(context.Background(), &list, client.InNamespace(ns))).To(Succeed())
	var out []recordedEvent
	for _, e := range list.Items {
		if e.InvolvedObject.Name != name || e.InvolvedObject.Kind != "HealthCheck" {
			continue
		}
		out = append(out, recordedEvent{Type: e.Type, Reason: e.Reason, Note: e.Message, Count: e.Count})
	}
	return out
}
