package controllers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// seriesPerTarget gathers reg and counts the series of each target.
func seriesPerTarget(t *testing.T, reg prometheus.Gatherer) map[string]int {
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
	m := NewMetrics(reg, MetricsOptions{})
	m.observeRound(key, rnd, judged)
	if got := seriesPerTarget(t, m.Gatherer(reg))["shop"]; got != 4 {
		t.Fatalf("an https target has %d series, want 4: up, slow, last latency, certificate expiry", got)
	}

	withHistograms := prometheus.NewRegistry()
	m = NewMetrics(withHistograms, MetricsOptions{TargetLatencyHistograms: true})
	m.observeRound(key, rnd, judged)
	if got := seriesPerTarget(t, m.Gatherer(withHistograms))["shop"]; got != 4+16 {
		t.Fatalf("with histograms an https target has %d series, want 20", got)
	}
}

// Two targets whose display names are the same (URLs that differ only in a
// redacted query) share their series, which the last of them sets, as one
// gauge set twice would; a scrape never sees one series twice.
func TestTargetsOfOneDisplayNameShareTheirSeries(t *testing.T) {
	slow := good(true)
	slow.Latency = 2 * time.Second
	rnd := &round{started: checkedAt,
		targets: []resolve.Target{{URL: "http://shop/?key=a", Name: "http://shop/?key=REDACTED"}, {URL: "http://shop/?key=b", Name: "http://shop/?key=REDACTED"}},
		results: results(good(false), slow)}
	judged := []monitoringv1alpha1.TargetStatus{{State: monitoringv1alpha1.StateUp}, {State: monitoringv1alpha1.StateSlow}}

	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg, MetricsOptions{})
	m.observeRound(types.NamespacedName{Namespace: "ns", Name: "hc"}, rnd, judged)
	families, err := m.Gatherer(reg).Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()] = m.GetGauge().GetValue()
		}
		if n := len(f.GetMetric()); n != 1 && f.GetName() != "healthcheck_checks_total" {
			t.Fatalf("%s has %d series, want 1", f.GetName(), n)
		}
	}
	if got["healthcheck_target_slow"] != 1 || got["healthcheck_target_last_latency_seconds"] != 2 {
		t.Fatalf("the series are not the last target's: %v", got)
	}
}

// BenchmarkScrape serves the metrics of 500 HealthChecks of 10 targets, each
// Up with a latency, as Prometheus scrapes them: what one scrape allocates is
// garbage the manager's heap must make room for.
func BenchmarkScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, MetricsOptions{})
	for i := range 500 {
		rnd := &round{started: checkedAt}
		var judged []monitoringv1alpha1.TargetStatus
		for j := range 10 {
			url := fmt.Sprintf("http://shop-%d.team-a.svc:8080/healthz", j)
			rnd.targets = append(rnd.targets, resolve.Target{URL: url, Name: url})
			rnd.results = append(rnd.results, results(good(false))...)
			judged = append(judged, monitoringv1alpha1.TargetStatus{URL: url, State: monitoringv1alpha1.StateUp})
		}
		m.observeRound(types.NamespacedName{Namespace: "team-a", Name: fmt.Sprintf("shop-%d", i)}, rnd, judged)
	}
	handler := &scrapeHandler{
		registry: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}),
		targets:  func() *targetGauges { return m.targets },
	}
	for _, scraper := range []struct{ name, accept, acceptEncoding string }{
		{"text", "", ""},
		{"as-prometheus", acceptAsPrometheus, "gzip"},
	} {
		b.Run(scraper.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", scraper.accept)
			req.Header.Set("Accept-Encoding", scraper.acceptEncoding)
			b.ReportAllocs()
			for b.Loop() {
				handler.ServeHTTP(discardResponse{http.Header{}}, req)
			}
		})
	}
}

// discardResponse is a ResponseWriter that keeps nothing of the body.
type discardResponse struct{ header http.Header }

func (d discardResponse) Header() http.Header         { return d.header }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}
