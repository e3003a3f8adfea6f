package resolve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
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

	p, err := One(spec, monitoringv1alpha1.Target{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("present", "k")}}}, lookup)
	if err != nil || !p.Checkable() || len(p.Check.Headers) != 1 || p.Check.Headers[0].Value != "v4lue" {
		t.Fatalf("present Secret: %+v, %v", p, err)
	}
	if p.Check.Timeout != 5*time.Second {
		t.Fatalf("timeout %v: the 8s default must be clamped to the 5s interval", p.Check.Timeout)
	}

	p, err = One(spec, monitoringv1alpha1.Target{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("absent", "k")}}}, lookup)
	if err != nil || p.Skip != monitoringv1alpha1.CheckSecretNotFound || p.SkipMessage != `Secret "absent" has no key "k" for header X-Key` {
		t.Fatalf("absent Secret: %+v, %v", p, err)
	}

	p, err = One(spec, monitoringv1alpha1.Target{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("absent", "k")}}}, Unreadable("which run cannot read"))
	if err != nil || p.Skip != monitoringv1alpha1.CheckSecretNotFound || p.SkipMessage != `header X-Key comes from key "k" of Secret "absent", which run cannot read` {
		t.Fatalf("unreadable Secret: %+v, %v", p, err)
	}

	if _, err = One(spec, monitoringv1alpha1.Target{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Headers: []monitoringv1alpha1.HTTPHeader{secretHeader("broken", "k")}}}, lookup); err == nil {
		t.Fatal("a failed lookup was not returned")
	}

	_, err = One(spec, monitoringv1alpha1.Target{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{BodyMatches: "(unclosed"}}, lookup)
	var invalid *InvalidSpecError
	if !errors.As(err, &invalid) {
		t.Fatalf("an invalid regexp gave %v, want an InvalidSpecError", err)
	}
}

// The longest names the API allows (253-character Secret names and keys, a
// 256-character header name) still give a message that fits status.
func TestSkipMessagesFitStatusAtTheLongestNames(t *testing.T) {
	name, key := strings.Repeat("n", 253), strings.Repeat("k", 253)
	for _, target := range []monitoringv1alpha1.Target{
		{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Headers: []monitoringv1alpha1.HTTPHeader{{Name: strings.Repeat("H", 256),
			ValueFrom: &monitoringv1alpha1.HeaderValueSource{SecretKeyRef: monitoringv1alpha1.SecretKeySelector{Name: name, Key: key}}}}}},
		{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Headers: []monitoringv1alpha1.HTTPHeader{{Name: strings.Repeat("H", 63),
			ValueFrom: &monitoringv1alpha1.HeaderValueSource{SecretKeyRef: monitoringv1alpha1.SecretKeySelector{Name: name, Key: key}}}}}},
		{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{TLS: &monitoringv1alpha1.TLSSpec{CABundleSecretRef: &monitoringv1alpha1.SecretKeySelector{Name: name, Key: key}}}},
	} {
		for _, lookup := range []SecretValue{
			func(monitoringv1alpha1.SecretKeySelector) (string, bool, error) { return "", false, nil },
			Unreadable("which run cannot read"),
		} {
			p, err := One(monitoringv1alpha1.HealthCheckSpec{}, target, lookup)
			if err != nil {
				t.Fatal(err)
			}
			if n := utf8.RuneCountInString(p.SkipMessage); n > monitoringv1alpha1.MaxMessageLength || n == 0 {
				t.Errorf("message of %d characters: %q", n, p.SkipMessage)
			}
			if !strings.Contains(p.SkipMessage, "nnnn"+monitoringv1alpha1.Ellipsis) {
				t.Errorf("the cut of the Secret's name does not show: %q", p.SkipMessage)
			}
		}
	}
}

