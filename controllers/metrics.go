package controllers

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/notify"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// Metric label names. `target` is the target's display name; `reason` and `result`
// take values from fixed enums, never free text, so cardinality stays bounded by
// the number of targets.
const (
	labelNamespace   = "namespace"
	labelHealthCheck = "healthcheck"
	labelTarget      = "target"
	labelResult      = "result"
	labelReason      = "reason"
	labelState       = "state"
)

// Values of the state label of healthcheck_target_backends.
var backendStates = [...]string{"up", "slow", "down"}

// Values of the result label of healthcheck_checks_total.
const (
	resultSuccess = "success"
	resultFailure = "failure"
)

// Metrics holds the operator's Prometheus metrics. They are served on the manager's
// metrics endpoint.
type Metrics struct {
	// targets are the gauges of each target: up, slow, the latency of its last
	// answer (one series a target, where a histogram costs sixteen),
	// certificate expiry and backends by state.
	targets *targetGauges
	// targetLatency, nil unless MetricsOptions.TargetLatencyHistograms, is the
	// distribution of each target's latencies.
	targetLatency *prometheus.HistogramVec
	availability  *prometheus.GaugeVec
	budgetLeft    *prometheus.GaugeVec
	objective     *prometheus.GaugeVec
	checks        *prometheus.CounterVec
	roundDuration *prometheus.HistogramVec
	scheduleLag   prometheus.Histogram
	// notificationsDropped counts webhook messages not delivered, by reason
	// (notify.DropReason), so a lost notification is never silent.
	notificationsDropped *prometheus.CounterVec
}

// MetricsOptions chooses optional metrics.
type MetricsOptions struct {
	// TargetLatencyHistograms adds healthcheck_target_latency_seconds, a
	// histogram of each target's latencies: sixteen series a target, where the
	// default metrics keep four at most.
	TargetLatencyHistograms bool
}

// NewMetrics creates the metrics and registers them with reg, all but the
// targets' gauges, which a scrape streams after reg's metrics
// (ServeTargetSeries); Gatherer(reg) gathers them all.
func NewMetrics(reg prometheus.Registerer, opts MetricsOptions) *Metrics {
	targetLabels := []string{labelNamespace, labelHealthCheck, labelTarget}
	m := &Metrics{
		targets: newTargetGauges(),
		availability: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthcheck_availability_ratio",
			Help: "Good checks over counted checks in the HealthCheck's availability window (0 to 1), as status.availability.ratio.",
		}, []string{labelNamespace, labelHealthCheck}),
		budgetLeft: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthcheck_error_budget_remaining_ratio",
			Help: "Share of spec.objective's error budget left in the window (1 is all of it, negative once overspent); absent without an objective.",
		}, []string{labelNamespace, labelHealthCheck}),
		objective: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthcheck_objective_ratio",
			Help: "spec.objective.availability as a ratio (0.999 for 99.9); absent without an objective.",
		}, []string{labelNamespace, labelHealthCheck}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcheck_checks_total",
			Help: "Checks run, by result (success or failure) and reason.",
		}, []string{labelNamespace, labelHealthCheck, labelResult, labelReason}),
		roundDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "healthcheck_round_duration_seconds",
			Help:    "How long a round over all targets of a HealthCheck took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}, []string{labelNamespace, labelHealthCheck}),
		scheduleLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "healthcheck_schedule_lag_seconds",
			Help:    "How late rounds start after they are due: the operator's own saturation signal.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		notificationsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcheck_notifications_dropped_total",
			Help: "Webhook notifications not delivered, by reason: QueueFull, TooManyReceivers, GaveUp or Shutdown.",
		}, []string{labelReason}),
	}
	if opts.TargetLatencyHistograms {
		m.targetLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "healthcheck_target_latency_seconds",
			Help:    "Time from request start to response headers, of checks that got a response.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 4, 8, 16, 30},
		}, targetLabels)
		reg.MustRegister(m.targetLatency)
	}
	reg.MustRegister(m.availability, m.budgetLeft, m.objective, m.checks, m.roundDuration, m.scheduleLag, m.notificationsDropped)
	return m
}

// defaultMetrics is registered once with controller-runtime's registry, which the
// manager serves; every reconciler in the process shares it.
var (
	defaultMetricsOnce sync.Once
	defaultMetricsOf   *Metrics
)

// defaultMetrics returns the process's metrics, registered with
// controller-runtime's registry the first time with opts.
func defaultMetrics(opts MetricsOptions) *Metrics {
	defaultMetricsOnce.Do(func() {
		defaultMetricsOf = NewMetrics(metrics.Registry, opts)
		servedTargets.Store(defaultMetricsOf.targets)
	})
	return defaultMetricsOf
}

// Gatherer gathers what the manager's /metrics serves for m and reg, the
// registry m was made with: reg's metrics and the targets' series.
func (m *Metrics) Gatherer(reg prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.Gatherers{reg, m.targets.registry}
}

// Gather gathers what the manager's /metrics serves: controller-runtime's
// registry and, once a reconciler is set up, the targets' series. A scrape
// streams the latter (ServeTargetSeries); this is for tests and tools.
func Gather() ([]*dto.MetricFamily, error) {
	if targets := servedTargets.Load(); targets != nil {
		return prometheus.Gatherers{metrics.Registry, targets.registry}.Gather()
	}
	return metrics.Registry.Gather()
}

