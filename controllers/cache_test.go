package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// A cached copy that has not seen this process's last status write is told
// apart from one that has, so that the same status is not written twice.
func TestACacheBehindTheLastWriteIsToldApart(t *testing.T) {
	r := &HealthCheckReconciler{}
	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hc"}}
	if r.cacheIsBehind(hc) {
		t.Fatal("with no write of its own, the cache is all there is")
	}
	written := metav1.NewTime(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	r.written.Store(types.NamespacedName{Namespace: "ns", Name: "hc"}, written.Time)
	for _, tc := range []struct {
		cached *metav1.Time
		behind bool
	}{
		{nil, true},
		{&metav1.Time{Time: written.Add(-10 * time.Second)}, true},
		{&written, false},
		{&metav1.Time{Time: written.Add(10 * time.Second)}, false},
	} {
		hc.Status.LastRunTime = tc.cached
		if got := r.cacheIsBehind(hc); got != tc.behind {
			t.Errorf("cached lastRunTime %v, written %v: behind = %v, want %v", tc.cached, written, got, tc.behind)
		}
	}
}
