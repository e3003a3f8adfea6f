package plugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

// createWithStatus creates a HealthCheck and writes its status through the
// status subresource, as the operator would.
func (c *cluster) createWithStatus(t *testing.T, hc *monitoringv1alpha1.HealthCheck) {
	t.Helper()
	status := hc.Status
	if err := c.client.Create(context.Background(), hc); err != nil {
		t.Fatalf("creating HealthCheck: %v", err)
	}
	hc.Status = status
	if err := c.client.Status().Update(context.Background(), hc); err != nil {
		t.Fatalf("writing status: %v", err)
	}
}

func at(d time.Duration) *metav1.Time {
	t := metav1.NewTime(testNow.Add(-d))
	return &t
}

// webHealthCheck has targets in every state: Up, Slow (with a token in its
// URL), Down with a status code, Down without an answer, and one added to the
// spec since the last round.
func webHealthCheck(ns string) *monitoringv1alpha1.HealthCheck {
	transition := at(5 * time.Minute)
	return &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: monitoringv1alpha1.HealthCheckSpec{
			Interval: &metav1.Duration{Duration: time.Minute},
			Targets: []monitoringv1alpha1.Target{
				{URL: "https://a.example/get", Name: "get"},
				{URL: "https://a.example/slow?token=s3cret"},
				{URL: "https://b.example/"},
				{URL: "https://c.example/"},
				{URL: "https://d.example/new"},
			},
		},
		Status: monitoringv1alpha1.HealthCheckStatus{
			LastRunTime:     at(12 * time.Second),
			LastRunDuration: &metav1.Duration{Duration: 1210 * time.Millisecond},
			Targets: []monitoringv1alpha1.TargetStatus{
				{URL: "https://a.example/get", Name: "get", State: monitoringv1alpha1.StateUp, StatusCode: 200, LatencyMs: 312,
					Reason: monitoringv1alpha1.CheckOK, Message: "returned 200 in 312ms", LastTransitionTime: at(2 * time.Hour)},
				{URL: "https://a.example/slow?token=s3cret", Name: "https://a.example/slow?token=REDACTED", State: monitoringv1alpha1.StateSlow, StatusCode: 200, LatencyMs: 2400,
					Reason: monitoringv1alpha1.CheckSlowResponse, Message: "returned 200 in 2.4s, slower than 2s", LastTransitionTime: transition},
				{URL: "https://b.example/", Name: "https://b.example/", State: monitoringv1alpha1.StateDown, StatusCode: 503, LatencyMs: 20,
					Reason: monitoringv1alpha1.CheckUnexpectedStatus, Message: "returned 503 in 20ms, expected 200-299", LastTransitionTime: transition},
				{URL: "https://c.example/", Name: "https://c.example/", State: monitoringv1alpha1.StateDown, StatusCode: 0, LatencyMs: 1,
					Reason: monitoringv1alpha1.CheckConnectionRefused, Message: "connection refused", LastTransitionTime: transition},
			},
		},
	}
}

func TestStatusPrintsTheTargetsOfALiveHealthCheck(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	c.createWithStatus(t, webHealthCheck(ns))
	clock := &fixedClock{now: testNow}

	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"status", "web", "--kubeconfig", c.kubeconfig, "-n", ns}
			if format != "table" {
				args = append(args, "-o", format)
			}
			got := runPlugin(t, clock, "", args...)
			if got.code != plugin.ExitDown || got.stderr != "" {
				t.Errorf("exit status %d, stderr %q; want %d (targets are Down) and nothing", got.code, got.stderr, plugin.ExitDown)
			}
			assertGolden(t, "status_"+format+".golden", strings.ReplaceAll(got.stdout, ns, "NAMESPACE"))
		})
	}
}

