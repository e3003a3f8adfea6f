package controllers_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

// The suite runs one real kube-apiserver and etcd (envtest) and one operator,
// built as cmd/manager builds it, shared by every test; each test works in a
// namespace of its own.
var (
	env       *testenv.Env
	cfg       *rest.Config
	k8sClient client.Client
	// metricsAddr is where the operator serves its metrics.
	metricsAddr string
)

// blockedAddress is a loopback address the suite's outbound policy denies.
const blockedAddress = "127.0.0.2"

// endpointsNetwork holds the addresses of the EndpointSlices of these tests
// (TEST-NET-1, RFC 5737); the suite's policy blocks it.
const endpointsNetwork = "192.0.2.0/24"

const (
	timeout = 20 * time.Second
	poll    = 100 * time.Millisecond
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	cfg, k8sClient = env.Config, env.Client

	// The operator as cmd/manager builds it, with two flags of the suite's own.
	opts := testenv.OperatorOptions()
	// Long, so that the write-counting tests see only writes caused by change.
	opts.StatusRefreshInterval = time.Hour
	// The default policy plus one loopback address, so blocking can be shown
	// without touching any address off this machine, and the documentation
	// network that EndpointSlices here point to (the API server refuses
	// loopback endpoints), so that checking them never sends a packet.
	opts.DenyCIDRs = blockedAddress + "/32," + endpointsNetwork
	// The operator talks to the API server through the suite's gate, which
	// holds status writes where a test asks (slowapi_test.go).
	operatorCfg := rest.CopyConfig(cfg)
	operatorCfg.Wrap(gate.wrap)
	// Metrics are served on a loopback port over plain HTTP, so that the tests
	// read them as Prometheus does (scrapeMetrics), through the manager's own
	// metrics server.
	ports, err := testenv.FreeLoopbackPorts(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	metricsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	opts.MetricsAddr, opts.SecureMetrics = metricsAddr, false
	operator, err := testenv.StartOperator(operatorCfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := operator.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	return code
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
