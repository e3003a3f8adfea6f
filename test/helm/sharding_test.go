package helm

import (
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
)

// The shard flags every sharded manager gets on top of config/manager's: three
// shards, each reading its index from its pod's ordinal.
var shardArgs = []string{"--total-shards=3", "--shard-index=-1"}

// TestShardedValuesApplyServerSide renders the chart in three shards: a
// StatefulSet of three pods in place of the Deployment, with the same pod
// template plus the shard flags, and a headless Service to govern it. Everything
// applies server-side, PodSecurity included.
func TestShardedValuesApplyServerSide(t *testing.T) {
	ns := newNamespace(t)
	crds, rest := partition(render(t, ns, map[string]any{"sharding": map[string]any{"shards": 3}}))
	applyForReal(t, crds)
	applyDryRun(t, rest)

	for kind, want := range map[string]int{"StatefulSet": 1, "Deployment": 0, "Service": 2} {
		if got := kinds(rest)[kind]; got != want {
			t.Errorf("shards=3 renders %d %s objects, want %d", got, kind, want)
		}
	}
	sts := shardedManager(t, rest)
	checkThreeShards(t, rest, sts)
	// Leader election stays on by default: one Lease per shard.
	wantArgs := append([]string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"}, shardArgs...)
	if args := sts.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, wantArgs) {
		t.Errorf("the manager's args are %q, want %q", args, wantArgs)
	}

	// The pod template is the unsharded Deployment's, less the shard flags.
	dep := manager(t, render(t, ns, nil))
	pod := *sts.Spec.Template.DeepCopy()
	pod.Spec.Containers[0].Args = slices.DeleteFunc(pod.Spec.Containers[0].Args, func(a string) bool { return slices.Contains(shardArgs, a) })
	if !equality.Semantic.DeepEqual(pod, dep.Spec.Template) {
		t.Errorf("the StatefulSet's pod template, less the shard flags,\n%s\ndiffers from the Deployment's\n%s", toYAML(t, pod), toYAML(t, dep.Spec.Template))
	}

	// The metrics Service still selects every shard's pod.
	var metrics corev1.Service
	find(t, rest, "Service", kustomizeNamePrefix+"controller-manager-metrics-service").into(t, &metrics)
	if !labels.SelectorFromSet(metrics.Spec.Selector).Matches(labels.Set(sts.Spec.Template.Labels)) {
		t.Errorf("the metrics Service selects %v, which misses the pod labels %v", metrics.Spec.Selector, sts.Spec.Template.Labels)
	}
}

// checkThreeShards checks the StatefulSet of three shards: three pods, started
// and stopped in parallel, governed by its headless Service.
func checkThreeShards(t *testing.T, objs []object, sts appsv1.StatefulSet) {
	t.Helper()
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
		t.Errorf("replicas = %v, want 3", sts.Spec.Replicas)
	}
	if sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy = %q, want %q", sts.Spec.PodManagementPolicy, appsv1.ParallelPodManagement)
	}
	checkGoverningService(t, objs, sts)
}

// TestShardingValuesRejected checks that a sharding value that cannot work fails
// the render with a message that says why.
func TestShardingValuesRejected(t *testing.T) {
	expectRejected(t, map[string]rejectedValues{
		"replicas with shards": {
			values:  map[string]any{"replicaCount": 2, "sharding": map[string]any{"shards": 2}},
			mention: "replicaCount is 2 but sharding.shards is 2: a sharded release runs one pod per shard",
		},
		"no shards": {
			values:  map[string]any{"sharding": map[string]any{"shards": 0}},
			mention: "sharding.shards must be an integer of at least 1, not 0",
		},
		"a fraction of a shard": {
			values:  map[string]any{"sharding": map[string]any{"shards": 2.5}},
			mention: "sharding/shards",
		},
		"shards as a word": {
			values:  map[string]any{"sharding": map[string]any{"shards": "three"}},
			mention: "sharding/shards",
		},
		"a misspelt sharding key": {
			values:  map[string]any{"sharding": map[string]any{"shard": 3}},
			mention: "shard",
		},
	})
}

// TestShardedKustomizeApplyServerSide builds config/sharded and applies it
// server-side: the CRDs for real, the rest with a dry run, its namespaced objects
// moved into a namespace that warns on the restricted Pod Security Standard.
func TestShardedKustomizeApplyServerSide(t *testing.T) {
	ns := newNamespace(t)
	crds, rest := partition(kustomizeBuild(t, "config", "sharded"))
	applyForReal(t, crds)
	var moved []object
	for _, o := range rest {
		if o.GetNamespace() != "" {
			o = withNamespace(t, []object{o}, ns)[0]
		}
		moved = append(moved, o)
	}
	applyDryRun(t, moved)

	for kind, want := range map[string]int{"StatefulSet": 1, "Deployment": 0, "Namespace": 1} {
		if got := kinds(rest)[kind]; got != want {
			t.Errorf("config/sharded builds %d %s objects, want %d", got, kind, want)
		}
	}
	sts := shardedManager(t, rest)
	checkThreeShards(t, rest, sts)
	// config/manager's flags, then the shard flags.
	var dep appsv1.Deployment
	find(t, readObjects(t, "config", "manager", "manager.yaml"), "Deployment", "controller-manager").into(t, &dep)
	wantArgs := append(slices.Clone(dep.Spec.Template.Spec.Containers[0].Args), shardArgs...)
	if args := sts.Spec.Template.Spec.Containers[0].Args; !slices.Equal(args, wantArgs) {
		t.Errorf("the manager's args are %q, want %q", args, wantArgs)
	}
}

