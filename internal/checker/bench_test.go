package checker

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkRun checks 1000 targets against a local server that answers after
// a fixed delay, with 50 workers. Perfect scheduling would take
// ceil(N/W)*delay per round; the "ideal/actual" metric is that divided by the
// measured time per round (1.0 is perfect, lower means overhead).
//
//	go test -run='^$' -bench=BenchmarkRun -benchtime=5x ./internal/checker/
func BenchmarkRun(b *testing.B) {
	const (
		n       = 1000
		workers = 50
		delay   = 5 * time.Millisecond
	)
	srv := newServer(b, func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
		}
	})
	// Probe transports dial a fresh connection per check, so this measures
	// scheduling plus connection setup, as production rounds do.
	c := New(Options{})

	targets := make([]Target, n)
	for i := range targets {
		targets[i] = Target{URL: fmt.Sprintf("%s/%d", srv.URL, i)}
	}
	ideal := time.Duration((n+workers-1)/workers) * delay

	rounds := 0
	start := time.Now()
	for b.Loop() {
		results := c.Run(b.Context(), targets, workers, nil)
		if s := Summarize(results); s.Up+s.Slow != n {
			b.Fatalf("round %d: %+v", rounds, s)
		}
		rounds++
	}
	perRound := time.Since(start) / time.Duration(rounds)
	b.ReportMetric(float64(ideal)/float64(perRound), "ideal/actual")
	b.ReportMetric(float64(perRound.Milliseconds()), "ms/round")
}
