package controllers

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// What Prometheus asks for (scrape_protocols' default order) and what a
// person with curl does.
const (
	acceptAsPrometheus = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6," +
		"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4," +
		"text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0"
	acceptProtoText   = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
)

// scrapedMetrics makes the metrics of a few HealthChecks whose targets have
// every kind of series: Up with a certificate, Slow, Down without an answer,
// Pending, a fanned-out target, and names that the text format escapes.
func scrapedMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, MetricsOptions{TargetLatencyHistograms: true})
	rnd := &round{started: checkedAt, targets: []resolve.Target{{URL: "https://shop/", Name: "shop"}}, results: results(good(false))}
	m.observeRound(types.NamespacedName{Namespace: "team-a", Name: "shop"}, rnd, []monitoringv1alpha1.TargetStatus{{URL: "https://shop/", State: monitoringv1alpha1.StateUp}})
	m.targets.set(types.NamespacedName{Namespace: "team-a", Name: "shop"}, []targetGauge{
		{name: "shop", state: monitoringv1alpha1.StateUp, latency: 0.012, hasLatency: true, certExpiry: 1767225600},
		{name: `say "hi" \ back` + "\nslash", state: monitoringv1alpha1.StateSlow, latency: 2.5, hasLatency: true},
		{name: "down", state: monitoringv1alpha1.StateDown},
		{name: "pending", state: monitoringv1alpha1.StatePending},
	})
	m.targets.set(types.NamespacedName{Namespace: "team-b", Name: "web"}, []targetGauge{
		{name: "web.team-b.svc", state: monitoringv1alpha1.StateDown, latency: 0.3, hasLatency: true, backends: &[3]int32{2, 0, 1}},
	})
	return m, reg
}

// scrape serves m's metrics from reg through the manager's handler, asking
// with accept and acceptEncoding (either may be empty), and returns the
// response with its body uncompressed.
func scrape(t *testing.T, m *Metrics, registry http.Handler, path, accept, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	h := &scrapeHandler{registry: registry, targets: func() *targetGauges { return m.targets }}
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body := rec.Body.Bytes()
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return resp, body
}

// registryHandler is the handler controller-runtime's metrics server makes of
// its registry.
func registryHandler(reg prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}

// decoded decodes a response body in the format of its Content-Type.
func decoded(t *testing.T, resp *http.Response, body []byte) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.ResponseFormat(resp.Header))
	var families []*dto.MetricFamily
	for {
		f := &dto.MetricFamily{}
		if err := dec.Decode(f); errors.Is(err, io.EOF) {
			return families
		} else if err != nil {
			t.Fatalf("decoding the scrape (%s): %v", resp.Header.Get("Content-Type"), err)
		}
		families = append(families, f)
	}
}

