package controllers

import (
	"fmt"
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func TestEveryHealthCheckBelongsToExactlyOneShard(t *testing.T) {
	shards := []Shard{{Index: 0, Total: 3}, {Index: 1, Total: 3}, {Index: 2, Total: 3}}
	counts := make([]int, len(shards))
	for i := range 3000 {
		name := fmt.Sprintf("hc-%d", i)
		owners := 0
		for j, s := range shards {
			if s.Owns("team", name) {
				owners++
				counts[j]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s has %d owners", name, owners)
		}
	}
	for j, n := range counts {
		if n < 800 || n > 1200 {
			t.Fatalf("shard %d owns %d of 3000: %v", j, n, counts)
		}
	}
	if !(Shard{}).Owns("any", "thing") {
		t.Fatal("an unsharded operator must own everything")
	}
}

func TestShardValidationAndOrdinals(t *testing.T) {
	for _, s := range []Shard{{Index: 2, Total: 2}, {Index: -1, Total: 2}, {Total: -1}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := (Shard{Index: 1, Total: 2}).Validate(); err != nil {
		t.Error(err)
	}
	if n, err := OrdinalFromHostname("healthcheck-operator-12"); err != nil || n != 12 {
		t.Errorf("got %d, %v", n, err)
	}
	if _, err := OrdinalFromHostname("laptop"); err == nil {
		t.Error("a host name without an ordinal was accepted")
	}
}

// TestCacheKeepsOnlyOwnHealthChecksWhole: the cache transform drops
// managedFields, kubectl's last-applied-configuration, and the spec and
// status of other shards' HealthChecks.
func TestCacheKeepsOnlyOwnHealthChecksWhole(t *testing.T) {
	shard := Shard{Index: 0, Total: 2}
	mine, theirs := "", ""
	for i := 0; mine == "" || theirs == ""; i++ {
		name := fmt.Sprintf("hc-%d", i)
		if shard.Owns("team", name) {
			mine = name
		} else {
			theirs = name
		}
	}
	object := func(name string) *monitoringv1alpha1.HealthCheck {
		hc := &monitoringv1alpha1.HealthCheck{}
		hc.Namespace, hc.Name, hc.Generation = "team", name, 3
		hc.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
		hc.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"spec":{}}`, "team.example/owner": "web"}
		hc.Spec.Targets = make([]monitoringv1alpha1.Target, 1, 16) // as decoding leaves a list
		hc.Spec.Targets[0] = monitoringv1alpha1.Target{URL: "http://a.test/"}
		hc.Status.Targets = []monitoringv1alpha1.TargetStatus{{URL: "http://a.test/"}}
		hc.Status.Availability = &monitoringv1alpha1.AvailabilityStatus{GoodChecks: 1, TotalChecks: 1}
		hc.Status.Conditions = []metav1.Condition{{Type: monitoringv1alpha1.ConditionHealthy, Status: metav1.ConditionFalse}}
		return hc
	}

	got, err := shard.keepOwn(object(mine))
	if err != nil {
		t.Fatal(err)
	}
	own := got.(*monitoringv1alpha1.HealthCheck)
	if own.ManagedFields != nil || len(own.Spec.Targets) != 1 || cap(own.Spec.Targets) != 1 || len(own.Status.Conditions) != 1 ||
		len(own.Status.Targets) != 0 || own.Status.Availability != nil {
		t.Errorf("own HealthCheck: managedFields %v, %d targets (room for %d), %d conditions, %d target statuses, availability %v; want none, 1 (1), 1, none, none",
			own.ManagedFields, len(own.Spec.Targets), cap(own.Spec.Targets), len(own.Status.Conditions), len(own.Status.Targets), own.Status.Availability)
	}
	if want := map[string]string{"team.example/owner": "web"}; !maps.Equal(own.Annotations, want) {
		t.Errorf("own HealthCheck's annotations: %v, want %v", own.Annotations, want)
	}
	got, err = shard.keepOwn(object(theirs))
	if err != nil {
		t.Fatal(err)
	}
	other := got.(*monitoringv1alpha1.HealthCheck)
	if other.ManagedFields != nil || len(other.Spec.Targets) != 0 || len(other.Status.Targets) != 0 ||
		other.Name != theirs || other.Generation != 3 {
		t.Errorf("other shard's HealthCheck: %+v; want its metadata alone", other)
	}
	if want := map[string]string{"team.example/owner": "web"}; !maps.Equal(other.Annotations, want) {
		t.Errorf("other shard's HealthCheck's annotations: %v, want %v", other.Annotations, want)
	}
	if got, _ := shard.keepOwn("not a HealthCheck"); got != "not a HealthCheck" {
		t.Errorf("a tombstone came back as %v", got)
	}
}

// TestCacheDropsWhatNothingReadsOfEveryObject: of a discovered object (here an
// Ingress) the cache keeps neither managedFields nor kubectl's
// last-applied-configuration, and keeps every other annotation.
func TestCacheDropsWhatNothingReadsOfEveryObject(t *testing.T) {
	ing := &networkingv1.Ingress{}
	ing.Namespace, ing.Name = "team", "web"
	ing.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	ing.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"spec":{"rules":[]}}`, "team.example/owner": "web"}

	got, err := Shard{}.CacheOptions().DefaultTransform(ing)
	if err != nil {
		t.Fatal(err)
	}
	lean := got.(*networkingv1.Ingress)
	if lean.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", lean.ManagedFields)
	}
	if want := map[string]string{"team.example/owner": "web"}; !maps.Equal(lean.Annotations, want) {
		t.Errorf("annotations: %v, want %v", lean.Annotations, want)
	}

	only := &corev1.Service{}
	only.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}
	if got, _ := (Shard{}).CacheOptions().DefaultTransform(only); got.(*corev1.Service).Annotations != nil {
		t.Errorf("a Service's only annotation was last-applied; kept %v", got.(*corev1.Service).Annotations)
	}
	tombstone := toolscache.DeletedFinalStateUnknown{Key: "team/web"}
	if got, err := (Shard{}).CacheOptions().DefaultTransform(tombstone); err != nil || got != tombstone {
		t.Errorf("a tombstone came back as %v, %v", got, err)
	}
}
