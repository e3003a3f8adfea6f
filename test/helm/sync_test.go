package helm

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// The kustomize overlay the chart mirrors, and what it does to names.
const (
	kustomizeNamespace  = "healthcheck-operator-system"
	kustomizeNamePrefix = "healthcheck-operator-"
)

// TestChartCopiesMatchConfig fails when the files `make helm-sync` copies into
// the chart differ from what `make manifests` generated in config/.
func TestChartCopiesMatchConfig(t *testing.T) {
	copies := map[string]string{
		"files/manager-role.yaml":      "config/rbac/role.yaml",
		"files/prometheus-alerts.yaml": "config/prometheus/alerts.yaml",
		"files/grafana-dashboard.json": "config/grafana/healthcheck-dashboard.json",
	}
	generated, err := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v): run `make manifests`", err)
	}
	for _, path := range generated {
		copies["crds/"+filepath.Base(path)] = "config/crd/bases/" + filepath.Base(path)
	}
	inChart, err := filepath.Glob(filepath.Join(chartDir, "crds", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range inChart {
		if _, ok := copies["crds/"+filepath.Base(path)]; !ok {
			t.Errorf("charts/healthcheck-operator/crds/%s is not in config/crd/bases: run `make helm-sync`", filepath.Base(path))
		}
	}
	for copied, source := range copies {
		want, err := os.ReadFile(filepath.Join(repoRoot, source))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartDir, copied))
		if err != nil {
			t.Errorf("%v: run `make helm-sync`", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("charts/healthcheck-operator/%s differs from %s: run `make helm-sync`", copied, source)
		}
	}
}

// TestDefaultRenderMirrorsKustomize checks that the chart with its default values
// renders what `kustomize build config/default` builds, object for object: same
// names (for a release named healthcheck-operator), the same RBAC rules, bindings,
// Service ports and pod spec. Only the Namespace is left to Helm.
func TestDefaultRenderMirrorsKustomize(t *testing.T) {
	chart := render(t, kustomizeNamespace, nil)
	want := loadKustomization(t, "config/default")

	var wantIDs []string
	for _, k := range want {
		if k.GetKind() == "Namespace" {
			continue // `helm install --create-namespace` makes it
		}
		name := kustomizeNamePrefix + k.GetName()
		if k.GetKind() == "CustomResourceDefinition" {
			name = k.GetName() // kustomize never prefixes CRDs
		}
		wantIDs = append(wantIDs, k.GetKind()+"/"+name)
		got := find(t, chart, k.GetKind(), name)
		if ns := got.GetNamespace(); k.GetNamespace() != "" && ns != kustomizeNamespace {
			t.Errorf("%s is in namespace %q, want the release namespace %q", got.id(), ns, kustomizeNamespace)
		}
		if !labels.SelectorFromSet(k.GetLabels()).Matches(labels.Set(got.GetLabels())) {
			t.Errorf("%s has labels %v, want at least kustomize's %v", got.id(), got.GetLabels(), k.GetLabels())
		}
		compareToKustomize(t, k, got)
	}
	var gotIDs []string
	for _, o := range chart {
		gotIDs = append(gotIDs, o.id())
	}
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("the chart renders\n  %v\nkustomize builds\n  %v", gotIDs, wantIDs)
	}

	// The Service must select the pods it fronts.
	var dep appsv1.Deployment
	find(t, chart, "Deployment", kustomizeNamePrefix+"controller-manager").into(t, &dep)
	var svc corev1.Service
	find(t, chart, "Service", kustomizeNamePrefix+"controller-manager-metrics-service").into(t, &svc)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("the metrics Service selects %v, which misses the pod labels %v", svc.Spec.Selector, dep.Spec.Template.Labels)
	}
}

