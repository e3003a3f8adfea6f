package controllers

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsPath is where controller-runtime's metrics server serves its registry.
const metricsPath = "/metrics"

// servedTargets are the targets' gauges of the process's Metrics (see
// defaultMetrics), which ServeTargetSeries adds to /metrics; nil until a
// reconciler is set up.
var servedTargets atomic.Pointer[targetGauges]

// FilterProvider is the type of metricsserver.Options.FilterProvider.
type FilterProvider = func(c *rest.Config, httpClient *http.Client) (metricsserver.Filter, error)

// ServeTargetSeries returns the metrics server's FilterProvider: next's
// filter (none when next is nil), around a handler that serves, at /metrics,
// what controller-runtime's handler serves from its registry and then the
// targets' series.
//
// Why not a registered collector: client_golang's registry materialises every
// series of a scrape as a dto.Metric, checks it against every other and sorts
// them, then encodes them, and has no way to stream. For the targets' four
// series each, that was 7.4 MB and 93,000 allocations a scrape of 5,000
// targets, live while the scrape ran: a collection that ran then set the heap's
// next goal by them. Here the series are written straight to the response, in
// the format and encoding the registry's part was negotiated in, as
// kube-state-metrics writes its own.
func ServeTargetSeries(next FilterProvider) FilterProvider {
	return func(c *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
		var filter metricsserver.Filter
		if next != nil {
			var err error
			if filter, err = next(c, httpClient); err != nil {
				return nil, err
			}
		}
		return func(log logr.Logger, handler http.Handler) (http.Handler, error) {
			h := http.Handler(&scrapeHandler{registry: handler, targets: servedTargets.Load, log: log})
			if filter == nil {
				return h, nil
			}
			return filter(log, h)
		}, nil
	}
}

// scrapeHandler adds the targets' series to what registry serves at /metrics.
type scrapeHandler struct {
	registry http.Handler
	targets  func() *targetGauges
	// log tells of a scrape whose targets' series could not all be written.
	log logr.Logger
}

func (h *scrapeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	targets := h.targets()
	if targets == nil || r.URL.Path != metricsPath {
		h.registry.ServeHTTP(w, r)
		return
	}
	// The registry's part is written uncompressed, into the one compressed
	// stream of the response when the scraper accepts gzip.
	inner := r.Clone(r.Context())
	inner.Header.Set("Accept-Encoding", "identity")
	out := &scrapeResponse{ResponseWriter: w, gzip: acceptsGzip(r.Header)}
	defer out.close()
	h.registry.ServeHTTP(out, inner)
	if out.code != 0 && out.code != http.StatusOK {
		return // the registry's error, as it wrote it
	}
	keep := metricNameFilter(r)
	// The format the registry's part was written in (expfmt.ResponseFormat
	// knows fewer of them than the registry's handler negotiates).
	format := expfmt.Format(w.Header().Get("Content-Type"))
	if err := targets.writeSeries(out, format, keep); err != nil {
		// The response has begun: the scraper sees a cut-short answer, and
		// the reason is here (most often, the scraper went away).
		h.log.Error(err, "Serving the targets' series of a scrape", "format", format)
	}
}

// acceptsGzip tells whether the Accept-Encoding of h prefers gzip to identity,
// the choice promhttp makes between the two it offers. Written here because
// promhttp's negotiation is internal, net/http has none, and goautoneg parses
// media ranges (type/subtype) alone.
func acceptsGzip(h http.Header) bool {
	q := map[string]float64{}
	for _, field := range h.Values("Accept-Encoding") {
		for coding := range strings.SplitSeq(field, ",") {
			name, params, _ := strings.Cut(coding, ";")
			weight := 1.0
			for param := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(param), "="); ok && strings.EqualFold(k, "q") {
					if w, err := strconv.ParseFloat(v, 64); err == nil {
						weight = w
					}
				}
			}
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				q[name] = weight
			}
		}
	}
	weight := func(coding string) float64 {
		if w, ok := q[coding]; ok {
			return w
		}
		if w, ok := q["*"]; ok {
			return w
		}
		return -1
	}
	return weight("gzip") > 0 && weight("gzip") > weight("identity")
}

