package plugin_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

// FuzzLoadManifests feeds arbitrary bytes to the manifest loader: it must never
// panic, and whatever it accepts must hold what the schema promises run.
func FuzzLoadManifests(f *testing.F) {
	for _, name := range []string{"testdata/run.yaml", "testdata/bad.yaml", "../../config/samples/monitoring_v1alpha1_healthcheck.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		"",
		"---\n---\n",
		"apiVersion: monitoring.healthcheck.dev/v1alpha1\nkind: HealthCheck\nmetadata: {name: a}\nspec: {targets: [{url: 'http://a/'}]}\n",
		"apiVersion: monitoring.healthcheck.dev/v1alpha1\nkind: HealthCheck\nmetadata: 5\nspec: []\n",
		"apiVersion: monitoring.healthcheck.dev/v1alpha1\nkind: HealthCheck\nmetadata: {name: a, name: b}\n",
		"{\"apiVersion\": \"monitoring.healthcheck.dev/v1alpha1\", \"kind\": \"HealthCheck\", \"spec\": {\"interval\": 1e400}}",
		"apiVersion: monitoring.healthcheck.dev/v9\nkind: HealthCheck\n",
		"a: &a [*a, *a]\n",
		"- just\n- a list\n",
		"--- !!binary AAAA\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		manifests, err := plugin.LoadManifests(context.Background(), "fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Error("an error without a message")
			}
			if manifests != nil {
				t.Error("manifests returned with an error")
			}
			return
		}
		if len(manifests) == 0 {
			t.Fatal("no manifest and no error")
		}
		for _, m := range manifests {
			spec := m.HealthCheck.Spec
			if n := len(spec.Targets); n < 1 || n > monitoringv1alpha1.MaxTargets {
				t.Errorf("accepted %d targets", n)
			}
			if spec.Workers < 1 || spec.Workers > 100 || spec.Interval == nil || spec.Interval.Duration < 1e9 {
				t.Errorf("accepted an undefaulted or out of range spec: %+v", spec)
			}
			if m.HealthCheck.Name == "" || m.HealthCheck.Namespace == "" {
				t.Errorf("accepted an object without name or namespace: %+v", m.HealthCheck.ObjectMeta)
			}
		}
	})
}
