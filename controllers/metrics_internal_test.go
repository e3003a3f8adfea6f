package controllers

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// seriesPerTarget gathers reg and counts the series of each target.
func seriesPerTarget(t *testing.T, reg *prometheus.Registry) map[string]int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			n := 1
			if h := m.GetHistogram(); h != nil {
				n = len(h.GetBucket()) + 3 // each bucket, +Inf, _sum and _count
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == labelTarget {
					counts[l.GetValue()] += n
				}
			}
		}
	}
	return counts
}

func TestATargetHasAtMostFourSeriesByDefault(t *testing.T) {
	expires := checkedAt.Add(30 * 24 * time.Hour)
	res := good(false)
	res.CertificateExpiresAt = &expires
	rnd := &round{started: checkedAt, targets: []resolve.Target{{URL: "https://shop/", Name: "shop"}}, results: results(res)}
	judged := []monitoringv1alpha1.TargetStatus{{URL: "https://shop/", State: monitoringv1alpha1.StateUp}}
	key := types.NamespacedName{Namespace: "ns", Name: "hc"}

	reg := prometheus.NewRegistry()
	NewMetrics(reg, MetricsOptions{}).observeRound(key, rnd, judged)
	if got := seriesPerTarget(t, reg)["shop"]; got != 4 {
		t.Fatalf("an https target has %d series, want 4: up, slow, last latency, certificate expiry", got)
	}

	withHistograms := prometheus.NewRegistry()
	NewMetrics(withHistograms, MetricsOptions{TargetLatencyHistograms: true}).observeRound(key, rnd, judged)
	if got := seriesPerTarget(t, withHistograms)["shop"]; got != 4+16 {
		t.Fatalf("with histograms an https target has %d series, want 20", got)
	}
}