func TestStatusListsHealthChecks(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	other := c.newNamespace(t)
	c.createWithStatus(t, webHealthCheck(ns))
	fresh := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Name: "fresh", Namespace: other},
		Spec:       monitoringv1alpha1.HealthCheckSpec{Targets: []monitoringv1alpha1.Target{{URL: "https://example.com/"}}},
	}
	c.createWithStatus(t, fresh)
	clock := &fixedClock{now: testNow}
	kubeconfig := "--kubeconfig=" + c.kubeconfig

	// A HealthCheck not checked yet: its targets are Pending, which is not Down.
	got := runPlugin(t, clock, "", "status", kubeconfig, "-n", other)
	want := "HealthCheck " + other + `/fresh
Status of 1 URLs, checked every 30s

Status    Time (ms) State    Reason            Last Transition URL
------------------------------------------------------------------
-                 - Pending                    -               https://example.com/ [PENDING]

Not checked yet | OK: 0/1
`
	if got.code != plugin.ExitOK || got.stdout != want {
		t.Errorf("status -n %s: exit status %d, stdout:\n%s\nwant 0 and:\n%s", other, got.code, got.stdout, want)
	}

	got = runPlugin(t, clock, "", "status", kubeconfig, "-A", "-o", "json")
	for _, line := range []string{
		`{"healthCheck":"` + ns + `/web","summary":{"total":5,"ok":2,"up":1,"slow":1,"down":2,"pending":1,"lastRunTime":"2026-05-01T11:59:48Z","durationSeconds":1.21}}`,
		`{"healthCheck":"` + other + `/fresh","summary":{"total":1,"ok":0,"up":0,"slow":0,"down":0,"pending":1,"durationSeconds":0}}`,
	} {
		if !containsLine(got.stdout, line) {
			t.Errorf("status -A -o json lacks the line %s:\n%s", line, got.stdout)
		}
	}
	if got.code != plugin.ExitDown {
		t.Errorf("status -A: exit status %d, want %d", got.code, plugin.ExitDown)
	}
}

func TestStatusErrors(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"a missing HealthCheck", []string{"status", "nope", "-n", ns, "--kubeconfig", c.kubeconfig},
			`error: HealthCheck "nope" in namespace "` + ns + `" not found`},
		{"no HealthCheck in the namespace", []string{"status", "-n", ns, "--kubeconfig", c.kubeconfig},
			"No HealthChecks found."},
		{"a NAME with -A", []string{"status", "web", "-A", "--kubeconfig", c.kubeconfig},
			"error: a NAME cannot be combined with --all-namespaces"},
		{"two names", []string{"status", "a", "b", "--kubeconfig", c.kubeconfig},
			`error: kubectl healthcheck status takes at most one NAME, got ["a" "b"]`},
		{"a missing kubeconfig", []string{"status", "web", "--kubeconfig", c.kubeconfig + ".missing"},
			""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runPlugin(t, nil, "", tc.args...)
			want := plugin.ExitError
			if tc.stderr == "No HealthChecks found." {
				want = plugin.ExitOK
			}
			if got.code != want || got.stdout != "" {
				t.Errorf("exit status %d, stdout %q; want %d and nothing", got.code, got.stdout, want)
			}
			if tc.stderr != "" && !containsLine(got.stderr, tc.stderr) {
				t.Errorf("stderr lacks the line %q:\n%s", tc.stderr, got.stderr)
			}
			if tc.stderr == "" && !strings.HasPrefix(got.stderr, "error: ") {
				t.Errorf("stderr = %q, want an error", got.stderr)
			}
		})
	}
}

func TestStatusSaysHowAvailableAHealthCheckWas(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	hc := webHealthCheck(ns)
	hc.Spec.Objective = &monitoringv1alpha1.Objective{Availability: "99.9"}
	hc.Status.Availability = &monitoringv1alpha1.AvailabilityStatus{
		Window: &metav1.Duration{Duration: 720 * time.Hour}, Ratio: "99.9731", GoodChecks: 37190, TotalChecks: 37200,
		ErrorBudgetRemaining: "73.1",
	}
	c.createWithStatus(t, hc)
	got := runPlugin(t, &fixedClock{now: testNow}, "", "status", "web", "--kubeconfig", c.kubeconfig, "-n", ns)
	want := "Status of 5 URLs, checked every 1m; 99.9731% available over 720h, 73.1% of the error budget left"
	if !containsLine(got.stdout, want) {
		t.Errorf("status lacks the line %q:\n%s", want, got.stdout)
	}
}
