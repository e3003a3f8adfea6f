package controllers

import (
	"cmp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// targetGauges holds the gauges of each target (up, slow, last latency,
// certificate expiry, backends by state) from what the last round of each
// HealthCheck found, and makes their series when Prometheus scrapes. A
// registered gauge vector keeps a series per target and gauge, each with its
// own copy of every label, which was the largest part of the manager's memory
// per target (about 2 KiB a target); here a target costs one targetGauge.
// kube-state-metrics makes its series from its store at scrape time in the same
// way, and writes them out itself (see writeSeries): the manager's /metrics
// streams them after the registry's metrics rather than have the registry
// materialise each series (ServeTargetSeries). As a prometheus.Collector, it
// gives the same series to a registry (registry), for tests and formats that
// are not streamed. The histogram behind --target-latency-histograms stays a
// registered vector: it accumulates.
type targetGauges struct {
	descs [numTargetFamilies]*prometheus.Desc
	// registry holds the gauges alone, to gather them as families.
	registry *prometheus.Registry

	mu sync.RWMutex
	// of holds each HealthCheck's targets after its last round. A slice is
	// replaced, never changed, so a scrape reads it outside the lock.
	of map[types.NamespacedName][]targetGauge
}

// targetFamily is one of the targets' gauges.
type targetFamily int

const (
	familyUp targetFamily = iota
	familySlow
	familyLastLatency
	familyCertExpiry
	familyBackends
	numTargetFamilies
)

// targetFamilies are the names and help of the targets' gauges. Their labels
// are namespace, healthcheck and target, and state for familyBackends.
var targetFamilies = [numTargetFamilies]struct{ name, help string }{
	familyUp: {"healthcheck_target_up",
		"1 when the target is Up or Slow, 0 when it is Down; absent while Pending."},
	familySlow: {"healthcheck_target_slow",
		"1 when the target is Slow, else 0; absent while Pending."},
	familyLastLatency: {"healthcheck_target_last_latency_seconds",
		"Latency of the target's last check that got an answer (for a fanned-out target, its judgement of its backends'), as status.targets[].latencyMs."},
	familyCertExpiry: {"healthcheck_target_certificate_expiry_timestamp_seconds",
		"When the TLS certificate of an https target expires, as a Unix time."},
	familyBackends: {"healthcheck_target_backends",
		"Backends of a fanned-out target by the state of their last check (up, slow, down); absent for other targets."},
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

// values returns the values of the target's series of family f, in into: none
// or one, or for familyBackends one for each of backendStates, in its order.
func (t *targetGauge) values(f targetFamily, into *[len(backendStates)]float64) []float64 {
	judged := t.state == monitoringv1alpha1.StateUp || t.state == monitoringv1alpha1.StateSlow || t.state == monitoringv1alpha1.StateDown
	switch {
	case f == familyUp && judged:
		into[0] = boolToFloat(t.state != monitoringv1alpha1.StateDown)
	case f == familySlow && judged:
		into[0] = boolToFloat(t.state == monitoringv1alpha1.StateSlow)
	case f == familyLastLatency && t.hasLatency:
		into[0] = t.latency
	case f == familyCertExpiry && t.certExpiry != 0:
		into[0] = float64(t.certExpiry)
	case f == familyBackends && t.backends != nil:
		for i, n := range t.backends {
			into[i] = float64(n)
		}
		return into[:]
	default:
		return nil
	}
	return into[:1]
}

func newTargetGauges() *targetGauges {
	g := &targetGauges{registry: prometheus.NewRegistry(), of: map[types.NamespacedName][]targetGauge{}}
	for f, family := range targetFamilies {
		labels := []string{labelNamespace, labelHealthCheck, labelTarget}
		if targetFamily(f) == familyBackends {
			labels = append(labels, labelState)
		}
		g.descs[f] = prometheus.NewDesc(family.name, family.help, labels, nil)
	}
	g.registry.MustRegister(g)
	return g
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
	for _, d := range g.descs {
		ch <- d
	}
}

// hcTargets are the targets of one HealthCheck, as a scrape reads them.
type hcTargets struct {
	key     types.NamespacedName
	targets []targetGauge
}

// snapshot returns every HealthCheck's targets, sorted by namespace and name.
func (g *targetGauges) snapshot() []hcTargets {
	g.mu.RLock()
	all := make([]hcTargets, 0, len(g.of))
	for key, targets := range g.of {
		all = append(all, hcTargets{key, targets})
	}
	g.mu.RUnlock()
	slices.SortFunc(all, func(a, b hcTargets) int {
		return cmp.Or(cmp.Compare(a.key.Namespace, b.key.Namespace), cmp.Compare(a.key.Name, b.key.Name))
	})
	return all
}

// Collect implements prometheus.Collector, for registry: the same series as
// a scrape writes (eachSample), as constant metrics. It is off the scrape's
// path, so its allocations do not matter.
func (g *targetGauges) Collect(ch chan<- prometheus.Metric) {
	all := g.snapshot()
	for f := range numTargetFamilies {
		_ = eachSample(all, f, func(s sample) error { // it returns no error
			labels := []string{s.namespace, s.healthCheck, s.target}
			if s.state != "" {
				labels = append(labels, s.state)
			}
			m, err := prometheus.NewConstMetric(g.descs[f], prometheus.GaugeValue, s.value, labels...)
			if err != nil {
				m = prometheus.NewInvalidMetric(g.descs[f], err)
			}
			ch <- m
			return nil
		})
	}
}

// sample is one series of a target's family. Its labels are written sorted by
// name, as the registry writes them: healthcheck, namespace, state (empty but
// for familyBackends), target.
type sample struct {
	namespace, healthCheck, state, target string
	value                                 float64
}

// eachSample calls fn with each series of family f of all, in order, and stops
// at its first error.
func eachSample(all []hcTargets, f targetFamily, fn func(sample) error) error {
	var values [len(backendStates)]float64
	for k := range all {
		e := &all[k]
		for i := range e.targets {
			t := &e.targets[i]
			for j, v := range t.values(f, &values) {
				s := sample{namespace: e.key.Namespace, healthCheck: e.key.Name, target: t.name, value: v}
				if f == familyBackends {
					s.state = backendStates[j]
				}
				if err := fn(s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
