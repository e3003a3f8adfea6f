package bench

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// sample is one series of the Prometheus text format.
type sample struct {
	name   string
	labels string // the text between the braces, such as le="0.5",result="success"
	value  float64
}

// metrics is a scrape: enough of the text format for counters and histograms.
type metrics []sample

func parseMetrics(text []byte) metrics {
	var m metrics
	for line := range strings.Lines(string(text)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		series, value, ok := cutLast(line)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		name, labels, _ := strings.Cut(series, "{")
		m = append(m, sample{name: name, labels: strings.TrimSuffix(labels, "}"), value: v})
	}
	return m
}

func cutLast(line string) (before, after string, ok bool) {
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return "", "", false
	}
	return line[:i], line[i+1:], true
}

// sum adds the series of name whose labels include every one of want (each
// written key="value").
func (m metrics) sum(name string, want ...string) float64 {
	total := 0.0
	for _, s := range m {
		if s.name == name && hasLabels(s.labels, want) {
			total += s.value
		}
	}
	return total
}

func hasLabels(labels string, want []string) bool {
	for _, w := range want {
		if !slices.Contains(strings.Split(labels, ","), w) {
			return false
		}
	}
	return true
}

// bucket is one cumulative histogram bucket.
type bucket struct {
	le    float64
	count float64
}

// buckets returns the cumulative buckets of histogram name whose labels
// include every one of want, summed over the other labels, by increasing bound.
func (m metrics) buckets(name string, want ...string) []bucket {
	byBound := map[float64]float64{}
	for _, s := range m {
		if s.name != name+"_bucket" || !hasLabels(s.labels, want) {
			continue
		}
		for _, l := range strings.Split(s.labels, ",") {
			if bound, ok := strings.CutPrefix(l, `le="`); ok {
				le, err := strconv.ParseFloat(strings.TrimSuffix(bound, `"`), 64)
				if err == nil {
					byBound[le] += s.value
				}
			}
		}
	}
	var out []bucket
	for le, c := range byBound {
		out = append(out, bucket{le: le, count: c})
	}
	slices.SortFunc(out, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	return out
}

// delta subtracts an earlier scrape's buckets from these.
func delta(after, before []bucket) []bucket {
	out := slices.Clone(after)
	for i := range out {
		for _, b := range before {
			if b.le == out[i].le {
				out[i].count -= b.count
			}
		}
	}
	return out
}

// quantile estimates the q-quantile of cumulative buckets as Prometheus's
// histogram_quantile does: linearly within the bucket that holds it. It also
// returns that bucket's bounds, since the estimate is only as good as they are.
func quantile(q float64, buckets []bucket) (estimate, lower, upper float64) {
	if len(buckets) == 0 {
		return math.NaN(), 0, 0
	}
	total := buckets[len(buckets)-1].count
	if total <= 0 {
		return math.NaN(), 0, 0
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for _, b := range buckets {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return prevBound, prevBound, b.le
			}
			inBucket := b.count - prevCount
			if inBucket <= 0 {
				return b.le, prevBound, b.le
			}
			return prevBound + (b.le-prevBound)*(rank-prevCount)/inBucket, prevBound, b.le
		}
		prevBound, prevCount = b.le, b.count
	}
	return prevBound, prevBound, math.Inf(1)
}
