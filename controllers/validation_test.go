package controllers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// TestInvalidHealthChecksAreRejectedWithAClearMessage applies each invalid spec to
// the real API server and checks that the error names the field and the problem.
func TestInvalidHealthChecksAreRejectedWithAClearMessage(t *testing.T) {
	ns := newNamespace(t)
	tooMany := "targets:\n"
	for i := range 501 {
		tooMany += fmt.Sprintf("- url: http://example.com/%d\n", i)
	}
	longURL := "http://example.com/" + strings.Repeat("a", 2040)
	tooLongTogether := "targets:\n"
	for i := range 500 {
		tooLongTogether += fmt.Sprintf("- url: http://example.com/%03d/%s\n", i, strings.Repeat("a", 300))
	}

	cases := []struct {
		name string
		spec string
		want string
	}{
		{"no targets", "targets: []", "spec: Invalid value: set targets, targetsFrom or both: there is nothing to check"},
		{"targets missing", "interval: 30s", "spec: Invalid value: set targets, targetsFrom or both: there is nothing to check"},
		{"two kinds in one source", `targetsFrom: [{ingresses: {selector: {}}, services: {selector: {}, port: 80}}]`, "spec.targetsFrom[0]: Invalid value: set exactly one of ingresses, httpRoutes or services"},
		{"no kind in a source", `targetsFrom: [{template: {timeout: 1s}}]`, "spec.targetsFrom[0]: Invalid value: set exactly one of ingresses, httpRoutes or services"},
		{"nine sources", "targetsFrom: [" + strings.Repeat("{ingresses: {selector: {}}},", 9) + "]", "spec.targetsFrom: Too many: 9: must have at most 8 items"},
		{"service port 0", `targetsFrom: [{services: {selector: {}, port: 0}}]`, "port must be a number from 1 to 65535 or a port name"},
		{"service without a port", `targetsFrom: [{services: {selector: {}}}]`, "spec.targetsFrom[0].services.port: Required value"},
		{"service scheme ftp", `targetsFrom: [{services: {selector: {}, port: 80, scheme: ftp}}]`, "spec.targetsFrom[0].services.scheme: Unsupported value: \"ftp\""},
		{"selector operator", `targetsFrom: [{ingresses: {selector: {matchExpressions: [{key: app, operator: Like}]}}}]`, "spec.targetsFrom[0].ingresses.selector.matchExpressions[0].operator: Unsupported value: \"Like\""},
		{"template HEAD with body", `targetsFrom: [{ingresses: {selector: {}}, template: {method: HEAD, bodyContains: ok}}]`, "spec.targetsFrom[0].template: Invalid value: bodyContains and bodyMatches need method GET: a HEAD answer has no body"},
		{"HTTP fields in a tcp services template", `targetsFrom: [{services: {selector: {}, port: 5432, scheme: tcp}, template: {headers: [{name: X, value: v}]}}]`, "spec.targetsFrom[0].template: Invalid value: template: method, expectedStatusCodes, bodyContains, bodyMatches, headers and followRedirects apply only to http and https, not to the services scheme tcp"},
		{"ipFamily", `targets: [{url: "http://a.example/", ipFamily: IPv5}]`, "spec.targets[0].ipFamily: Unsupported value: \"IPv5\""},
		{"fanOut mode", `targets: [{url: "http://a.example/", fanOut: {mode: Pods}}]`, "spec.targets[0].fanOut.mode: Unsupported value: \"Pods\": supported values: \"Addresses\", \"Endpoints\""},
		{"fanOut without mode", `targets: [{url: "http://a.example/", fanOut: {minHealthy: 1}}]`, "spec.targets[0].fanOut.mode: Required value"},
		{"minHealthy 0", `targets: [{url: "http://a.example/", fanOut: {mode: Addresses, minHealthy: 0}}]`, "spec.targets[0].fanOut.minHealthy: Invalid value: 0: minHealthy must be a number from 1 to 1000 or a percentage from 1% to 100%"},
		{"minHealthy 0%", `targets: [{url: "http://a.example/", fanOut: {mode: Addresses, minHealthy: "0%"}}]`, "minHealthy must be a number from 1 to 1000 or a percentage from 1% to 100%"},
		{"minHealthy 101%", `targets: [{url: "http://a.example/", fanOut: {mode: Addresses, minHealthy: "101%"}}]`, "minHealthy must be a number from 1 to 1000 or a percentage from 1% to 100%"},
		{"minHealthy word", `targets: [{url: "http://a.example/", fanOut: {mode: Endpoints, minHealthy: half}}]`, "minHealthy must be a number from 1 to 1000 or a percentage from 1% to 100%"},
		{"minHealthy in a template", `targetsFrom: [{services: {selector: {}, port: 80}, template: {fanOut: {mode: Endpoints, minHealthy: "50"}}}]`, "spec.targetsFrom[0].template.fanOut.minHealthy: Invalid value: \"50\": minHealthy must be a number from 1 to 1000 or a percentage from 1% to 100%"},
		{"501 targets", tooMany, "spec.targets: Too many: 501: must have at most 500 items"},
		{"empty url", `targets: [{url: ""}]`, "spec.targets[0].url: Invalid value: \"\": spec.targets[0].url in body should be at least 1 chars long"},
		{"relative url", `targets: [{url: /healthz}]`, "spec.targets[0].url: Invalid value: \"/healthz\": url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL"},
		{"ftp url", `targets: [{url: "ftp://example.com/x"}]`, "url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL"},
		{"file url", `targets: [{url: "file:///etc/passwd"}]`, "url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL"},
		{"host-less url", `targets: [{url: "http:///healthz"}]`, "spec.targets[0].url: Invalid value: \"http:///healthz\": url must have a host"},
		{"credentials in url", `targets: [{url: "https://user:pw@example.com/"}]`, "url must not contain credentials (user:password@); use a header with valueFrom.secretKeyRef"},
		{"url too long", `targets: [{url: "` + longURL + `"}]`, "spec.targets[0].url: Too long: may not be more than 2048 bytes"},
		{"urls too long together", tooLongTogether, "spec: Invalid value: the targets' URLs together must not exceed 131072 characters"},
		{"duplicate urls", `targets: [{url: "http://a.example/"}, {url: "http://a.example/"}]`, `spec.targets[1]: Duplicate value: {"url":"http://a.example/"}`},
		{"zero interval", `{interval: 0s, targets: [{url: "http://a.example/"}]}`, "spec.interval: Invalid value: \"0s\": must be at least 1s"},
		{"negative interval", `{interval: -1s, targets: [{url: "http://a.example/"}]}`, "spec.interval: Invalid value: \"-1s\": must be a duration such as 30s, 1m or 1h30m (units h, m, s, ms)"},
		{"days", `{interval: 1d, targets: [{url: "http://a.example/"}]}`, "spec.interval: Invalid value: \"1d\": must be a duration such as 30s, 1m or 1h30m"},
		{"microseconds", `{interval: 100us, targets: [{url: "http://a.example/"}]}`, "spec.interval: Invalid value: \"100us\": must be a duration such as 30s, 1m or 1h30m"},
		{"zero timeout", `{timeout: 0s, targets: [{url: "http://a.example/"}]}`, "spec.timeout: Invalid value: \"0s\": must be greater than 0s"},
		{"timeout above interval", `{interval: 10s, timeout: 11s, targets: [{url: "http://a.example/"}]}`, "spec: Invalid value: timeout must not be longer than interval"},
		{"target timeout above interval", `{interval: 10s, targets: [{url: "http://a.example/", timeout: 1m}]}`, "a target's timeout must not be longer than interval"},
		{"slow threshold not below timeout", `{timeout: 2s, slowThreshold: 2s, targets: [{url: "http://a.example/"}]}`, "spec: Invalid value: slowThreshold must be below timeout"},
		{"target slow threshold not below its timeout", `{targets: [{url: "http://a.example/", timeout: 1s, slowThreshold: 3s}]}`, "spec.targets[0]: Invalid value: slowThreshold must be below timeout"},
		{"zero workers", `{workers: 0, targets: [{url: "http://a.example/"}]}`, "spec.workers: Invalid value: 0: spec.workers in body should be greater than or equal to 1"},
		{"101 workers", `{workers: 101, targets: [{url: "http://a.example/"}]}`, "spec.workers: Invalid value: 101: spec.workers in body should be less than or equal to 100"},
		{"failure threshold 11", `{failureThreshold: 11, targets: [{url: "http://a.example/"}]}`, "spec.failureThreshold: Invalid value: 11: spec.failureThreshold in body should be less than or equal to 10"},
		{"success threshold 0", `{successThreshold: 0, targets: [{url: "http://a.example/"}]}`, "spec.successThreshold: Invalid value: 0: spec.successThreshold in body should be greater than or equal to 1"},
		{"method POST", `targets: [{url: "http://a.example/", method: POST}]`, "spec.targets[0].method: Unsupported value: \"POST\": supported values: \"GET\", \"HEAD\""},
		{"status code word", `targets: [{url: "http://a.example/", expectedStatusCodes: ["2xx"]}]`, "spec.targets[0].expectedStatusCodes[0]: Invalid value: \"2xx\": spec.targets[0].expectedStatusCodes[0] in body should match"},
		{"status range reversed", `targets: [{url: "http://a.example/", expectedStatusCodes: ["299-200"]}]`, "a status code range must run from low to high, such as 200-299"},
		{"header name with space", `targets: [{url: "http://a.example/", headers: [{name: "X Key", value: v}]}]`, "spec.targets[0].headers[0].name: Invalid value: \"X Key\": header name must be an HTTP token"},
		{"header value with newline", `targets: [{url: "http://a.example/", headers: [{name: X-Key, value: "a\r\nInjected: 1"}]}]`, "spec.targets[0].headers[0].value: Invalid value: \"a\\r\\nInjected: 1\": header value must not contain CR or LF"},
		{"invalid body regexp", `targets: [{url: "http://a.example/", bodyMatches: "status\":(ok"}]`, "spec.targets[0].bodyMatches: Invalid value: \"string\": error parsing regexp: missing closing ): `status\":(ok` evaluating rule: bodyMatches must be a valid RE2 regular expression"},
		{"body assertion with HEAD", `targets: [{url: "http://a.example/", method: HEAD, bodyContains: ok}]`, "spec.targets[0]: Invalid value: bodyContains and bodyMatches need method GET: a HEAD answer has no body"},
		{"header without value", `targets: [{url: "http://a.example/", headers: [{name: X-Key}]}]`, "exactly one of value or valueFrom must be set"},
		{"method on tcp", `targets: [{url: "tcp://db.example:5432", method: HEAD}]`, "spec.targets[0].method: Invalid value: method applies only to http:// and https:// URLs, not to tcp://"},
		{"status codes on tls", `targets: [{url: "tls://db.example:5432", expectedStatusCodes: ["200"]}]`, "spec.targets[0].expectedStatusCodes: Invalid value: expectedStatusCodes applies only to http:// and https:// URLs, not to tls://"},
		{"bodyContains on grpc", `targets: [{url: "grpc://api.example:9090", bodyContains: ok}]`, "spec.targets[0].bodyContains: Invalid value: bodyContains applies only to http:// and https:// URLs, not to grpc://"},
		{"bodyMatches on grpcs", `targets: [{url: "grpcs://api.example:9090", bodyMatches: ok}]`, "spec.targets[0].bodyMatches: Invalid value: bodyMatches applies only to http:// and https:// URLs, not to grpcs://"},
		{"headers on tcp", `targets: [{url: "TCP://db.example:5432", headers: [{name: X-Key, value: v}]}]`, "spec.targets[0].headers: Invalid value: headers applies only to http:// and https:// URLs, not to tcp://"},
		{"followRedirects on tls", `targets: [{url: "tls://db.example:5432", followRedirects: false}]`, "spec.targets[0].followRedirects: Invalid value: followRedirects applies only to http:// and https:// URLs, not to tls://"},
		{"tcp without a port", `targets: [{url: "tcp://db.example"}]`, "spec.targets[0].url: Invalid value: a tcp:// URL needs a port, such as tcp://db.example:5432"},
		{"grpcs without a port", `targets: [{url: "grpcs://api.example/shop"}]`, "spec.targets[0].url: Invalid value: a grpcs:// URL needs a port, such as grpcs://db.example:5432"},
		{"tls with a path", `targets: [{url: "tls://db.example:5432/x"}]`, "spec.targets[0].url: Invalid value: a tls:// URL has no path"},
		{"17 assertions", "targets: [{url: \"http://a.example/\", assertions: [" + strings.Repeat("{expression: \"true\"},", 17) + "]}]", "spec.targets[0].assertions: Too many: 17: must have at most 16 items"},
		{"empty expression", `targets: [{url: "http://a.example/", assertions: [{expression: ""}]}]`, "spec.targets[0].assertions[0].expression: Invalid value: \"\": spec.targets[0].assertions[0].expression in body should be at least 1 chars long"},
		{"expression too long", `targets: [{url: "http://a.example/", assertions: [{expression: "` + strings.Repeat("a", 1025) + `"}]}]`, "spec.targets[0].assertions[0].expression: Too long: may not be more than 1024 bytes"},
		{"assertion message too long", `targets: [{url: "http://a.example/", assertions: [{expression: "true", message: "` + strings.Repeat("a", 257) + `"}]}]`, "spec.targets[0].assertions[0].message: Too long: may not be more than 256 bytes"},
		{"client certificate without a name", `targets: [{url: "tls://db.example:5432", tls: {clientCertificateSecretRef: {}}}]`, "spec.targets[0].tls.clientCertificateSecretRef.name: Required value"},
		{"header with both values", `targets: [{url: "http://a.example/", headers: [{name: X-Key, value: v, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]`, "exactly one of value or valueFrom must be set"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			spec := map[string]any{}
			g.Expect(yaml.Unmarshal([]byte(tc.spec), &spec)).To(Succeed())
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "monitoring.healthcheck.dev/v1alpha1",
				"kind":       "HealthCheck",
				"metadata":   map[string]any{"name": fmt.Sprintf("invalid-%d", i), "namespace": ns},
				"spec":       spec,
			}}
			err := k8sClient.Create(context.Background(), obj)
			g.Expect(err).To(HaveOccurred(), "the API server accepted an invalid HealthCheck")
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// TestEverySchemeIsAcceptedWithTheSchemasDefaults shows that the defaults the
// schema gives every target (method GET, expectedStatusCodes 200-299,
// followRedirects) never trip the rules that reject HTTP fields on other schemes.
func TestEverySchemeIsAcceptedWithTheSchemasDefaults(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "schemes", "https://a.example/", "tcp://db.example:5432", "tls://db.example:5432/",
		"grpc://api.example:9090", "grpcs://api.example:9090/shop.v1.Cart", "TCP://DB.example:5433")
	hc.Spec.Suspend = true
	hc.Spec.Targets[2].TLS = &monitoringv1alpha1.TLSSpec{ClientCertificateSecretRef: &monitoringv1alpha1.SecretReference{Name: "client"}}
	hc.Spec.Targets[3].Assertions = []monitoringv1alpha1.Assertion{{Expression: `response.grpc.status == "SERVING"`}}
	create(t, hc)
	got := get(g, hc)
	g.Expect(string(got.Spec.Targets[1].Method)).To(Equal("GET"))
	g.Expect(got.Spec.Targets[1].ExpectedStatusCodes).To(Equal([]string{"200-299"}))
}

