package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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

// Collect implements prometheus.Collector. A scrape makes a series of every
// target's gauges, so it makes them cheaply: the labels of a HealthCheck, and
// of each of its targets, are made once per scrape and shared by their series
// (prometheus.MustNewConstMetric makes its own copy of every label, three
// allocations each), and each series is a targetSeries. The registry only
// reads the labels, and every scrape makes its own.
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
	for k := range all {
		// Label pairs sorted by name, as the registry expects them:
		// healthcheck, namespace, state, target. They point into all and
		// into the targets' slices, which are never changed.
		e := &all[k]
		hc := &dto.LabelPair{Name: &labelNames.healthCheck, Value: &e.key.Name}
		ns := &dto.LabelPair{Name: &labelNames.namespace, Value: &e.key.Namespace}
		for i := range e.targets {
			t := &e.targets[i]
			target := &dto.LabelPair{Name: &labelNames.target, Value: &t.name}
			labels := []*dto.LabelPair{hc, ns, target}
			switch t.state {
			case monitoringv1alpha1.StateUp, monitoringv1alpha1.StateSlow, monitoringv1alpha1.StateDown:
				ch <- &targetSeries{desc: g.up, labels: labels, value: boolToFloat(t.state != monitoringv1alpha1.StateDown)}
				ch <- &targetSeries{desc: g.slow, labels: labels, value: boolToFloat(t.state == monitoringv1alpha1.StateSlow)}
			}
			if t.hasLatency {
				ch <- &targetSeries{desc: g.lastLatency, labels: labels, value: t.latency}
			}
			if t.certExpiry != 0 {
				ch <- &targetSeries{desc: g.certExpiry, labels: labels, value: float64(t.certExpiry)}
			}
			if t.backends != nil {
				for j, n := range t.backends {
					ch <- &targetSeries{desc: g.backends, labels: []*dto.LabelPair{hc, ns, backendStatePairs[j], target}, value: float64(n)}
				}
			}
		}
	}
}

// labelNames are the names of the targets' labels, which their series point
// to.
var labelNames = struct{ healthCheck, namespace, state, target string }{
	labelHealthCheck, labelNamespace, labelState, labelTarget,
}

// backendStatePairs are the state labels of healthcheck_target_backends,
// shared by every scrape, as a registered vector shares its series' labels.
var backendStatePairs = [len(backendStates)]*dto.LabelPair{
	{Name: &labelNames.state, Value: &backendStates[0]},
	{Name: &labelNames.state, Value: &backendStates[1]},
	{Name: &labelNames.state, Value: &backendStates[2]},
}

// targetSeries is one gauge series of a target, as a scrape makes it.
type targetSeries struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
}

// Desc implements prometheus.Metric.
func (s *targetSeries) Desc() *prometheus.Desc { return s.desc }

// Write implements prometheus.Metric.
func (s *targetSeries) Write(out *dto.Metric) error {
	out.Label = s.labels
	out.Gauge = &dto.Gauge{Value: &s.value}
	return nil
}
