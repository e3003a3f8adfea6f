package crdschema_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/healthcheck-operator/healthcheck-operator/internal/crdschema"
)

// These tests pin what Admit does with a small CRD of their own. That it does
// what the API server does is shown against a real one, with the HealthCheck
// CRD, in internal/plugin.

func widgetValidator(t *testing.T) *crdschema.Validator {
	t.Helper()
	data, err := os.ReadFile("testdata/widgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := crdschema.ParseCRD(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := crdschema.New(def, "v1")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// widget decodes a Widget manifest as the API server decodes a body: whole
// numbers are int64.
func widget(t *testing.T, manifest string) map[string]any {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{}
	if err := utiljson.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	if _, ok := obj["apiVersion"]; !ok {
		obj["apiVersion"], obj["kind"] = "example.dev/v1", "Widget"
	}
	return obj
}

func TestAdmitAppliesTheSchemaDefaults(t *testing.T) {
	v := widgetValidator(t)
	obj := widget(t, `{metadata: {name: w, namespace: ns}, spec: {parts: [{name: a}, {name: b, colour: blue}]}}`)
	if reasons := v.Admit(context.Background(), obj); len(reasons) > 0 {
		t.Fatalf("Admit rejected a valid Widget: %q", reasons)
	}
	want := widget(t, `{metadata: {name: w, namespace: ns}, spec: {interval: 30s, size: 10, parts: [{name: a, colour: red}, {name: b, colour: blue}]}}`)
	if got := obj["spec"]; !reflect.DeepEqual(got, want["spec"]) {
		t.Errorf("defaulted spec:\n got %v\nwant %v", got, want)
	}
}

// celSkipped is the API server's note that blocking errors kept it from
// evaluating the CEL rules.
const celSkipped = `<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation`

func TestAdmitRejects(t *testing.T) {
	v := widgetValidator(t)
	cases := []struct {
		name     string
		manifest string
		want     []string
	}{
		{
			name:     "unknown fields, before any validation",
			manifest: `{metadata: {name: w, namespace: ns, colour: red}, spec: {parts: [], sise: 1}}`,
			want:     []string{`unknown field "metadata.colour"`, `unknown field "spec.sise"`},
		},
		{
			name:     "OpenAPI bounds, list map keys and CEL rules, CEL errors sorted",
			manifest: `{metadata: {name: w, namespace: ns}, spec: {size: 0, interval: 10s, timeout: 1m, parts: [{name: x}, {name: x}]}}`,
			want: []string{
				`spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1`,
				`spec.parts[1]: Duplicate value: {"name":"x"}`,
				`spec.parts[0]: Invalid value: x is reserved`,
				`spec.parts[1]: Invalid value: x is reserved`,
				`spec: Invalid value: timeout must not be longer than interval`,
			},
		},
		{
			name:     "a bad name and a missing namespace, which skip the CEL rules",
			manifest: `{metadata: {name: Web_1}, spec: {interval: 1d, parts: [{name: a}]}}`,
			want: []string{
				`metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
				`metadata.namespace: Required value`,
				celSkipped,
			},
		},
		{
			name:     "a type error and an enum, which skip the CEL rules",
			manifest: `{metadata: {name: w, namespace: ns}, spec: {size: ten, interval: 1d, parts: [{name: a, colour: green}]}}`,
			want: []string{
				`spec.parts[0].colour: Unsupported value: "green": supported values: "red", "blue"`,
				`spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"`,
				celSkipped,
			},
		},
		{
			name:     "another kind",
			manifest: `{apiVersion: example.dev/v2, kind: Gadget, metadata: {name: w, namespace: ns}, spec: {parts: [{name: a}]}}`,
			want: []string{
				`kind: Invalid value: "Gadget": must be Widget`,
				`apiVersion: Invalid value: "example.dev/v2": must be example.dev/v1`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := v.Admit(context.Background(), widget(t, tc.manifest))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("reasons:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

func TestAdmitDropsStatusAndCompletesGenerateName(t *testing.T) {
	v := widgetValidator(t)
	obj := widget(t, `{metadata: {generateName: w-, namespace: ns}, spec: {parts: [{name: a}]}, status: {ready: true}}`)
	if reasons := v.Admit(context.Background(), obj); len(reasons) > 0 {
		t.Fatalf("Admit rejected the Widget: %q", reasons)
	}
	if _, ok := obj["status"]; ok {
		t.Error("status was kept; the status subresource makes the API server drop it on create")
	}
	name, _ := obj["metadata"].(map[string]any)["name"].(string)
	if !strings.HasPrefix(name, "w-") || len(name) != len("w-")+5 {
		t.Errorf("metadata.name = %q, want w- and a 5 character suffix", name)
	}
}

func TestNewRefusesAVersionWithoutSchema(t *testing.T) {
	data, err := os.ReadFile("testdata/widgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := crdschema.ParseCRD(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crdschema.New(def, "v9"); err == nil || !strings.Contains(err.Error(), `no schema for version "v9"`) {
		t.Errorf("New(v9) error = %v, want one naming the version", err)
	}
	if v, err := crdschema.New(def, "v1"); err != nil || v.GroupVersionKind().String() != "example.dev/v1, Kind=Widget" || !v.Namespaced() {
		t.Errorf("New(v1) = %v, %v", v, err)
	}
}
