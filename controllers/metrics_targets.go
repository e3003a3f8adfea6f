package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// targetGauges serves the gauges of each target (up, slow, last latency,
// certificate expiry, backends by state) from what the last round of each
// HealthCheck found, made when Prometheus scrapes. A registered gauge vector
// keeps a series per target and gauge, each with its own copy of every label,
// which was the largest part of the manager's memory per target (about 2 KiB a
// target); here a target costs one targetGauge. kube-state-metrics makes its
// series from its store at scrape time in the same way. The histogram behind
// --target-latency-histograms stays a vector: it accumulates.
type targetGauges struct {
	up, slow, lastLatency, certExpiry, backends *prometheus.Desc

	mu sync.RWMutex
	// of holds each HealthCheck's targets after its last round. A slice is
	// replaced, never changed, so Collect reads it outside the lock.
	of map[types.NamespacedName][]targetGauge
}

// targetGauge is one target's gauges.
type targetGauge struct {
	name string
	// state is its judged state; Pending (or a target never judged) has no up
	// and slow series.
	state monitoringv1alpha1.TargetState
	// latency is the latency of its last check that got an answer, in seconds,
	// when hasLatency.
	latency    float64
	hasLatency bool
	// certExpiry is when its certificate expires, in Unix seconds; 0 for none seen.
	certExpiry int64
	// backends are a fanned-out target's backends up, slow and down; nil for
	// other targets.
	backends *[3]int32
}

func newTargetGauges() *targetGauges {
	targetLabels := []string{labelNamespace, labelHealthCheck, labelTarget}
	return &targetGauges{
		up: prometheus.NewDesc("healthcheck_target_up",
			"1 when the target is Up or Slow, 0 when it is Down; absent while Pending.", targetLabels, nil),
		slow: prometheus.NewDesc("healthcheck_target_slow",
			"1 when the target is Slow, else 0; absent while Pending.", targetLabels, nil),
		lastLatency: prometheus.NewDesc("healthcheck_target_last_latency_seconds",
			"Latency of the target's last check that got an answer (for a fanned-out target, its judgement of its backends'), as status.targets[].latencyMs.",
			targetLabels, nil),
		certExpiry: prometheus.NewDesc("healthcheck_target_certificate_expiry_timestamp_seconds",
			"When the TLS certificate of an https target expires, as a Unix time.", targetLabels, nil),
		backends: prometheus.NewDesc("healthcheck_target_backends",
			"Backends of a fanned-out target by the state of their last check (up, slow, down); absent for other targets.",
			[]string{labelNamespace, labelHealthCheck, labelTarget, labelState}, nil),
		of: map[types.NamespacedName][]targetGauge{},
	}
}

// previous returns a HealthCheck's targets before a round, to carry what a
// round may not tell again (the last latency, the certificate's expiry).
func (g *targetGauges) previous(key types.NamespacedName) []targetGauge {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.of[key]
}

// set replaces a HealthCheck's targets.
func (g *targetGauges) set(key types.NamespacedName, targets []targetGauge) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.of[key] = targets
}

// forget drops a HealthCheck's targets, and so their series.
func (g *targetGauges) forget(key types.NamespacedName) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.of, key)
}

// Describe implements prometheus.Collector.
func (g *targetGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{g.up, g.slow, g.lastLatency, g.certExpiry, g.backends} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (g *targetGauges) Collect(ch chan<- prometheus.Metric) {
	type entry struct {
		key     types.NamespacedName
		targets []targetGauge
	}
	g.mu.RLock()
	all := make([]entry, 0, len(g.of))
	for key, targets := range g.of {
		all = append(all, entry{key, targets})
	}
	g.mu.RUnlock()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for _, e := range all {
		ns, name := e.key.Namespace, e.key.Name
		for _, t := range e.targets {
			switch t.state {
			case monitoringv1alpha1.StateUp, monitoringv1alpha1.StateSlow, monitoringv1alpha1.StateDown:
				gauge(g.up, boolToFloat(t.state != monitoringv1alpha1.StateDown), ns, name, t.name)
				gauge(g.slow, boolToFloat(t.state == monitoringv1alpha1.StateSlow), ns, name, t.name)
			}
			if t.hasLatency {
				gauge(g.lastLatency, t.latency, ns, name, t.name)
			}
			if t.certExpiry != 0 {
				gauge(g.certExpiry, float64(t.certExpiry), ns, name, t.name)
			}
			if t.backends != nil {
				for i, n := range t.backends {
					gauge(g.backends, float64(n), ns, name, t.name, backendStates[i])
				}
			}
		}
	}
}