// Check returns results aligned with the resolved list, skipped targets
// included, and reports each arriving result under its index in that list.
func TestCheckAlignsResultsWithTheResolvedTargets(t *testing.T) {
	targets := []Target{
		{URL: "https://a/", Check: checker.Target{URL: "https://a/"}},
		{URL: "https://b/", Skip: monitoringv1alpha1.CheckSecretNotFound},
		{URL: "https://c/", Check: checker.Target{URL: "https://c/"}},
	}
	run := func(_ context.Context, checks []checker.Target, _ int, onResult func(checker.Result)) []checker.Result {
		out := make([]checker.Result, len(checks))
		for i := len(checks) - 1; i >= 0; i-- { // in reverse, as a real round may
			out[i] = checker.Result{Index: i, URL: checks[i].URL, StatusCode: 200 + i}
			onResult(out[i])
		}
		return out
	}
	seen := map[int]string{}
	results := Runner{Run: run}.Check(context.Background(), targets, 2, func(i int, res Result) { seen[i] = res.URL })
	if results[0].URL != "https://a/" || results[1].URL != "" || results[2].URL != "https://c/" {
		t.Errorf("results not aligned with the targets: %+v", results)
	}
	if len(seen) != 2 || seen[0] != "https://a/" || seen[2] != "https://c/" {
		t.Errorf("each: %v", seen)
	}
}

func TestAnAssertionThatDoesNotCompileIsAnInvalidSpecNamingTheTarget(t *testing.T) {
	target := monitoringv1alpha1.Target{URL: "https://a.example/", Name: "shop", TargetSettings: monitoringv1alpha1.TargetSettings{Assertions: []monitoringv1alpha1.Assertion{
		{Expression: "response.code == 200"},
		{Expression: "response.json.status =="},
	}}}
	_, err := One(monitoringv1alpha1.HealthCheckSpec{}, target, nil)
	var invalid *InvalidSpecError
	if !errors.As(err, &invalid) || !strings.HasPrefix(invalid.Msg, "target shop: assertions[1].expression: ") {
		t.Fatalf("got %v, want an InvalidSpecError naming target shop and assertions[1]", err)
	}
}

func TestAssertionsAreCompiledOncePerContent(t *testing.T) {
	target := monitoringv1alpha1.Target{URL: "https://a.example/", TargetSettings: monitoringv1alpha1.TargetSettings{Assertions: []monitoringv1alpha1.Assertion{{Expression: "response.code == 200"}}}}
	first, err := One(monitoringv1alpha1.HealthCheckSpec{}, target, nil)
	if err != nil || first.Check.Assertions == nil {
		t.Fatalf("first resolve: %+v, %v", first, err)
	}
	again, err := One(monitoringv1alpha1.HealthCheckSpec{}, target, nil)
	if err != nil || again.Check.Assertions != first.Check.Assertions {
		t.Fatal("resolving the same assertions again must reuse the compiled program")
	}
	none, err := One(monitoringv1alpha1.HealthCheckSpec{}, monitoringv1alpha1.Target{URL: "https://a.example/"}, nil)
	if err != nil || none.Check.Assertions != nil {
		t.Fatalf("a target without assertions must have a nil Assertions interface, got %#v", none.Check.Assertions)
	}
}

func TestTheClientCertificateIsReadFromTheTLSSecretsKeys(t *testing.T) {
	lookup := func(ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
		if ref.Name != "client" {
			return "", false, nil
		}
		return map[string]string{"tls.crt": "CERT", "tls.key": "KEY"}[ref.Key], ref.Key == "tls.crt" || ref.Key == "tls.key", nil
	}
	tlsSpec := func(name string) *monitoringv1alpha1.TLSSpec {
		return &monitoringv1alpha1.TLSSpec{ClientCertificateSecretRef: &monitoringv1alpha1.SecretReference{Name: name}}
	}
	p, err := One(monitoringv1alpha1.HealthCheckSpec{}, monitoringv1alpha1.Target{URL: "tls://db.example:5432", TargetSettings: monitoringv1alpha1.TargetSettings{TLS: tlsSpec("client")}}, lookup)
	if err != nil || string(p.Check.ClientCertificate) != "CERT" || string(p.Check.ClientKey) != "KEY" {
		t.Fatalf("client certificate: %+v, %v", p.Check, err)
	}
	p, err = One(monitoringv1alpha1.HealthCheckSpec{}, monitoringv1alpha1.Target{URL: "tls://db.example:5432", TargetSettings: monitoringv1alpha1.TargetSettings{TLS: tlsSpec("gone")}}, lookup)
	if err != nil || p.Skip != monitoringv1alpha1.CheckSecretNotFound || p.SkipMessage != `Secret "gone" has no key "tls.crt" for the client certificate` {
		t.Fatalf("missing client certificate Secret: %+v, %v", p, err)
	}
}
