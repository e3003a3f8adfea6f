package controllers_test

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scrapeMetrics scrapes the operator's metrics endpoint as Prometheus does:
// delimited protobuf, compressed.
func scrapeMetrics(g Gomega) []*dto.MetricFamily {
	req, err := http.NewRequest(http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,text/plain;version=0.0.4;q=0.3")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(resp.Header.Get("Content-Encoding")).To(Equal("gzip"))
	body, err := gzip.NewReader(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	format := expfmt.ResponseFormat(resp.Header)
	g.Expect(format.FormatType()).To(Equal(expfmt.TypeProtoDelim))
	dec := expfmt.NewDecoder(body, format)
	var families []*dto.MetricFamily
	for {
		f := &dto.MetricFamily{}
		err := dec.Decode(f)
		if errors.Is(err, io.EOF) {
			return families
		}
		g.Expect(err).NotTo(HaveOccurred())
		families = append(families, f)
	}
}

// seriesOf scrapes the manager's metrics and returns the series of one
// namespace as "name{label=value,...}" mapped to their value (a histogram's
// sample count).
func seriesOf(g Gomega, ns string) map[string]float64 {
	families := scrapeMetrics(g)
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "healthcheck_") {
			continue
		}
		for _, m := range f.GetMetric() {
			labels, inNamespace := labelString(m, ns)
			if !inNamespace {
				continue
			}
			key := f.GetName() + "{" + labels + "}"
			switch f.GetType() {
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func labelString(m *dto.Metric, ns string) (string, bool) {
	var parts []string
	inNamespace := false
	for _, l := range m.GetLabel() {
		if l.GetName() == "namespace" {
			inNamespace = l.GetValue() == ns
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s", l.GetName(), l.GetValue()))
	}
	sort.Strings(parts)
	return strings.Join(parts, ","), inNamespace
}

func TestMetricsFollowTargetsAndDisappearWithThem(t *testing.T) {
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	up, down := srv.url("/status/200"), srv.url("/status/503")
	hc := newHealthCheck(ns, "metered", up, down)
	hc.Spec.Targets[1].Name = "payments"
	create(t, hc)

	g.Eventually(func(g Gomega) {
		s := seriesOf(g, ns)
		g.Expect(s).To(HaveKeyWithValue("healthcheck_target_up{healthcheck=metered,target="+up+"}", 1.0))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_target_up{healthcheck=metered,target=payments}", 0.0))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_target_slow{healthcheck=metered,target="+up+"}", 0.0))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_checks_total{healthcheck=metered,reason=OK,result=success}", BeNumerically(">=", 1)))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_checks_total{healthcheck=metered,reason=UnexpectedStatus,result=failure}", BeNumerically(">=", 1)))
		g.Expect(s).To(HaveKeyWithValue("healthcheck_target_last_latency_seconds{healthcheck=metered,target=payments}", BeNumerically(">", 0)))
		g.Expect(s).NotTo(HaveKey("healthcheck_target_latency_seconds{healthcheck=metered,target=payments}"), "no histogram without --target-latency-histograms")
		g.Expect(s).To(HaveKeyWithValue("healthcheck_round_duration_seconds{healthcheck=metered}", BeNumerically(">=", 1)))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A removed target's series go.
	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.Targets = latest.Spec.Targets[:1]
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		for key := range seriesOf(g, ns) {
			g.Expect(key).NotTo(ContainSubstring("target=payments"))
		}
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	// A deleted HealthCheck's series go.
	g.Expect(k8sClient.Delete(context.Background(), latest)).To(Succeed())
	g.Eventually(func(g Gomega) map[string]float64 { return seriesOf(g, ns) }).WithTimeout(timeout).WithPolling(poll).Should(BeEmpty())
}