// TestShardedRenderMirrorsKustomize checks that the chart in three shards renders
// what config/sharded builds, object for object, for a release named
// healthcheck-operator: the same StatefulSet (less the image), headless Service
// and everything else.
func TestShardedRenderMirrorsKustomize(t *testing.T) {
	chart := render(t, kustomizeNamespace, map[string]any{"sharding": map[string]any{"shards": 3}})
	built := kustomizeBuild(t, "config", "sharded")

	var wantIDs, gotIDs []string
	for _, o := range built {
		if o.GetKind() != "Namespace" { // `helm install --create-namespace` makes it
			wantIDs = append(wantIDs, o.id())
		}
	}
	for _, o := range chart {
		gotIDs = append(gotIDs, o.id())
	}
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("the chart renders\n  %v\nconfig/sharded builds\n  %v", gotIDs, wantIDs)
	}

	have, want := shardedManager(t, chart), shardedManager(t, built)
	if *have.Spec.Replicas != *want.Spec.Replicas || have.Spec.ServiceName != want.Spec.ServiceName ||
		have.Spec.PodManagementPolicy != want.Spec.PodManagementPolicy {
		t.Errorf("the chart's StatefulSet has replicas %d, serviceName %q, podManagementPolicy %q; config/sharded's %d, %q, %q",
			*have.Spec.Replicas, have.Spec.ServiceName, have.Spec.PodManagementPolicy,
			*want.Spec.Replicas, want.Spec.ServiceName, want.Spec.PodManagementPolicy)
	}
	if !labels.SelectorFromSet(want.Spec.Template.Labels).Matches(labels.Set(have.Spec.Template.Labels)) {
		t.Errorf("the chart's pod labels %v lack config/sharded's %v", have.Spec.Template.Labels, want.Spec.Template.Labels)
	}
	// The image and its pull policy are values; the rest of the pod must match.
	havePod, wantPod := have.Spec.Template.Spec, want.Spec.Template.Spec
	for _, pod := range []*corev1.PodSpec{&havePod, &wantPod} {
		for i := range pod.Containers {
			pod.Containers[i].Image, pod.Containers[i].ImagePullPolicy = "", ""
		}
	}
	if !equality.Semantic.DeepEqual(havePod, wantPod) {
		t.Errorf("the chart's StatefulSet has the pod spec\n%s\nconfig/sharded's has\n%s", toYAML(t, havePod), toYAML(t, wantPod))
	}

	var haveSvc, wantSvc corev1.Service
	find(t, chart, "Service", have.Spec.ServiceName).into(t, &haveSvc)
	find(t, built, "Service", want.Spec.ServiceName).into(t, &wantSvc)
	if haveSvc.Spec.ClusterIP != wantSvc.Spec.ClusterIP || !equality.Semantic.DeepEqual(haveSvc.Spec.Ports, wantSvc.Spec.Ports) {
		t.Errorf("the chart's headless Service has clusterIP %q and ports %v; config/sharded's %q and %v",
			haveSvc.Spec.ClusterIP, haveSvc.Spec.Ports, wantSvc.Spec.ClusterIP, wantSvc.Spec.Ports)
	}
}

// kustomizeBuild builds a kustomization of the repository with `kubectl
// kustomize`: the envtest kubectl, built from source at a pinned release, embeds
// kustomize, as `kubectl apply -k` does.
func kustomizeBuild(t *testing.T, dir ...string) []object {
	t.Helper()
	path := filepath.Join(append([]string{repoRoot}, dir...)...)
	out, stderr, err := kubectl(nil, "kustomize", path)
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", path, err, stderr)
	}
	objs, err := parseObjects([]byte(out))
	if err != nil {
		t.Fatalf("parsing the output of kubectl kustomize %s: %v", path, err)
	}
	return objs
}

// shardedManager returns the single StatefulSet among objs, named as the
// Deployment it replaces.
func shardedManager(t *testing.T, objs []object) appsv1.StatefulSet {
	t.Helper()
	var sts appsv1.StatefulSet
	find(t, objs, "StatefulSet", kustomizeNamePrefix+"controller-manager").into(t, &sts)
	if n := len(sts.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("the manager pod has %d containers, want 1", n)
	}
	return sts
}

// checkGoverningService checks that the StatefulSet's serviceName is a headless
// Service among objs that selects its pods.
func checkGoverningService(t *testing.T, objs []object, sts appsv1.StatefulSet) {
	t.Helper()
	if want := kustomizeNamePrefix + "controller-manager-headless"; sts.Spec.ServiceName != want {
		t.Errorf("serviceName = %q, want %q", sts.Spec.ServiceName, want)
	}
	var svc corev1.Service
	find(t, objs, "Service", sts.Spec.ServiceName).into(t, &svc)
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("the StatefulSet's Service %s has clusterIP %q, want None (headless)", svc.Name, svc.Spec.ClusterIP)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(sts.Spec.Template.Labels)) {
		t.Errorf("the headless Service selects %v, which misses the pod labels %v", svc.Spec.Selector, sts.Spec.Template.Labels)
	}
	if len(svc.Spec.Selector) == 0 {
		t.Errorf("the headless Service %s selects nothing", svc.Name)
	}
}