// canonical writes families as one line a family (name, type, help) and one
// a series (name, labels sorted, value), sorted, and fails on a family that
// comes twice.
func canonical(t *testing.T, families []*dto.MetricFamily) []string {
	t.Helper()
	var lines []string
	seen := map[string]bool{}
	for _, f := range families {
		if seen[f.GetName()] {
			t.Fatalf("family %s comes twice", f.GetName())
		}
		seen[f.GetName()] = true
		lines = append(lines, fmt.Sprintf("# %s %s %q", f.GetName(), f.GetType(), f.GetHelp()))
		for _, m := range f.GetMetric() {
			var pairs []string
			for _, l := range m.GetLabel() {
				pairs = append(pairs, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(pairs)
			var value string
			switch {
			case m.Gauge != nil:
				value = fmt.Sprint(m.GetGauge().GetValue())
			case m.Counter != nil:
				value = fmt.Sprint(m.GetCounter().GetValue())
			case m.Histogram != nil:
				// The text format writes the +Inf bucket, which the registry leaves implicit.
				h := m.GetHistogram()
				buckets := slices.DeleteFunc(slices.Clone(h.GetBucket()), func(b *dto.Bucket) bool { return math.IsInf(b.GetUpperBound(), +1) })
				value = fmt.Sprint(h.GetSampleCount(), h.GetSampleSum(), len(buckets))
			}
			lines = append(lines, fmt.Sprintf("%s{%s} %s", f.GetName(), strings.Join(pairs, ","), value))
		}
	}
	slices.Sort(lines)
	return lines
}

// The targets' series, written out by the manager, are what the registry would
// have served had it made them, in each format and encoding a scraper may
// ask for, and the registry's own metrics are all there too.
func TestAScrapeServesTheTargetsSeriesAsTheRegistryWould(t *testing.T) {
	m, reg := scrapedMetrics(t)
	want, err := m.Gatherer(reg).Gather()
	if err != nil {
		t.Fatal(err)
	}
	wantLines := canonical(t, want)

	for _, tc := range []struct {
		name, accept, acceptEncoding string
		format                       expfmt.FormatType
	}{
		{"text, as curl asks", "", "", expfmt.TypeTextPlain},
		{"text, compressed", "text/plain", "gzip", expfmt.TypeTextPlain},
		{"delimited protobuf, compressed, as Prometheus asks", acceptAsPrometheus, "gzip", expfmt.TypeProtoDelim},
		{"delimited protobuf, not compressed", acceptAsPrometheus, "identity", expfmt.TypeProtoDelim},
		{"OpenMetrics asked for: the registry's handler serves text", acceptOpenMetrics, "", expfmt.TypeTextPlain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := scrape(t, m, registryHandler(reg), "/metrics", tc.accept, tc.acceptEncoding)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := expfmt.Format(resp.Header.Get("Content-Type")).FormatType(); got != tc.format {
				t.Fatalf("served %q, want format %v", resp.Header.Get("Content-Type"), tc.format)
			}
			if gzipped := resp.Header.Get("Content-Encoding") == "gzip"; gzipped != (tc.acceptEncoding == "gzip") {
				t.Fatalf("Content-Encoding %q when the scraper accepts %q", resp.Header.Get("Content-Encoding"), tc.acceptEncoding)
			}
			got := canonical(t, decoded(t, resp, body))
			if !slices.Equal(got, wantLines) {
				t.Fatalf("scraped:\n%s\nwant, as the registry gathers them:\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
			}
		})
	}
}

// Prometheus's own parsers, which a scrape goes through, read every series the
// manager writes, with its labels, in the text format and in protobuf.
func TestPrometheusReadsEveryTargetSeries(t *testing.T) {
	m, reg := scrapedMetrics(t)
	wantSeries := map[string]int{
		"healthcheck_target_up": 4, "healthcheck_target_slow": 4, "healthcheck_target_last_latency_seconds": 3,
		"healthcheck_target_certificate_expiry_timestamp_seconds": 1, "healthcheck_target_backends": 3,
	}
	for _, accept := range []string{"text/plain;version=0.0.4", acceptAsPrometheus} {
		resp, body := scrape(t, m, registryHandler(reg), "/metrics", accept, "gzip")
		p, err := textparse.New(body, resp.Header.Get("Content-Type"), labels.NewSymbolTable(), textparse.ParserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		sawEscaped := false
		for {
			entry, err := p.Next()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: Prometheus's parser: %v", resp.Header.Get("Content-Type"), err)
			}
			if entry != textparse.EntrySeries {
				continue
			}
			var ls labels.Labels
			p.Labels(&ls)
			if name := ls.Get(model.MetricNameLabel); wantSeries[name] > 0 {
				got[name]++
				if ls.Get("namespace") == "" || ls.Get("healthcheck") == "" {
					t.Errorf("%s has no namespace or healthcheck label: %s", name, ls)
				}
				sawEscaped = sawEscaped || ls.Get("target") == `say "hi" \ back`+"\nslash"
			}
		}
		if !maps.Equal(got, wantSeries) {
			t.Errorf("%s: Prometheus read %v, want %v", resp.Header.Get("Content-Type"), got, wantSeries)
		}
		if !sawEscaped {
			t.Errorf("%s: the target whose name has quotes, a backslash and a line feed did not come back whole", resp.Header.Get("Content-Type"))
		}
	}
}

// name[] chooses families, as promhttp does for the registry's.
func TestAScrapeOfNamedFamiliesServesThoseAlone(t *testing.T) {
	m, reg := scrapedMetrics(t)
	resp, body := scrape(t, m, registryHandler(reg), "/metrics?name[]=healthcheck_target_up&name[]=healthcheck_checks_total", "", "")
	var names []string
	for _, f := range decoded(t, resp, body) {
		names = append(names, f.GetName())
	}
	slices.Sort(names)
	if want := []string{"healthcheck_checks_total", "healthcheck_target_up"}; !slices.Equal(names, want) {
		t.Fatalf("served %v, want %v", names, want)
	}
}

// failingCollector fails every scrape of its registry.
type failingCollector struct{ desc *prometheus.Desc }

func (c failingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c failingCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(c.desc, errors.New("broken"))
}

// When the registry's handler answers with an error, the scraper gets that
// error as it was written, with no series after it; paths other than /metrics
// (a metrics server's extra handlers) are served as they are.
func TestAScrapeTheRegistryFailsIsItsErrorAlone(t *testing.T) {
	m, reg := scrapedMetrics(t)
	reg.MustRegister(failingCollector{prometheus.NewDesc("broken", "fails", nil, nil)})
	resp, body := scrape(t, m, registryHandler(reg), "/metrics", "", "gzip")
	if resp.StatusCode != http.StatusInternalServerError || bytes.Contains(body, []byte("healthcheck_target_up")) {
		t.Fatalf("status %d, body:\n%s\nwant the registry's error alone", resp.StatusCode, body)
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" {
		t.Fatalf("an error is served with Content-Encoding %q", enc)
	}

	other := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "other") })
	if _, body := scrape(t, m, other, "/debug/other", "", ""); string(body) != "other" {
		t.Fatalf("another path served %q", body)
	}
}

