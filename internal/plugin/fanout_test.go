package plugin_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

// answering is a loopback server answering every request with code, and the
// number of requests it got. Its URL has an IP-literal host, 127.0.0.1.
func answering(t *testing.T, code int) (string, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &requests
}

// rowsByName indexes the rows of a JSON report by target name.
func rowsByName(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	rows := map[string]map[string]any{}
	for _, r := range jsonRows(t, out) {
		name, _ := r["name"].(string)
		rows[name] = r
	}
	return rows
}

func TestRunFansOutToTheAddressesOfTheHost(t *testing.T) {
	ok, _ := answering(t, http.StatusOK)
	failing, _ := answering(t, http.StatusServiceUnavailable)
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: fan, namespace: ci}
spec:
  targets:
  - url: ` + ok + `/
    name: up
    fanOut: {mode: Addresses}
  - url: ` + ok + `/slow
    name: slow
    slowThreshold: 1s
    fanOut: {mode: Addresses, minHealthy: 1}
  - url: ` + failing + `/
    name: down
    fanOut: {mode: Addresses, minHealthy: "50%"}
  - url: ` + ok + `/plain
    name: plain
`
	got := runPlugin(t, clock1500, manifest, "run", "-f", "-", "-o", "json")
	if got.code != plugin.ExitDown || got.stderr != "" {
		t.Errorf("exit status %d, stderr %q; want %d (a target is Down) and nothing", got.code, got.stderr, plugin.ExitDown)
	}
	rows := rowsByName(t, got.stdout)
	if len(rows) != 4 {
		t.Fatalf("want 4 rows, got:\n%s", got.stdout)
	}

	counts := func(total, up, slow, down float64) map[string]any {
		return map[string]any{"total": total, "up": up, "slow": slow, "down": down}
	}
	for name, want := range map[string]struct {
		state, message string
		backends       map[string]any
	}{
		"up":   {"Up", "1 of 1 backends healthy: the slowest, 127.0.0.1, returned 200 in 1.5s", counts(1, 1, 0, 0)},
		"slow": {"Slow", "1 of 1 backends healthy, 1 Slow: 127.0.0.1 returned 200 in 1.5s, slower than 1s", counts(1, 0, 1, 0)},
		"down": {"Down", "0 of 1 backends healthy, fewer than 1: 127.0.0.1 returned 503 in 1.5s, expected 200-299", counts(1, 0, 0, 1)},
	} {
		r := rows[name]
		if r["state"] != want.state || r["message"] != want.message {
			t.Errorf("%s: state %v, message %q; want %s, %q", name, r["state"], r["message"], want.state, want.message)
		}
		if !reflect.DeepEqual(r["backends"], want.backends) {
			t.Errorf("%s: backends %v, want %v", name, r["backends"], want.backends)
		}
	}
	for _, name := range []string{"up", "slow"} {
		if _, present := rows[name]["failingBackends"]; present {
			t.Errorf("%s: failingBackends in a row without a failing backend: %v", name, rows[name])
		}
	}

	down := rows["down"]
	if down["statusCode"] != 503.0 || down["reason"] != "UnexpectedStatus" {
		t.Errorf("down: statusCode %v, reason %v; want 503, UnexpectedStatus", down["statusCode"], down["reason"])
	}
	failingBackends, _ := down["failingBackends"].([]any)
	wantFailing := []any{map[string]any{
		"address": "127.0.0.1", "reason": "UnexpectedStatus", "statusCode": 503.0, "latencyMs": 1500.0,
		"message": "returned 503 in 1.5s, expected 200-299",
	}}
	if !reflect.DeepEqual(failingBackends, wantFailing) {
		t.Errorf("down: failingBackends %v, want %v (no pod or zone: an address has none)", down["failingBackends"], wantFailing)
	}

	plain := rows["plain"]
	if _, present := plain["backends"]; present {
		t.Errorf("plain: backends in a row of a target that does not fan out: %v", plain)
	}
	if _, present := plain["failingBackends"]; present {
		t.Errorf("plain: failingBackends in a row of a target that does not fan out: %v", plain)
	}

	// The table and CSV keep their columns: the message counts the backends.
	got = runPlugin(t, clock1500, manifest, "run", "-f", "-")
	if !containsLine(got.stdout, "503          1500.0 "+failing+"/ [DOWN]") {
		t.Errorf("table lacks the Down target:\n%s", got.stdout)
	}
	got = runPlugin(t, clock1500, manifest, "run", "-f", "-", "-o", "csv")
	if !containsLine(got.stdout, "ci/fan,"+failing+`/,down,503,1500.0,Down,UnexpectedStatus,"0 of 1 backends healthy, fewer than 1: 127.0.0.1 returned 503 in 1.5s, expected 200-299",`) {
		t.Errorf("CSV lacks the Down target with its columns unchanged:\n%s", got.stdout)
	}
}

func TestRunChecksAnEndpointsFanOutOnce(t *testing.T) {
	server, requests := answering(t, http.StatusOK)
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: fan, namespace: ci}
spec:
  targets:
  - url: ` + server + `/
    name: web
    fanOut: {mode: Endpoints, minHealthy: 2}
  - url: ` + server + `/private
    name: private
    fanOut: {mode: Endpoints}
    headers:
    - name: Authorization
      valueFrom: {secretKeyRef: {name: api-token, key: token}}
  targetsFrom:
  - services: {selector: {}, port: http}
    template:
      fanOut: {mode: Endpoints}
`
	got := runPlugin(t, clock1500, manifest, "run", "-f", "-", "-o", "json")
	if got.code != plugin.ExitOK {
		t.Errorf("exit status = %d, want %d; stderr:\n%s", got.code, plugin.ExitOK, got.stderr)
	}
	// One note per target: the source is skipped whole, template and all, and
	// a target that is not checked is not said to be checked once.
	want := "note: <stdin>: HealthCheck ci/fan: targetsFrom[0] (services) is skipped: run reads no cluster, so it discovers nothing\n" +
		"note: <stdin>: HealthCheck ci/fan: target web: fanOut mode Endpoints reads the Service's EndpointSlices, which run cannot read: the URL is checked once\n" +
		"note: <stdin>: HealthCheck ci/fan: target private is not checked: header Authorization comes from key \"token\" of Secret \"api-token\", which run cannot read\n"
	if got.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", got.stderr, want)
	}
	web := rowsByName(t, got.stdout)["web"]
	if web["state"] != "Up" || web["statusCode"] != 200.0 || web["message"] != "returned 200 in 1.5s" {
		t.Errorf("web: state %v, statusCode %v, message %q; want the URL's own check, Up, 200", web["state"], web["statusCode"], web["message"])
	}
	for _, field := range []string{"backends", "failingBackends"} {
		if _, present := web[field]; present {
			t.Errorf("web: %s in the row of a target checked once: %v", field, web)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the server got %d requests, want 1", n)
	}
	if strings.Contains(got.stdout, "NoBackends") {
		t.Errorf("a target is NoBackends:\n%s", got.stdout)
	}
}