// observeRound records a finished round: every check (each backend's, for a
// fanned-out target), the targets' states, their backends by state and the
// round's duration. Series of targets no longer in the round go.
func (m *Metrics) observeRound(key types.NamespacedName, rnd *round, judged []monitoringv1alpha1.TargetStatus) {
	ns, name := key.Namespace, key.Name
	m.roundDuration.WithLabelValues(ns, name).Observe(rnd.duration.Seconds())
	before := m.targets.previous(key)
	var byName map[string]*targetGauge // built only when targets moved
	previous := func(i int, target string) *targetGauge {
		if i < len(before) && before[i].name == target {
			return &before[i]
		}
		if byName == nil {
			byName = make(map[string]*targetGauge, len(before))
			for j := range before {
				byName[before[j].name] = &before[j]
			}
		}
		return byName[target]
	}
	after := make([]targetGauge, 0, len(rnd.targets))
	// at indexes after by name: targets whose names are the same (two URLs
	// that differ only in a redacted query) share their series, and the
	// last of them sets it, as a gauge set twice would.
	at := make(map[string]int, len(rnd.targets))
	for i, t := range rnd.targets {
		g := targetGauge{name: t.Name, state: judged[i].State}
		if prev := previous(i, t.Name); prev != nil {
			g.latency, g.hasLatency, g.certExpiry = prev.latency, prev.hasLatency, prev.certExpiry
		}
		if t.Checkable() {
			m.observeChecks(ns, name, t.Name, rnd.results[i], &g)
		}
		if counts := judged[i].Backends; counts != nil {
			g.backends = &[3]int32{counts.Up, counts.Slow, counts.Down}
		}
		if j, twice := at[t.Name]; twice {
			after[j] = g
			continue
		}
		at[t.Name] = len(after)
		after = append(after, g)
	}
	m.targets.set(key, after)
	if m.targetLatency == nil {
		return
	}
	for _, old := range before {
		if _, kept := at[old.name]; !kept {
			m.targetLatency.DeleteLabelValues(ns, name, old.name)
		}
	}
}

// observeAvailability sets a HealthCheck's availability gauges: the ratio
// over the window (absent before anything counted), and, with an objective,
// the error budget left and the objective itself.
func (m *Metrics) observeAvailability(key types.NamespacedName, figures availability.Figures, o *availability.Objective) {
	ns, name := key.Namespace, key.Name
	if ratio, ok := figures.Availability(); ok {
		m.availability.WithLabelValues(ns, name).Set(ratio)
	} else {
		m.availability.DeleteLabelValues(ns, name)
	}
	if o == nil {
		m.budgetLeft.DeleteLabelValues(ns, name)
		m.objective.DeleteLabelValues(ns, name)
		return
	}
	m.budgetLeft.WithLabelValues(ns, name).Set(figures.BudgetRemainingRatio(*o))
	m.objective.WithLabelValues(ns, name).Set(o.Ratio())
}

// observeChecks records the checks of a target's result, its backends' for a
// fanned-out target that had any, else its own, and sets its gauges' latency
// and certificate expiry: a check that got no answer (a refused connection, a
// timeout) leaves the last latency, and a fanned-out target's certificate
// expiry is the one its result reports, which expires first.
func (m *Metrics) observeChecks(ns, name, target string, res resolve.Result, g *targetGauge) {
	if len(res.Backends) == 0 {
		m.observeCheck(ns, name, target, res.Result)
	}
	for _, b := range res.Backends {
		m.observeCheck(ns, name, target, b.Result)
	}
	if res.StatusCode != 0 || res.Seen != "" {
		g.latency, g.hasLatency = res.Latency.Seconds(), true
	}
	if res.CertificateExpiresAt != nil {
		g.certExpiry = res.CertificateExpiresAt.Unix()
	}
}

// observeCheck records one check of a target.
func (m *Metrics) observeCheck(ns, name, target string, res checker.Result) {
	result := resultFailure
	if res.OK() {
		result = resultSuccess
	}
	m.checks.WithLabelValues(ns, name, result, string(res.Reason)).Inc()
	if m.targetLatency != nil && res.StatusCode != 0 {
		m.targetLatency.WithLabelValues(ns, name, target).Observe(res.Latency.Seconds())
	}
}

// observeDroppedNotification counts a webhook message that was not delivered.
func (m *Metrics) observeDroppedNotification(_ notify.Message, reason notify.DropReason) {
	m.notificationsDropped.WithLabelValues(string(reason)).Inc()
}

// observeLag records how late a round started.
func (m *Metrics) observeLag(lag time.Duration) {
	m.scheduleLag.Observe(max(lag, 0).Seconds())
}

// forget deletes every series of a HealthCheck, as when it is deleted.
func (m *Metrics) forget(key types.NamespacedName) {
	match := prometheus.Labels{labelNamespace: key.Namespace, labelHealthCheck: key.Name}
	m.targets.forget(key)
	if m.targetLatency != nil {
		m.targetLatency.DeletePartialMatch(match)
	}
	m.availability.Delete(match)
	m.budgetLeft.Delete(match)
	m.objective.Delete(match)
	m.checks.DeletePartialMatch(match)
	m.roundDuration.DeletePartialMatch(match)
}

func boolToFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