// A format promhttp can be asked for but that Prometheus never asks for (the
// protobuf text format) gets the targets' families from the registry of the
// gauges, each once.
func TestAScrapeInAnotherFormatGathersTheTargetsFamilies(t *testing.T) {
	m, reg := scrapedMetrics(t)
	resp, body := scrape(t, m, registryHandler(reg), "/metrics", acceptProtoText, "")
	if expfmt.Format(resp.Header.Get("Content-Type")).FormatType() != expfmt.TypeProtoText {
		t.Fatalf("served %q", resp.Header.Get("Content-Type"))
	}
	for _, f := range targetFamilies {
		// The protobuf text format puts one space or two after a colon, by design.
		if n := len(regexp.MustCompile(`name:\s+"`+f.name+`"`).FindAll(body, -1)); n != 1 {
			t.Errorf("%s is in the scrape %d times, want once", f.name, n)
		}
	}
}

// The targets' handler sits inside the filter of the provider it is given
// (authentication and authorization, in production), so that filter guards
// the targets' series too.
func TestTheTargetsSeriesAreServedInsideTheGivenFilter(t *testing.T) {
	var filtered bool
	auth := func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
		return func(_ logr.Logger, h http.Handler) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				filtered = true
				h.ServeHTTP(w, r)
			}), nil
		}, nil
	}
	filter, err := ServeTargetSeries(auth)(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, reg := scrapedMetrics(t)
	served := servedTargets.Swap(m.targets) // the suite's operator's, if it runs
	t.Cleanup(func() { servedTargets.Store(served) })
	h, err := filter(logr.Discard(), registryHandler(reg))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !filtered || !strings.Contains(rec.Body.String(), "healthcheck_target_up{") {
		t.Fatalf("through the filter: %v; body:\n%s", filtered, rec.Body.String())
	}
}

// The scrape is compressed when the scraper prefers gzip to no compression,
// as promhttp decides between the two it offers.
func TestAScrapeIsCompressedWhenTheScraperPrefersGzip(t *testing.T) {
	for acceptEncoding, want := range map[string]bool{
		"":                           false,
		"gzip":                       true,
		"GZip":                       true,
		"deflate, gzip, br, zstd":    true,
		"gzip;q=0":                   false,
		"gzip, identity":             false, // equal: identity, promhttp's first offer
		"identity;q=0.5, gzip;q=0.8": true,
		"gzip;q=0.5, identity":       false,
		"*":                          false,
		"*;q=0.5, identity;q=0.1":    true,
		"br":                         false,
		"gzip;q=not-a-number":        true,
	} {
		h := http.Header{}
		if acceptEncoding != "" {
			h.Set("Accept-Encoding", acceptEncoding)
		}
		if got := acceptsGzip(h); got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", acceptEncoding, got, want)
		}
	}
}

// A scrape whose targets' series cannot be written in the format the
// registry's handler chose (OpenMetrics, which controller-runtime's handler
// does not offer) is not cut short in silence: the manager logs why.
func TestAScrapeWhoseSeriesCannotBeWrittenIsLogged(t *testing.T) {
	m, _ := scrapedMetrics(t)
	openMetrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeOpenMetrics)))
		_, _ = io.WriteString(w, "# EOF\n")
	})
	var logged []string
	log := funcr.New(func(prefix, args string) { logged = append(logged, args) }, funcr.Options{})
	h := &scrapeHandler{registry: openMetrics, targets: func() *targetGauges { return m.targets }, log: log}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if len(logged) != 1 || !strings.Contains(logged[0], "not written in") || !strings.Contains(logged[0], "openmetrics") {
		t.Fatalf("logged %q, want why the targets' series were not served", logged)
	}
}
