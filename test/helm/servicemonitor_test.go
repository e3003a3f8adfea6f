package helm

import (
	"testing"

	"sigs.k8s.io/yaml"
)

// TestServiceMonitorsHonorLabels checks that both shipped ServiceMonitors, the
// chart's (enabled by its values) and config/prometheus's (built by kustomize),
// set honorLabels: true on every endpoint. Without it Prometheus renames the
// metrics' own namespace label to exported_namespace and puts the operator's
// namespace in its place, so every example alert names the wrong namespace.
func TestServiceMonitorsHonorLabels(t *testing.T) {
	sources := map[string][]object{
		"the chart": render(t, kustomizeNamespace, map[string]any{
			"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}},
		}),
		"config/prometheus": kustomizeBuild(t, "config", "prometheus"),
	}
	for source, objs := range sources {
		if got := kinds(objs)["ServiceMonitor"]; got != 1 {
			t.Errorf("%s has %d ServiceMonitors, want 1", source, got)
		}
		for _, o := range objs {
			if o.GetKind() != "ServiceMonitor" {
				continue
			}
			// A pointer tells a missing honorLabels from false; a string "true" fails to decode.
			var monitor struct {
				Spec struct {
					Endpoints []struct {
						Port        string `json:"port"`
						HonorLabels *bool  `json:"honorLabels"`
					} `json:"endpoints"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(o.raw, &monitor); err != nil {
				t.Fatalf("decoding %s from %s: %v", o.id(), source, err)
			}
			if len(monitor.Spec.Endpoints) == 0 {
				t.Errorf("%s from %s has no endpoints", o.id(), source)
			}
			for _, e := range monitor.Spec.Endpoints {
				if e.HonorLabels == nil || !*e.HonorLabels {
					t.Errorf("%s from %s scrapes port %q without honorLabels: true", o.id(), source, e.Port)
				}
			}
		}
	}
}
