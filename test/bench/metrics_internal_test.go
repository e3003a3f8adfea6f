package bench

import (
	"math"
	"testing"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	buckets := []bucket{{le: 0.001, count: 10}, {le: 0.005, count: 60}, {le: 0.01, count: 100}, {le: inf, count: 100}}
	tests := []struct {
		name         string
		q            float64
		buckets      []bucket
		want         float64
		lower, upper float64
	}{
		{name: "in the first bucket", q: 0.05, buckets: buckets, want: 0.0005, lower: 0, upper: 0.001},
		{name: "interpolated", q: 0.5, buckets: buckets, want: 0.001 + 0.004*40/50, lower: 0.001, upper: 0.005},
		{name: "top of a bucket", q: 1, buckets: buckets, want: 0.01, lower: 0.005, upper: 0.01},
		{name: "beyond the last bound", q: 0.99, buckets: []bucket{{le: 1, count: 50}, {le: inf, count: 100}}, want: 1, lower: 1, upper: inf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lower, upper := quantile(tt.q, tt.buckets)
			if math.Abs(got-tt.want) > 1e-12 || lower != tt.lower || upper != tt.upper {
				t.Errorf("quantile(%v) = %v in (%v, %v], want %v in (%v, %v]", tt.q, got, lower, upper, tt.want, tt.lower, tt.upper)
			}
		})
	}
	if got, _, _ := quantile(0.5, nil); !math.IsNaN(got) {
		t.Errorf("quantile of no buckets = %v, want NaN", got)
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics([]byte(`# HELP x_seconds a histogram
# TYPE x_seconds histogram
x_seconds_bucket{le="0.5"} 3
x_seconds_bucket{le="+Inf"} 4
x_seconds_count 4
checks_total{namespace="a",result="failure",reason="Timeout"} 2
checks_total{namespace="a",result="success",reason="OK"} 5
checks_total{namespace="b",result="failure",reason="ConnectionRefused"} 1
`))
	if got := m.sum("checks_total"); got != 8 {
		t.Errorf("sum of checks_total = %v, want 8", got)
	}
	if got := m.sum("checks_total", `result="failure"`); got != 3 {
		t.Errorf("sum of failures = %v, want 3", got)
	}
	if got := m.sum("x_seconds_count"); got != 4 {
		t.Errorf("x_seconds_count = %v, want 4", got)
	}
	b := m.buckets("x_seconds")
	if len(b) != 2 || b[0] != (bucket{le: 0.5, count: 3}) || !math.IsInf(b[1].le, 1) || b[1].count != 4 {
		t.Errorf("buckets = %v", b)
	}
}