// metricNameFilter returns whether a family is to be served, by the name[]
// parameters of r, as promhttp does: all of them when there are none.
func metricNameFilter(r *http.Request) func(string) bool {
	names := r.URL.Query()["name[]"]
	if len(names) == 0 {
		return func(string) bool { return true }
	}
	return func(name string) bool { return slices.Contains(names, name) }
}

// gzipWriters are reused across scrapes: a gzip.Writer holds about 800 KB.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// scrapeResponse is the response of one scrape, compressed with gzip when
// asked for and when the registry's part succeeded.
type scrapeResponse struct {
	http.ResponseWriter
	gzip bool
	// code is the status written, 0 before the header.
	code int
	gz   *gzip.Writer
}

func (s *scrapeResponse) WriteHeader(code int) {
	if s.code != 0 {
		return
	}
	s.code = code
	if code == http.StatusOK && s.gzip {
		s.Header().Set("Content-Encoding", "gzip")
		s.Header().Del("Content-Length")
		s.gz = gzipWriters.Get().(*gzip.Writer)
		s.gz.Reset(s.ResponseWriter)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *scrapeResponse) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if s.gz != nil {
		return s.gz.Write(p)
	}
	return s.ResponseWriter.Write(p)
}

func (s *scrapeResponse) close() {
	if s.gz != nil {
		_ = s.gz.Close() // the scraper went away
		gzipWriters.Put(s.gz)
		s.gz = nil
	}
}

// writeSeries writes the series of every target, family by family, in format,
// to w: the text format and delimited protobuf (what Prometheus asks for) are
// written as they are made; the protobuf text formats are gathered from
// g.registry and encoded by expfmt. OpenMetrics, which ends with a line of its
// own, is not among the formats the registry's handler negotiates with
// controller-runtime's options, so it is an error, as is a format expfmt does
// not know. keep chooses the families by name.
func (g *targetGauges) writeSeries(w io.Writer, format expfmt.Format, keep func(string) bool) error {
	var write func(io.Writer, targetFamily, []hcTargets) error
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		write = writeTextFamily
	case expfmt.TypeProtoDelim:
		write = writeProtoFamily
	case expfmt.TypeProtoText, expfmt.TypeProtoCompact:
		return g.encode(w, format, keep)
	default:
		return fmt.Errorf("the targets' series are not written in %q", format)
	}
	all := g.snapshot()
	for f := range numTargetFamilies {
		if keep(targetFamilies[f].name) {
			if err := write(w, f, all); err != nil {
				return err
			}
		}
	}
	return nil
}

