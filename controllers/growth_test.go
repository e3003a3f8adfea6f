package controllers

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// flappingRound is round k of n targets that all flip between Up and Down
// every round: the most status can change from one round to the next.
func flappingRound(n, k int) *round {
	rnd := &round{started: checkedAt.Add(time.Duration(k) * 10 * time.Second), duration: time.Second}
	for i := range n {
		url := fmt.Sprintf("https://service-%03d.team.svc.cluster.local:8443/healthz", i)
		rnd.targets = append(rnd.targets, resolve.Target{URL: url, Name: url})
		res := good(false)
		if k%2 == 1 {
			res = bad()
		}
		res.CheckedAt = rnd.started
		rnd.results = append(rnd.results, resolve.Result{Result: res})
	}
	return rnd
}

// TestStatusDoesNotGrowWithHistory: after a thousand rounds of flapping targets,
// status is as big as after a few, and a round costs about the same
// allocations: status holds the last result of each target, nothing of the past.
func TestStatusDoesNotGrowWithHistory(t *testing.T) {
	const n = 50
	status := &monitoringv1alpha1.HealthCheckStatus{}
	th := thresholds{failure: 1, success: 1}
	size := func() int {
		b, err := json.Marshal(status)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	allocs := func(k int) float64 {
		return testing.AllocsPerRun(20, func() {
			s := status.DeepCopy()
			applyRound(s, 1, flappingRound(n, k), th, checkedAt, backendsDown{})
		})
	}
	for k := range 4 {
		applyRound(status, 1, flappingRound(n, k), th, checkedAt, backendsDown{})
	}
	early, earlyAllocs := size(), allocs(4)
	for k := 4; k < 1004; k++ {
		applyRound(status, 1, flappingRound(n, k), th, checkedAt, backendsDown{})
	}
	late, lateAllocs := size(), allocs(1004)
	t.Logf("status after 4 rounds: %d bytes, %.0f allocations a round; after 1004: %d bytes, %.0f", early, earlyAllocs, late, lateAllocs)
	if late > early+16 { // times may gain a digit, nothing more
		t.Errorf("status grew from %d to %d bytes over 1000 rounds", early, late)
	}
	// AllocsPerRun counts the whole process's allocations, and this package runs a
	// manager in the background, so a few more or less are noise; twice as many
	// would be a round's cost growing with the rounds before it.
	if lateAllocs > 2*earlyAllocs {
		t.Errorf("a round allocates %.0f times after 1000 rounds, %.0f after 4", lateAllocs, earlyAllocs)
	}
}

// TestStatusPatchIsLinearInTargets: the status patch the reconciler sends
// (client.MergeFrom) for a round in which every target changes state costs the
// same bytes a target at 10, 100 and 500 targets.
func TestStatusPatchIsLinearInTargets(t *testing.T) {
	perTarget := map[int]float64{}
	for _, n := range []int{10, 100, monitoringv1alpha1.MaxTargets} {
		hc := &monitoringv1alpha1.HealthCheck{}
		th := thresholds{failure: 1, success: 1}
		applyRound(&hc.Status, 1, flappingRound(n, 0), th, checkedAt, backendsDown{})
		base := hc.DeepCopy()
		applyRound(&hc.Status, 1, flappingRound(n, 1), th, checkedAt, backendsDown{})
		patch, err := client.MergeFrom(base).Data(hc)
		if err != nil {
			t.Fatal(err)
		}
		perTarget[n] = float64(len(patch)) / float64(n)
		t.Logf("%d targets all flipping: a %d-byte merge patch, %.0f bytes a target", n, len(patch), perTarget[n])
	}
	for n, b := range perTarget {
		if b > 1.25*perTarget[monitoringv1alpha1.MaxTargets] || b < 0.8*perTarget[monitoringv1alpha1.MaxTargets] {
			t.Errorf("%.0f bytes a target at %d targets, %.0f at %d: not linear", b, n, perTarget[monitoringv1alpha1.MaxTargets], monitoringv1alpha1.MaxTargets)
		}
	}
}
