package plugin

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// targetOf resolves one target as run does.
func targetOf(t *testing.T, spec monitoringv1alpha1.HealthCheckSpec, target monitoringv1alpha1.Target) resolve.Target {
	t.Helper()
	spec.Targets = []monitoringv1alpha1.Target{target}
	targets, err := targetsOf(&monitoringv1alpha1.HealthCheck{Spec: spec})
	if err != nil || len(targets) != 1 {
		t.Fatalf("targetsOf: %v, %d targets", err, len(targets))
	}
	return targets[0]
}

// TestTargetsOfResolvesLikeTheOperator pins the rules of internal/resolve, as run sees them.
func TestTargetsOfResolvesLikeTheOperator(t *testing.T) {
	no := false
	const url = "https://a.example/x?token=s3cret"
	cases := []struct {
		name   string
		spec   monitoringv1alpha1.HealthCheckSpec
		target monitoringv1alpha1.Target
		want   resolve.Target
	}{
		{
			name:   "defaults: 8s timeout, 2s slow threshold, redacted display name",
			spec:   monitoringv1alpha1.HealthCheckSpec{Interval: dur(30 * time.Second)},
			target: monitoringv1alpha1.Target{URL: url, TargetSettings: monitoringv1alpha1.TargetSettings{Method: "GET"}},
			want: resolve.Target{URL: url, Name: "https://a.example/x?token=REDACTED",
				Check: checker.Target{URL: url, Method: "GET", Timeout: 8 * time.Second, SlowThreshold: 2 * time.Second, Expected: checker.DefaultStatusCodes}},
		},
		{
			name:   "the timeout is clamped to a short interval",
			spec:   monitoringv1alpha1.HealthCheckSpec{Interval: dur(5 * time.Second)},
			target: monitoringv1alpha1.Target{URL: url, Name: "x"},
			want:   resolve.Target{URL: url, Name: "x", StatusName: "x", Check: checker.Target{URL: url, Timeout: 5 * time.Second, SlowThreshold: 2 * time.Second, Expected: checker.DefaultStatusCodes}},
		},
		{
			name:   "the spec's timeout and slow threshold",
			spec:   monitoringv1alpha1.HealthCheckSpec{Interval: dur(time.Minute), Timeout: dur(20 * time.Second), SlowThreshold: dur(5 * time.Second)},
			target: monitoringv1alpha1.Target{URL: url, Name: "x"},
			want:   resolve.Target{URL: url, Name: "x", StatusName: "x", Check: checker.Target{URL: url, Timeout: 20 * time.Second, SlowThreshold: 5 * time.Second, Expected: checker.DefaultStatusCodes}},
		},
		{
			name: "the target's own, over the spec's",
			spec: monitoringv1alpha1.HealthCheckSpec{Interval: dur(time.Minute), Timeout: dur(20 * time.Second), SlowThreshold: dur(5 * time.Second)},
			target: monitoringv1alpha1.Target{URL: url, Name: "x", TargetSettings: monitoringv1alpha1.TargetSettings{Timeout: dur(3 * time.Second), SlowThreshold: dur(time.Second),
				FollowRedirects: &no, TLS: &monitoringv1alpha1.TLSSpec{InsecureSkipVerify: true},
				ExpectedStatusCodes: []string{"301"}, Headers: []monitoringv1alpha1.HTTPHeader{{Name: "Accept", Value: "text/plain"}}}},
			want: resolve.Target{URL: url, Name: "x", StatusName: "x", Check: checker.Target{URL: url, Timeout: 3 * time.Second, SlowThreshold: time.Second,
				NoFollowRedirects: true, InsecureSkipVerify: true, Expected: mustCodes(t, "301"),
				Headers: []checker.Header{{Name: "Accept", Value: "text/plain"}}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := targetOf(t, tc.spec, tc.target); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("targetsOf:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestTargetsOfSkipsTargetsThatNeedASecret(t *testing.T) {
	ref := monitoringv1alpha1.SecretKeySelector{Name: "api", Key: "token"}
	cases := map[string]monitoringv1alpha1.Target{
		`header X-Key comes from key "token" of Secret "api"`: {URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{
			Headers: []monitoringv1alpha1.HTTPHeader{{Name: "X-Key", ValueFrom: &monitoringv1alpha1.HeaderValueSource{SecretKeyRef: ref}}}}},
		`the CA bundle comes from key "token" of Secret "api"`: {URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{
			TLS: &monitoringv1alpha1.TLSSpec{CABundleSecretRef: &ref}}},
	}
	for want, target := range cases {
		p := targetOf(t, monitoringv1alpha1.HealthCheckSpec{}, target)
		if p.Skip != monitoringv1alpha1.CheckSecretNotFound || !strings.HasPrefix(p.SkipMessage, want) {
			t.Errorf("skip = %q %q, want SecretNotFound and a message starting with %q", p.Skip, p.SkipMessage, want)
		}
	}
}

func mustCodes(t *testing.T, entries ...string) checker.StatusCodes {
	t.Helper()
	codes, err := checker.ParseStatusCodes(entries)
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestListTargetsResolvesLikeTargetsOf: a URL list, resolved in parts and a
// URL at a time, is what resolving it as the targets of one HealthCheck gives.
func TestListTargetsResolvesLikeTargetsOf(t *testing.T) {
	var urls []listedURL
	spec := monitoringv1alpha1.HealthCheckSpec{Timeout: dur(3 * time.Second), SlowThreshold: dur(time.Second)}
	for i := range 10000 {
		u := []string{"http://a.example/%d", "https://b.example:8443/x?token=s3cret&n=%d", "tcp://db.example:%d", "grpcs://api.example:9443/svc%d"}[i%4]
		u = fmt.Sprintf(u, i+1)
		urls = append(urls, listedURL{url: u, file: "--url"})
		spec.Targets = append(spec.Targets, monitoringv1alpha1.Target{URL: u})
	}
	got, err := listTargets(urls, 3*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want, err := targetsOf(&monitoringv1alpha1.HealthCheck{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listTargets differs from targetsOf, e.g. first target:\n got %+v\nwant %+v", got[0], want[0])
	}
}