// compareToKustomize compares one rendered object with its kustomize counterpart
// k, whose names and namespaces are as in config/ (before namePrefix).
func compareToKustomize(t *testing.T, k, got object) {
	t.Helper()
	switch k.GetKind() {
	case "CustomResourceDefinition":
		if !equality.Semantic.DeepEqual(got.Object, k.Object) {
			t.Errorf("%s differs from config/crd/bases: run `make helm-sync`", got.id())
		}
	case "ClusterRole", "Role":
		var want, have rbacv1.ClusterRole // a Role decodes into it too
		k.into(t, &want)
		got.into(t, &have)
		if !equality.Semantic.DeepEqual(have.Rules, want.Rules) {
			t.Errorf("%s has rules\n%s\nconfig/rbac has\n%s", got.id(), toYAML(t, have.Rules), toYAML(t, want.Rules))
		}
	case "ClusterRoleBinding", "RoleBinding":
		var want, have rbacv1.RoleBinding
		k.into(t, &want)
		got.into(t, &have)
		want.RoleRef.Name = kustomizeNamePrefix + want.RoleRef.Name
		for i := range want.Subjects {
			want.Subjects[i].Name = kustomizeNamePrefix + want.Subjects[i].Name
			want.Subjects[i].Namespace = kustomizeNamespace
		}
		if !equality.Semantic.DeepEqual(have.RoleRef, want.RoleRef) || !equality.Semantic.DeepEqual(have.Subjects, want.Subjects) {
			t.Errorf("%s binds %v to %v, want %v to %v", got.id(), have.RoleRef, have.Subjects, want.RoleRef, want.Subjects)
		}
	case "Service":
		var want, have corev1.Service
		k.into(t, &want)
		got.into(t, &have)
		if !equality.Semantic.DeepEqual(have.Spec.Ports, want.Spec.Ports) {
			t.Errorf("%s has ports %v, want %v", got.id(), have.Spec.Ports, want.Spec.Ports)
		}
	case "Deployment":
		var want, have appsv1.Deployment
		k.into(t, &want)
		got.into(t, &have)
		if *have.Spec.Replicas != *want.Spec.Replicas {
			t.Errorf("%s has %d replicas, want %d", got.id(), *have.Spec.Replicas, *want.Spec.Replicas)
		}
		if !labels.SelectorFromSet(want.Spec.Template.Labels).Matches(labels.Set(have.Spec.Template.Labels)) {
			t.Errorf("%s has pod labels %v, want at least %v", got.id(), have.Spec.Template.Labels, want.Spec.Template.Labels)
		}
		for key, value := range want.Spec.Template.Annotations {
			if have.Spec.Template.Annotations[key] != value {
				t.Errorf("%s lacks the pod annotation %s: %s", got.id(), key, value)
			}
		}
		// The image and its pull policy are values; the rest of the pod must match.
		wantPod, havePod := want.Spec.Template.Spec, have.Spec.Template.Spec
		wantPod.ServiceAccountName = kustomizeNamePrefix + wantPod.ServiceAccountName
		for _, pod := range []*corev1.PodSpec{&wantPod, &havePod} {
			for i := range pod.Containers {
				pod.Containers[i].Image, pod.Containers[i].ImagePullPolicy = "", ""
			}
		}
		if !equality.Semantic.DeepEqual(havePod, wantPod) {
			t.Errorf("%s has the pod spec\n%s\nconfig/manager has\n%s", got.id(), toYAML(t, havePod), toYAML(t, wantPod))
		}
	}
}

// TestMonitoringMirrorsKustomize checks the optional ServiceMonitor and
// PrometheusRule against config/prometheus, and that the ServiceMonitor scrapes
// the chart's metrics Service.
func TestMonitoringMirrorsKustomize(t *testing.T) {
	chart := render(t, kustomizeNamespace, map[string]any{
		"metrics": map[string]any{
			"serviceMonitor": map[string]any{"enabled": true},
			"prometheusRule": map[string]any{"enabled": true},
		},
	})

	alerts := find(t, readObjects(t, "config", "prometheus", "alerts.yaml"), "PrometheusRule", "healthcheck-alerts")
	rule := find(t, chart, "PrometheusRule", kustomizeNamePrefix+"alerts")
	if !equality.Semantic.DeepEqual(rule.Object["spec"], alerts.Object["spec"]) {
		t.Errorf("the PrometheusRule's spec differs from config/prometheus/alerts.yaml:\n%s", toYAML(t, rule.Object["spec"]))
	}

	monitors := readObjects(t, "config", "prometheus", "monitor.yaml")
	wantMonitor := find(t, monitors, "ServiceMonitor", "controller-manager-metrics-monitor")
	monitor := find(t, chart, "ServiceMonitor", kustomizeNamePrefix+"controller-manager-metrics-monitor")
	wantEndpoints, _, _ := unstructured.NestedSlice(wantMonitor.Object, "spec", "endpoints")
	endpoints, _, _ := unstructured.NestedSlice(monitor.Object, "spec", "endpoints")
	if !equality.Semantic.DeepEqual(endpoints, wantEndpoints) {
		t.Errorf("the ServiceMonitor's endpoints\n%s\ndiffer from config/prometheus/monitor.yaml's\n%s", toYAML(t, endpoints), toYAML(t, wantEndpoints))
	}

	var svc corev1.Service
	find(t, chart, "Service", kustomizeNamePrefix+"controller-manager-metrics-service").into(t, &svc)
	var selector struct {
		Spec struct {
			Selector  struct{ MatchLabels map[string]string }
			Endpoints []struct{ Port string }
		}
	}
	if err := yaml.Unmarshal(monitor.raw, &selector); err != nil {
		t.Fatal(err)
	}
	if !labels.SelectorFromSet(selector.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("the ServiceMonitor selects %v, which misses the metrics Service's labels %v", selector.Spec.Selector.MatchLabels, svc.Labels)
	}
	for _, e := range selector.Spec.Endpoints {
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == e.Port }) {
			t.Errorf("the ServiceMonitor scrapes port %q, which the metrics Service does not name", e.Port)
		}
	}
}

// loadKustomization reads the objects of a kustomization's resources, following
// directories, as kustomize would before its transformers run.
func loadKustomization(t *testing.T, dir string) []object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("parsing %s/kustomization.yaml: %v", dir, err)
	}
	var objs []object
	for _, r := range k.Resources {
		path := filepath.Join(dir, r)
		info, err := os.Stat(filepath.Join(repoRoot, path))
		if err != nil {
			t.Fatal(err)
		}
		if info.IsDir() {
			objs = append(objs, loadKustomization(t, path)...)
		} else {
			objs = append(objs, readObjects(t, path)...)
		}
	}
	return objs
}

func toYAML(t *testing.T, v any) string {
	t.Helper()
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
