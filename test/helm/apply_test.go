package helm

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestDefaultValuesApplyServerSide installs the chart's CRDs for real, then
// applies everything else the chart renders with a server-side dry run, and a
// sample HealthCheck against the installed CRD.
func TestDefaultValuesApplyServerSide(t *testing.T) {
	ns := newNamespace(t)
	crds, rest := partition(render(t, ns, nil))
	if len(crds) == 0 {
		t.Fatal("the chart renders no CRD with --include-crds")
	}
	applyForReal(t, crds)
	applyDryRun(t, rest)

	for kind, want := range map[string]int{"Deployment": 1, "Role": 1, "ServiceMonitor": 0, "PrometheusRule": 0} {
		if got := kinds(rest)[kind]; got != want {
			t.Errorf("the default values render %d %s objects, want %d", got, kind, want)
		}
	}
	dep := manager(t, rest)
	wantArgs := []string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"}
	if args := dep.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, wantArgs) {
		t.Errorf("the manager's args are %q, want %q", args, wantArgs)
	}

	samples := readObjects(t, "config", "samples", "monitoring_v1alpha1_healthcheck.yaml")
	applyDryRun(t, withNamespace(t, samples, ns))
}

// TestCustomValuesApplyServerSide renders non-default values and checks that
// they reach the Deployment as the manager's flags.
func TestCustomValuesApplyServerSide(t *testing.T) {
	ns := newNamespace(t)
	crds, rest := partition(render(t, ns, map[string]any{
		"replicaCount":   2,
		"leaderElection": map[string]any{"enabled": false},
		"outboundPolicy": map[string]any{
			"denyCIDRs":  []string{"10.0.0.0/8", "169.254.169.254/32", "fd00::/8"},
			"allowCIDRs": []string{"10.20.0.0/16"},
		},
		"extraArgs": []string{"--max-concurrent-reconciles=8", "--zap-log-level=debug"},
		"image":     map[string]any{"repository": "registry.example.com/hc/operator", "tag": "v1.2.3"},
		"resources": map[string]any{"limits": map[string]any{"cpu": "1", "memory": "512Mi"}},
		"metrics":   map[string]any{"serviceMonitor": map[string]any{"enabled": false}},
	}))
	applyForReal(t, crds)
	applyDryRun(t, rest)

	dep := manager(t, rest)
	if got := *dep.Spec.Replicas; got != 2 {
		t.Errorf("replicas = %d, want 2", got)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	wantArgs := []string{
		"--metrics-bind-address=:8443",
		"--health-probe-bind-address=:8081",
		"--deny-cidrs=10.0.0.0/8,169.254.169.254/32,fd00::/8",
		"--allow-cidrs=10.20.0.0/16",
		"--max-concurrent-reconciles=8",
		"--zap-log-level=debug",
	}
	if !slices.Equal(c.Args, wantArgs) {
		t.Errorf("the manager's args are %q, want %q", c.Args, wantArgs)
	}
	if c.Image != "registry.example.com/hc/operator:v1.2.3" {
		t.Errorf("image = %q", c.Image)
	}
	if got := c.Resources.Limits.Memory().String(); got != "512Mi" {
		t.Errorf("memory limit = %s, want 512Mi", got)
	}
	// Without leader election there is no Lease to guard.
	for kind, want := range map[string]int{"Role": 0, "RoleBinding": 0, "ServiceMonitor": 0, "PrometheusRule": 0} {
		if got := kinds(rest)[kind]; got != want {
			t.Errorf("rendered %d %s objects, want %d", got, kind, want)
		}
	}
}

// TestMonitoringApplyServerSide renders the ServiceMonitor and PrometheusRule
// and dry-runs them against stand-ins for the Prometheus Operator's CRDs.
func TestMonitoringApplyServerSide(t *testing.T) {
	ns := newNamespace(t)
	crds, rest := partition(render(t, ns, map[string]any{
		"metrics": map[string]any{
			"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}, "interval": "30s"},
			"prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}},
		},
	}))
	applyForReal(t, append(crds, readObjects(t, "test", "helm", "testdata", "prometheus-operator-crds.yaml")...))
	applyDryRun(t, rest)
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		if got := kinds(rest)[kind]; got != 1 {
			t.Errorf("rendered %d %s objects, want 1", got, kind)
		}
	}
}

// TestValuesSchemaRejectsMistakes checks that values.schema.json turns likely
// mistakes into errors at render time rather than a manager that will not start.
func TestValuesSchemaRejectsMistakes(t *testing.T) {
	expectRejected(t, map[string]rejectedValues{
		"CIDRs as one string": {
			values:  map[string]any{"outboundPolicy": map[string]any{"denyCIDRs": "10.0.0.0/8,192.168.0.0/16"}},
			mention: "denyCIDRs",
		},
		"a host name as a CIDR": {
			values:  map[string]any{"outboundPolicy": map[string]any{"allowCIDRs": []string{"example.com"}}},
			mention: "allowCIDRs",
		},
		"a misspelt outboundPolicy key": {
			values:  map[string]any{"outboundPolicy": map[string]any{"denyCidrs": []string{"10.0.0.0/8"}}},
			mention: "denyCidrs",
		},
		"replicas as a word": {
			values:  map[string]any{"replicaCount": "two"},
			mention: "replicaCount",
		},
		"an extra arg that is not a flag": {
			values:  map[string]any{"extraArgs": []string{"debug"}},
			mention: "extraArgs",
		},
	})
}

// rejectedValues are values the chart must refuse to render, and what its error
// must say.
type rejectedValues struct {
	values  map[string]any
	mention string
}

// expectRejected renders the chart with each case's values and expects an
// error that mentions what is wrong.
func expectRejected(t *testing.T, cases map[string]rejectedValues) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := writeValues(t, tc.values)
			_, stderr, err := helm("template", releaseName, chartDir, "--values", file)
			if err == nil {
				t.Fatalf("helm template accepted %v", tc.values)
			}
			if !strings.Contains(stderr, tc.mention) {
				t.Errorf("the error does not mention %q:\n%s", tc.mention, stderr)
			}
		})
	}
}

// TestChartLints runs `helm lint --strict`, which fails on warnings too.
func TestChartLints(t *testing.T) {
	if out, stderr, err := helm("lint", "--strict", chartDir); err != nil {
		t.Fatalf("helm lint --strict: %v\n%s%s", err, out, stderr)
	}
}

// manager returns the single Deployment among objs.
func manager(t *testing.T, objs []object) appsv1.Deployment {
	t.Helper()
	var dep appsv1.Deployment
	find(t, objs, "Deployment", kustomizeNamePrefix+"controller-manager").into(t, &dep)
	if n := len(dep.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("the manager pod has %d containers, want 1", n)
	}
	return dep
}
