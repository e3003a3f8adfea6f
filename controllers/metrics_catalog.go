package controllers

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// maxCatalogLabels bounds nameAndLabels' search for a metric's label count:
// far above what any metric of the operator has.
const maxCatalogLabels = 32

// MetricCatalog returns the series names the operator exports, each with its
// label names, sorted, as Prometheus stores them: a histogram appears as its
// _bucket (with le), _sum and _count series, a summary as its own name (with
// quantile), _sum and _count. It is read from the metrics NewMetrics makes,
// so tests of the dashboard and alerts check their queries against what the
// code exports. controller-runtime's own metrics are not in it.
func MetricCatalog() map[string][]string {
	reg := &recordingRegisterer{Registerer: prometheus.NewPedanticRegistry()}
	m := NewMetrics(reg, MetricsOptions{TargetLatencyHistograms: true})
	catalog := map[string][]string{}
	// The targets' gauges are served apart from the registry (ServeTargetSeries).
	for _, c := range append(reg.collectors, m.targets) {
		kind := metricKind(c)
		descs := make(chan *prometheus.Desc)
		go func() {
			c.Describe(descs)
			close(descs)
		}()
		for desc := range descs {
			name, labels := nameAndLabels(desc)
			switch kind {
			case dto.MetricType_HISTOGRAM:
				catalog[name+"_bucket"] = sortedWith(labels, "le")
				catalog[name+"_sum"] = slices.Clone(labels)
				catalog[name+"_count"] = slices.Clone(labels)
			case dto.MetricType_SUMMARY:
				catalog[name] = sortedWith(labels, "quantile")
				catalog[name+"_sum"] = slices.Clone(labels)
				catalog[name+"_count"] = slices.Clone(labels)
			default:
				catalog[name] = labels
			}
		}
	}
	return catalog
}

// recordingRegisterer registers collectors with a registry, which checks them,
// and remembers them so their descriptions can be read back.
type recordingRegisterer struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	if err := r.Registerer.Register(c); err != nil {
		return err
	}
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// metricKind tells how a collector's series are named. A vector's type is its
// Go type; a single metric says its own when written out.
func metricKind(c prometheus.Collector) dto.MetricType {
	switch c := c.(type) {
	case *prometheus.HistogramVec:
		return dto.MetricType_HISTOGRAM
	case *prometheus.SummaryVec:
		return dto.MetricType_SUMMARY
	case prometheus.Metric:
		var m dto.Metric
		if err := c.Write(&m); err == nil {
			switch {
			case m.Histogram != nil:
				return dto.MetricType_HISTOGRAM
			case m.Summary != nil:
				return dto.MetricType_SUMMARY
			}
		}
	}
	return dto.MetricType_UNTYPED
}

// nameAndLabels returns a description's metric name and label names, sorted. Desc
// keeps them private, so it builds a constant metric from desc, finding how many
// label values that takes, and gathers it through a registry of its own, which
// reports its name and labels: variable and constant ones alike.
func nameAndLabels(desc *prometheus.Desc) (string, []string) {
	if err := desc.Err(); err != nil {
		panic(fmt.Sprintf("metric description %s: %v", desc, err))
	}
	for n := range maxCatalogLabels + 1 {
		metric, err := prometheus.NewConstMetric(desc, prometheus.UntypedValue, 0, make([]string, n)...)
		if err != nil {
			continue // a label count other than desc's
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(constCollector{desc: desc, metric: metric})
		families, err := reg.Gather()
		if err != nil || len(families) != 1 || len(families[0].GetMetric()) != 1 {
			panic(fmt.Sprintf("gathering metric %s: %v", desc, err))
		}
		labels := []string{}
		for _, l := range families[0].GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		slices.Sort(labels)
		return families[0].GetName(), labels
	}
	panic(fmt.Sprintf("metric description %s takes more than %d labels", desc, maxCatalogLabels))
}

// constCollector collects one constant metric.
type constCollector struct {
	desc   *prometheus.Desc
	metric prometheus.Metric
}

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.metric }

// sortedWith returns labels plus extra, sorted, in a new slice.
func sortedWith(labels []string, extra string) []string {
	out := append(slices.Clone(labels), extra)
	slices.Sort(out)
	return out
}
