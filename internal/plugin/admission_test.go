package plugin_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

// TestRunValidatesLikeTheAPIServer applies each manifest to the plugin's loader
// and, as kubectl would (strict field validation), to a real API server: both
// must accept or both reject it. When both reject it, the server's error holds
// each of the plugin's reasons word for word; when both accept it, the plugin's
// defaulted spec is the one the server stored.
func TestRunValidatesLikeTheAPIServer(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	sample, err := os.ReadFile("../../config/samples/monitoring_v1alpha1_healthcheck.yaml")
	if err != nil {
		t.Fatal(err)
	}
	targets := func(n int) string {
		var b strings.Builder
		b.WriteString("spec:\n  targets:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - url: http://example.com/%d\n", i)
		}
		return b.String()
	}
	const url = `url: "http://a.example/"`
	cases := []struct {
		name     string
		manifest string
		valid    bool
	}{
		{"minimal", `spec: {targets: [{url: "https://example.com/"}]}`, true},
		{"the public sample", string(sample), true},
		{"every field", `spec:
  interval: 1h30m
  timeout: 1500ms
  slowThreshold: 500ms
  workers: 100
  failureThreshold: 10
  successThreshold: 10
  suspend: true
  targets:
  - url: https://example.com/healthz?verbose=1#top
    name: example
    method: HEAD
    expectedStatusCodes: ["200", "301-302"]
    timeout: 1s
    slowThreshold: 999ms
    followRedirects: false
    tls: {insecureSkipVerify: true}
    headers:
    - {name: X-Api-Key, valueFrom: {secretKeyRef: {name: api, key: token}}}
    - {name: Accept, value: application/json}
  - url: HTTPS://[::1]:8443/`, true},
		{"500 targets", targets(500), true},
		{"generateName only", `{metadata: {generateName: web-}, spec: {targets: [{` + url + `}]}}`, true},
		{"status in the manifest is dropped", `{spec: {targets: [{` + url + `}]}, status: {summary: {total: 3}}}`, true},

		{"a CA bundle from a Secret", `spec: {targets: [{` + url + `, tls: {caBundleSecretRef: {name: ca, key: ca.crt}}}]}`, true},
		{"every scheme", `spec:
  targets:
  - url: tcp://db.example:5432
  - url: TLS://mail.example:465/
    tls: {clientCertificateSecretRef: {name: client-cert}}
  - url: grpc://api.example:9090
  - url: grpcs://api.example:9443/shop.Cart
    method: GET
    expectedStatusCodes: ["200-299"]
    followRedirects: true
    assertions:
    - {expression: 'response.grpc.status == "SERVING"', message: cart serves}
  - url: https://example.com/actuator/health
    assertions: [{expression: 'response.json.status == "UP"'}]`, true},
		{"method on a tcp url", `spec: {targets: [{url: "tcp://db.example:5432", method: HEAD}]}`, false},
		{"status codes on a grpc url", `spec: {targets: [{url: "grpc://api.example:9090", expectedStatusCodes: ["200"]}]}`, false},
		{"bodyContains on a tls url", `spec: {targets: [{url: "tls://mail.example:465", bodyContains: ok}]}`, false},
		{"bodyMatches on a grpcs url", `spec: {targets: [{url: "grpcs://api.example:9443", bodyMatches: ok}]}`, false},
		{"headers on a grpc url", `spec: {targets: [{url: "grpc://api.example:9090", headers: [{name: X-Key, value: v}]}]}`, false},
		{"no redirects on a tcp url", `spec: {targets: [{url: "tcp://db.example:5432", followRedirects: false}]}`, false},
		{"a tcp url without a port", `spec: {targets: [{url: "tcp://db.example"}]}`, false},
		{"a tls url with a path", `spec: {targets: [{url: "tls://mail.example:465/inbox"}]}`, false},
		{"a udp url", `spec: {targets: [{url: "udp://dns.example:53"}]}`, false},
		{"an empty expression", `spec: {targets: [{` + url + `, assertions: [{expression: ""}]}]}`, false},
		{"17 assertions", `spec: {targets: [{` + url + `, assertions: [` + strings.Repeat(`{expression: "true"}, `, 16) + `{expression: "true"}]}]}`, false},

		{"no targets", `spec: {targets: []}`, false},
		{"targets missing", `spec: {interval: 30s}`, false},
		{"spec missing", `{}`, false},
		{"501 targets", targets(501), false},
		{"targets as a map", `spec: {targets: {url: "http://a.example/"}}`, false},
		{"empty url", `spec: {targets: [{url: ""}]}`, false},
		{"url as a number", `spec: {targets: [{url: 5}]}`, false},
		{"relative url", `spec: {targets: [{url: /healthz}]}`, false},
		{"ftp url", `spec: {targets: [{url: "ftp://example.com/x"}]}`, false},
		{"host-less url", `spec: {targets: [{url: "http:///healthz"}]}`, false},
		{"credentials in url", `spec: {targets: [{url: "https://user:pw@example.com/"}]}`, false},
		{"url too long", `spec: {targets: [{url: "http://example.com/` + strings.Repeat("a", 2030) + `"}]}`, false},
		{"duplicate urls", `spec: {targets: [{` + url + `}, {` + url + `}]}`, false},
		{"interval in days", `spec: {interval: 1d, targets: [{` + url + `}]}`, false},
		{"zero interval", `spec: {interval: 0s, targets: [{` + url + `}]}`, false},
		{"negative interval", `spec: {interval: -1s, targets: [{` + url + `}]}`, false},
		{"interval in microseconds", `spec: {interval: 100us, targets: [{` + url + `}]}`, false},
		{"fractional interval", `spec: {interval: 1.5s, targets: [{` + url + `}]}`, false},
		{"interval as a number", `spec: {interval: 30, targets: [{` + url + `}]}`, false},
		{"zero timeout", `spec: {timeout: 0s, targets: [{` + url + `}]}`, false},
		{"timeout above interval", `spec: {interval: 10s, timeout: 11s, targets: [{` + url + `}]}`, false},
		{"target timeout above interval", `spec: {interval: 10s, targets: [{` + url + `, timeout: 1m}]}`, false},
		{"slow threshold at timeout", `spec: {timeout: 2s, slowThreshold: 2s, targets: [{` + url + `}]}`, false},
		{"target slow threshold above its timeout", `spec: {targets: [{` + url + `, timeout: 1s, slowThreshold: 3s}]}`, false},
		{"zero workers", `spec: {workers: 0, targets: [{` + url + `}]}`, false},
		{"101 workers", `spec: {workers: 101, targets: [{` + url + `}]}`, false},
		{"workers as a word", `spec: {workers: ten, targets: [{` + url + `}]}`, false},
		{"fractional workers", `spec: {workers: 1.5, targets: [{` + url + `}]}`, false},
		{"failure threshold 11", `spec: {failureThreshold: 11, targets: [{` + url + `}]}`, false},
		{"success threshold 0", `spec: {successThreshold: 0, targets: [{` + url + `}]}`, false},
		{"suspend as a word", `spec: {suspend: "yes", targets: [{` + url + `}]}`, false},
		{"method POST", `spec: {targets: [{` + url + `, method: POST}]}`, false},
		{"status code word", `spec: {targets: [{` + url + `, expectedStatusCodes: ["2xx"]}]}`, false},
		{"status code 600", `spec: {targets: [{` + url + `, expectedStatusCodes: ["600"]}]}`, false},
		{"status range reversed", `spec: {targets: [{` + url + `, expectedStatusCodes: ["299-200"]}]}`, false},
		{"target name too long", `spec: {targets: [{` + url + `, name: ` + strings.Repeat("n", 129) + `}]}`, false},
		{"header name with a space", `spec: {targets: [{` + url + `, headers: [{name: "X Key", value: v}]}]}`, false},
		{"header value with CR LF", `spec: {targets: [{` + url + `, headers: [{name: X-Key, value: "a\r\nInjected: 1"}]}]}`, false},
		{"header value with LF", `spec: {targets: [{` + url + `, headers: [{name: X-Key, value: "a\nb"}]}]}`, false},
		{"header without value", `spec: {targets: [{` + url + `, headers: [{name: X-Key}]}]}`, false},
		{"header with both values", `spec: {targets: [{` + url + `, headers: [{name: X-Key, value: v, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]}`, false},
		{"duplicate header names", `spec: {targets: [{` + url + `, headers: [{name: X-Key, value: a}, {name: X-Key, value: b}]}]}`, false},
		{"11 headers", `spec: {targets: [{` + url + `, headers: [` + strings.Repeat(`{name: X, value: v}, `, 10) + `{name: Y, value: v}]}]}`, false},
		{"a CA bundle and no verification", `spec: {targets: [{` + url + `, tls: {insecureSkipVerify: true, caBundleSecretRef: {name: ca, key: ca.crt}}}]}`, false},
		{"unknown spec field", `spec: {intervall: 30s, targets: [{` + url + `}]}`, false},
		{"unknown target field", `spec: {targets: [{` + url + `, retries: 3}]}`, false},
		{"unknown metadata field", `{metadata: {nmae: x}, spec: {targets: [{` + url + `}]}}`, false}, //nolint:misspell // the typo is the test
		{"bad name", `{metadata: {name: Web_1}, spec: {targets: [{` + url + `}]}}`, false},
		{"no name", `{metadata: {labels: {a: b}}, spec: {targets: [{` + url + `}]}}`, false},
		{"several problems at once", `spec: {interval: 1d, workers: 0, targets: [{url: "ftp://x", method: PUT}]}`, false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			manifest, urls := caseManifest(t, tc.manifest, ns, fmt.Sprintf("case-%d", i))
			manifests, loadErr := plugin.LoadManifests(context.Background(), "case.yaml", strings.NewReader(manifest))

			js, err := yaml.YAMLToJSON([]byte(manifest))
			if err != nil {
				t.Fatal(err)
			}
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(js); err != nil {
				t.Fatal(err)
			}
			serverErr := c.client.Create(context.Background(), obj, client.FieldValidation("Strict"))

			if (loadErr == nil) != (serverErr == nil) {
				t.Fatalf("plugin and API server disagree:\n plugin: %v\n server: %v", loadErr, serverErr)
			}
			if (loadErr == nil) != tc.valid {
				t.Fatalf("both accepted or both rejected it, against the table (valid=%v): %v", tc.valid, loadErr)
			}
			if serverErr != nil {
				var invalid *plugin.InvalidManifestError
				if !errors.As(loadErr, &invalid) {
					t.Fatalf("load error %T, want *InvalidManifestError: %v", loadErr, loadErr)
				}
				serverSays := redact(serverErr.Error(), urls)
				for _, problem := range invalid.Problems {
					_, reason, _ := strings.Cut(problem, "HealthCheck "+ns+"/")
					_, reason, _ = strings.Cut(reason, ": ")
					if !strings.Contains(serverSays, reason) {
						t.Errorf("the API server does not say %q; it says:\n%s", reason, serverSays)
					}
				}
				return
			}
			var stored monitoringv1alpha1.HealthCheck
			if err := c.client.Get(context.Background(), client.ObjectKeyFromObject(obj), &stored); err != nil {
				t.Fatal(err)
			}
			if got := manifests[0].HealthCheck.Spec; !equality.Semantic.DeepEqual(got, stored.Spec) {
				t.Errorf("defaulted spec differs:\n plugin: %+v\n server: %+v", got, stored.Spec)
			}
		})
	}
}