func TestStatusShowsTheBackendsOfAFannedOutTarget(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	transition := at(5 * time.Minute)
	c.createWithStatus(t, &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Name: "fan", Namespace: ns},
		Spec: monitoringv1alpha1.HealthCheckSpec{
			Targets: []monitoringv1alpha1.Target{
				{URL: "http://web." + ns + ".svc/", Name: "web", TargetSettings: monitoringv1alpha1.TargetSettings{
					FanOut: &monitoringv1alpha1.FanOut{Mode: monitoringv1alpha1.FanOutEndpoints}}},
				{URL: "https://a.example/"},
			},
		},
		Status: monitoringv1alpha1.HealthCheckStatus{
			LastRunTime:     at(12 * time.Second),
			LastRunDuration: &metav1.Duration{Duration: 30 * time.Millisecond},
			Targets: []monitoringv1alpha1.TargetStatus{
				{URL: "http://web." + ns + ".svc/", Name: "web", State: monitoringv1alpha1.StateUp, StatusCode: 200, LatencyMs: 4,
					Reason: monitoringv1alpha1.CheckOK, LastTransitionTime: transition,
					Message:  "2 of 3 backends healthy, 1 Down: pod web-1 (10.0.0.5, zone b) returned 503 in 3ms, expected 200-299",
					Backends: &monitoringv1alpha1.BackendSummary{Total: 3, Up: 1, Slow: 1, Down: 1},
					FailingBackends: []monitoringv1alpha1.BackendStatus{{
						Address: "10.0.0.5", Pod: "web-1", Zone: "b", Reason: monitoringv1alpha1.CheckUnexpectedStatus,
						StatusCode: 503, LatencyMs: 3, Message: "returned 503 in 3ms, expected 200-299",
					}}},
				{URL: "https://a.example/", Name: "https://a.example/", State: monitoringv1alpha1.StateUp, StatusCode: 200, LatencyMs: 12,
					Reason: monitoringv1alpha1.CheckOK, Message: "returned 200 in 12ms", LastTransitionTime: transition},
			},
		},
	})
	clock := &fixedClock{now: testNow}

	got := runPlugin(t, clock, "", "status", "fan", "--kubeconfig", c.kubeconfig, "-n", ns, "-o", "json")
	if got.code != plugin.ExitOK || got.stderr != "" {
		t.Errorf("exit status %d, stderr %q; want %d and nothing", got.code, got.stderr, plugin.ExitOK)
	}
	want := `{"healthCheck":"NAMESPACE/fan","url":"http://web.NAMESPACE.svc/","name":"web","statusCode":200,"latencyMs":4,"state":"Up","reason":"OK",` +
		`"message":"2 of 3 backends healthy, 1 Down: pod web-1 (10.0.0.5, zone b) returned 503 in 3ms, expected 200-299",` +
		`"backends":{"total":3,"up":1,"slow":1,"down":1},` +
		`"failingBackends":[{"address":"10.0.0.5","pod":"web-1","zone":"b","reason":"UnexpectedStatus","statusCode":503,"latencyMs":3,"message":"returned 503 in 3ms, expected 200-299"}],` +
		`"lastTransitionTime":"2026-05-01T11:55:00Z"}`
	out := strings.ReplaceAll(got.stdout, ns, "NAMESPACE")
	if !containsLine(out, want) {
		t.Errorf("status -o json lacks the line\n%s\nin:\n%s", want, out)
	}
	plain := rowsByName(t, got.stdout)["https://a.example/"]
	for _, field := range []string{"backends", "failingBackends"} {
		if _, present := plain[field]; present {
			t.Errorf("%s in the row of a target that does not fan out: %v", field, plain)
		}
	}

	// The table keeps its columns.
	got = runPlugin(t, clock, "", "status", "fan", "--kubeconfig", c.kubeconfig, "-n", ns)
	if !containsLine(got.stdout, "Status    Time (ms) State    Reason            Last Transition URL") ||
		!containsLine(strings.ReplaceAll(got.stdout, ns, "NAMESPACE"), "200             4.0 Up       OK                5m              http://web.NAMESPACE.svc/") {
		t.Errorf("status table:\n%s", got.stdout)
	}
}
