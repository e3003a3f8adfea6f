package controllers

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Shard is this operator process's share of the HealthChecks when several
// processes split them (kube-state-metrics' and Argo CD's habit): each HealthCheck
// belongs to exactly one shard, by a stable hash of its namespace and name. Each
// shard elects its own leader. The zero value owns everything.
type Shard struct {
	// Index is this shard's number, from 0 to Total-1.
	Index int
	// Total is the number of shards; 0 or 1 means no sharding.
	Total int
}

// Owns tells whether the HealthCheck namespace/name belongs to this shard.
func (s Shard) Owns(namespace, name string) bool {
	if s.Total <= 1 {
		return true
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(namespace + "/" + name))
	return int(h.Sum32()%uint32(s.Total)) == s.Index
}

// Validate reports a shard that cannot own anything.
func (s Shard) Validate() error {
	if s.Total < 0 || (s.Total > 1 && (s.Index < 0 || s.Index >= s.Total)) {
		return fmt.Errorf("shard index %d is not within 0 to %d (total shards %d)", s.Index, s.Total-1, s.Total)
	}
	return nil
}

// String names the shard, as in a leader election lease.
func (s Shard) String() string {
	if s.Total <= 1 {
		return "all"
	}
	return fmt.Sprintf("%d-of-%d", s.Index, s.Total)
}

// predicate passes only events of HealthChecks this shard owns.
func (s Shard) predicate() predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool { return s.Owns(o.GetNamespace(), o.GetName()) })
}

// CacheOptions are the manager's cache options for this shard. Nothing in the
// operator reads managedFields or kubectl's last-applied-configuration
// annotation, so they are dropped from every object (see lean), and a
// HealthCheck of another shard is kept as its metadata only: every shard sees
// every HealthCheck (the hash needs nothing but the name), but holds the spec
// and status of its own share alone, so memory divides with the shards. Of its
// own HealthChecks' status it keeps neither the targets nor availability.
func (s Shard) CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: lean,
		ByObject: map[client.Object]cache.ByObject{
			&monitoringv1alpha1.HealthCheck{}: {Transform: s.keepOwn},
		},
	}
}

// keepOwn is the cache transform of HealthChecks (see CacheOptions).
func (s Shard) keepOwn(obj any) (any, error) {
	hc, ok := obj.(*monitoringv1alpha1.HealthCheck)
	if !ok {
		return obj, nil // a tombstone: its object was transformed on the way in
	}
	if _, err := lean(hc); err != nil {
		return nil, err
	}
	// Of status the manager reads its conditions from the cache (a dependency's
	// Healthy), and the rest from the API server once (see working): per
	// target, the cache would hold a copy that nothing reads.
	hc.Status.Targets, hc.Status.Availability = nil, nil
	if cap(hc.Spec.Targets) > len(hc.Spec.Targets) {
		// Decoding grew the list by doubling: 10 targets had room for 16,
		// kept in the cache for as long as the HealthCheck is.
		hc.Spec.Targets = slices.Clone(hc.Spec.Targets)
	}
	if !s.Owns(hc.Namespace, hc.Name) {
		hc.Spec = monitoringv1alpha1.HealthCheckSpec{}
		hc.Status = monitoringv1alpha1.HealthCheckStatus{}
	}
	return hc, nil
}

// stripManagedFields is controller-runtime's transform that drops managedFields.
var stripManagedFields = cache.TransformStripManagedFields()

// lean drops from an object what the cache would keep and nothing reads:
// managedFields, and the kubectl.kubernetes.io/last-applied-configuration
// annotation, a copy of the whole object as last applied that client-side
// `kubectl apply` (and Argo CD, unless it applies server-side) keeps on every
// object it applies: a second copy of a HealthCheck's spec, of an Ingress's
// rules. The object is the cache's own, freshly decoded, so it is changed in
// place.
func lean(in any) (any, error) {
	out, err := stripManagedFields(in)
	if err != nil {
		return nil, err
	}
	if obj, err := meta.Accessor(out); err == nil {
		if annotations := obj.GetAnnotations(); annotations != nil {
			if _, ok := annotations[corev1.LastAppliedConfigAnnotation]; ok {
				delete(annotations, corev1.LastAppliedConfigAnnotation)
				if len(annotations) == 0 {
					obj.SetAnnotations(nil)
				}
			}
		}
	}
	return out, nil
}

// OrdinalFromHostname reads a StatefulSet pod's ordinal from its host name, such
// as 2 from "healthcheck-operator-2".
func OrdinalFromHostname(hostname string) (int, error) {
	i := strings.LastIndexByte(hostname, '-')
	if i < 0 {
		return 0, fmt.Errorf("host name %q has no -N ordinal suffix of a StatefulSet pod", hostname)
	}
	n, err := strconv.Atoi(hostname[i+1:])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("host name %q has no -N ordinal suffix of a StatefulSet pod", hostname)
	}
	return n, nil
}