// TestRunAdmitsURLsLikeTheAPIServer gives each URL of a list at the edges of
// the url rules to run, as a list of URLs, and to a real API server, as the
// only target of a HealthCheck: both must accept it or both refuse it, and
// then the server's error holds run's reasons word for word. run admits most
// URLs without the CRD's validators (admittedAlone): this is what shows that
// it accepts exactly what the API server accepts.
func TestRunAdmitsURLsLikeTheAPIServer(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	urls := append(plugin.TrickyURLs(), "http://a.example/x?token=s3cret", "tcp://user:pw@db.example:5432")
	var g errgroup.Group
	g.SetLimit(8)
	for i, u := range urls {
		g.Go(func() error {
			problems, err := plugin.URLProblems(context.Background(), []string{u})
			if err != nil {
				return err
			}
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "monitoring.healthcheck.dev/v1alpha1",
				"kind":       "HealthCheck",
				"metadata":   map[string]any{"name": fmt.Sprintf("url-%d", i), "namespace": ns},
				"spec":       map[string]any{"targets": []any{map[string]any{"url": u}}},
			}}
			serverErr := c.client.Create(context.Background(), obj, client.FieldValidation("Strict"))
			if (len(problems) == 0) != (serverErr == nil) {
				t.Errorf("%q: run and the API server disagree:\n run: %q\n server: %v", u, problems, serverErr)
				return nil
			}
			if serverErr == nil {
				return nil
			}
			serverSays := redact(serverErr.Error(), []string{u})
			for _, problem := range problems {
				_, reason, _ := strings.Cut(problem, ": ")
				if !strings.HasPrefix(reason, "<nil>: ") {
					reason = "spec.targets[0]." + reason // a reason about the URL, not the object
				}
				if !strings.Contains(serverSays, reason) {
					t.Errorf("%q: the API server does not say %q; it says:\n%s", u, reason, serverSays)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// caseManifest completes a case into a HealthCheck manifest in namespace ns,
// named name unless the case names it, and returns the URLs it lists.
func caseManifest(t *testing.T, body, ns, name string) (string, []string) {
	t.Helper()
	obj := map[string]any{}
	if err := yaml.Unmarshal([]byte(body), &obj); err != nil {
		t.Fatalf("case manifest: %v", err)
	}
	obj["apiVersion"], obj["kind"] = "monitoring.healthcheck.dev/v1alpha1", "HealthCheck"
	meta, ok := obj["metadata"].(map[string]any)
	if !ok {
		meta = map[string]any{"name": name}
		obj["metadata"] = meta
	}
	meta["namespace"] = ns
	var urls []string
	spec, _ := obj["spec"].(map[string]any)
	list, _ := spec["targets"].([]any)
	for _, target := range list {
		if m, ok := target.(map[string]any); ok {
			if u, ok := m["url"].(string); ok {
				urls = append(urls, u)
			}
		}
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), urls
}

// redact redacts urls in msg as the plugin does in its messages.
func redact(msg string, urls []string) string {
	for _, u := range urls {
		if u != "" {
			msg = strings.ReplaceAll(msg, u, checker.RedactURL(u))
		}
	}
	return msg
}
