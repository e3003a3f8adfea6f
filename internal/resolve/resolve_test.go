package resolve

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func secretHeader(name, key string) monitoringv1alpha1.HTTPHeader {
	return monitoringv1alpha1.HTTPHeader{Name: "X-Key", ValueFrom: &monitoringv1alpha1.HeaderValueSource{
		SecretKeyRef: monitoringv1alpha1.SecretKeySelector{Name: name, Key: key}}}
}

func TestSecretValuesAreLookedUpAndMissingOnesReported(t *testing.T) {
	lookup := func(ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
		switch ref.Name {
		case "present":
			return "v4lue", true, nil
		case "broken":
			return "", false, errors.New("the API server is down")
		}
		return "", false, nil
	}
	spec := monitoringv1alpha1.HealthCheckSpec{Interval: &metav1.Duration{Duration: 5 * time.Second}}

	p, err := Target(spec, monitoringv1alpha1.Target{URL: "https://a.example/", Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("present", "k")}}, lookup)
	if err != nil || p.MissingSecret != nil || len(p.Target.Headers) != 1 || p.Target.Headers[0].Value != "v4lue" {
		t.Fatalf("present Secret: %+v, %v", p, err)
	}
	if p.Target.Timeout != 5*time.Second {
		t.Fatalf("timeout %v: the 8s default must be clamped to the 5s interval", p.Target.Timeout)
	}

	p, err = Target(spec, monitoringv1alpha1.Target{URL: "https://a.example/", Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("absent", "k")}}, lookup)
	if err != nil || p.MissingSecret == nil || p.MissingSecret.Name != "absent" || p.MissingFor != "header X-Key" {
		t.Fatalf("absent Secret: %+v, %v", p, err)
	}

	if _, err = Target(spec, monitoringv1alpha1.Target{URL: "https://a.example/", Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("broken", "k")}}, lookup); err == nil {
		t.Fatal("a failed lookup was not returned")
	}

	_, err = Target(spec, monitoringv1alpha1.Target{URL: "https://a.example/", BodyMatches: "(unclosed"}, NoSecrets)
	var invalid *InvalidSpecError
	if !errors.As(err, &invalid) {
		t.Fatalf("an invalid regexp gave %v, want an InvalidSpecError", err)
	}
}