// TestValidHealthCheckIsDefaultedInTheSchema shows the defaults a user sees
// after applying a minimal manifest: they live in the CRD, not in the operator.
func TestValidHealthCheckIsDefaultedInTheSchema(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "minimal", "https://example.com/healthz")
	hc.Spec.Interval = nil
	hc.Spec.Suspend = true
	create(t, hc)
	got := get(g, hc)
	g.Expect(got.Spec.Interval.Duration.String()).To(Equal("30s"))
	g.Expect(got.Spec.Workers).To(BeEquivalentTo(10))
	g.Expect(got.Spec.FailureThreshold).To(BeEquivalentTo(1))
	g.Expect(got.Spec.SuccessThreshold).To(BeEquivalentTo(1))
	g.Expect(got.Spec.Timeout).To(BeNil(), "timeout defaults at run time, to 8s clamped to the interval")
	g.Expect(string(got.Spec.Targets[0].Method)).To(Equal("GET"))
	g.Expect(got.Spec.Targets[0].ExpectedStatusCodes).To(Equal([]string{"200-299"}))
}

// TestTheSamplesAreAccepted creates every sample in config/samples with a
// server-side dry run: the API server validates them, nothing is checked.
func TestTheSamplesAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	files, err := filepath.Glob("../config/samples/monitoring_v1alpha1_*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			g := NewWithT(t)
			data, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			obj := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal(data, &obj.Object)).To(Succeed())
			obj.SetNamespace(ns)
			g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())
		})
	}
}