// encode gathers g's families and encodes them with expfmt.
func (g *targetGauges) encode(w io.Writer, format expfmt.Format, keep func(string) bool) error {
	families, err := g.registry.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, format)
	for _, f := range families {
		if keep(f.GetName()) {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushAt is how much a family's writer buffers before it writes.
const flushAt = 32 << 10

// writeTextFamily writes family f in the text format (version 0.0.4), as
// expfmt's MetricFamilyToText does; a family without series is not written.
func writeTextFamily(w io.Writer, f targetFamily, all []hcTargets) error {
	family := targetFamilies[f]
	var buf []byte
	err := eachSample(all, f, func(s sample) error {
		if buf == nil {
			buf = make([]byte, 0, flushAt+1024)
			buf = append(buf, "# HELP "...)
			buf = append(buf, family.name...)
			buf = append(buf, ' ')
			buf = appendEscaped(buf, family.help, false)
			buf = append(buf, "\n# TYPE "...)
			buf = append(buf, family.name...)
			buf = append(buf, " gauge\n"...)
		}
		buf = append(buf, family.name...)
		buf = appendLabel(buf, '{', labelHealthCheck, s.healthCheck)
		buf = appendLabel(buf, ',', labelNamespace, s.namespace)
		if s.state != "" {
			buf = appendLabel(buf, ',', labelState, s.state)
		}
		buf = appendLabel(buf, ',', labelTarget, s.target)
		buf = append(buf, "} "...)
		buf = appendTextFloat(buf, s.value)
		buf = append(buf, '\n')
		return flushFull(w, &buf)
	})
	if err != nil || len(buf) == 0 {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// flushFull writes buf once it holds flushAt bytes, and empties it.
func flushFull(w io.Writer, buf *[]byte) error {
	if len(*buf) < flushAt {
		return nil
	}
	_, err := w.Write(*buf)
	*buf = (*buf)[:0]
	return err
}

func appendLabel(b []byte, sep byte, name, value string) []byte {
	b = append(b, sep)
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes a backslash and a line feed, and a double quote in a
// label value, as the text format does.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := range len(s) {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendTextFloat writes a value as expfmt does: strconv's shortest form,
// which spells NaN, +Inf and -Inf as the text format does, with the values a
// gauge of state mostly holds written without it.
func appendTextFloat(b []byte, f float64) []byte {
	switch f {
	case 1:
		return append(b, '1')
	case 0:
		return append(b, '0')
	case -1:
		return append(b, "-1"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// Field numbers of io.prometheus.client's messages (client_model's metrics.proto).
const (
	familyName, familyHelp, familyType, familyMetric = 1, 2, 3, 4
	metricLabel, metricGauge                         = 1, 2
	labelPairName, labelPairValue                    = 1, 2
	gaugeValue                                       = 1
)

// writeProtoFamily writes family f as delimited protobuf: an
// io.prometheus.client.MetricFamily message after its length, as expfmt's
// encoder does; a family without series is not written. The length comes
// first, so a first pass over the series adds up their sizes and a second
// writes them, rather than the family being made whole in memory.
func writeProtoFamily(w io.Writer, f targetFamily, all []hcTargets) error {
	family := targetFamilies[f]
	header := protowire.AppendTag(nil, familyName, protowire.BytesType)
	header = protowire.AppendString(header, family.name)
	header = protowire.AppendTag(header, familyHelp, protowire.BytesType)
	header = protowire.AppendString(header, family.help)
	header = protowire.AppendTag(header, familyType, protowire.VarintType)
	header = protowire.AppendVarint(header, uint64(dto.MetricType_GAUGE))

	size, n := len(header), 0
	_ = eachSample(all, f, func(s sample) error { // it returns no error
		size += protowire.SizeTag(familyMetric) + protowire.SizeBytes(metricSize(s))
		n++
		return nil
	})
	if n == 0 {
		return nil
	}
	buf := make([]byte, 0, flushAt+1024)
	buf = protowire.AppendVarint(buf, uint64(size))
	buf = append(buf, header...)
	err := eachSample(all, f, func(s sample) error {
		buf = protowire.AppendTag(buf, familyMetric, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(metricSize(s)))
		buf = appendLabelPair(buf, labelHealthCheck, s.healthCheck)
		buf = appendLabelPair(buf, labelNamespace, s.namespace)
		if s.state != "" {
			buf = appendLabelPair(buf, labelState, s.state)
		}
		buf = appendLabelPair(buf, labelTarget, s.target)
		buf = protowire.AppendTag(buf, metricGauge, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(gaugeSize))
		buf = protowire.AppendTag(buf, gaugeValue, protowire.Fixed64Type)
		buf = protowire.AppendFixed64(buf, math.Float64bits(s.value))
		return flushFull(w, &buf)
	})
	if err != nil || len(buf) == 0 {
		return err
	}
	_, err = w.Write(buf)
	return err
}

// gaugeSize is the size of an io.prometheus.client.Gauge with its value.
var gaugeSize = protowire.SizeTag(gaugeValue) + protowire.SizeFixed64()

// metricSize is the size of the io.prometheus.client.Metric of s.
func metricSize(s sample) int {
	size := labelPairSize(labelHealthCheck, s.healthCheck) + labelPairSize(labelNamespace, s.namespace) +
		labelPairSize(labelTarget, s.target) + protowire.SizeTag(metricGauge) + protowire.SizeBytes(gaugeSize)
	if s.state != "" {
		size += labelPairSize(labelState, s.state)
	}
	return size
}

// labelPairSize is the size of a label pair within a Metric, its tag included.
func labelPairSize(name, value string) int {
	return protowire.SizeTag(metricLabel) + protowire.SizeBytes(labelPairBodySize(name, value))
}

func labelPairBodySize(name, value string) int {
	return protowire.SizeTag(labelPairName) + protowire.SizeBytes(len(name)) +
		protowire.SizeTag(labelPairValue) + protowire.SizeBytes(len(value))
}

func appendLabelPair(b []byte, name, value string) []byte {
	b = protowire.AppendTag(b, metricLabel, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(labelPairBodySize(name, value)))
	b = protowire.AppendTag(b, labelPairName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, labelPairValue, protowire.BytesType)
	return protowire.AppendString(b, value)
}
