package assert_test

import (
	"context"
	"testing"
)

// BenchmarkEvaluate judges a JSON answer, so each run builds the activation
// and parses the body once.
func BenchmarkEvaluate(b *testing.B) {
	p := mustCompile(b, expr(`response.json.status == "UP"`, `response.json.items.all(i, i.ok)`, `response.latency < duration("300ms")`))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if got := p.Evaluate(ctx, httpAnswer); got != nil {
			b.Fatalf("Evaluate = %+v, want it to hold", got)
		}
	}
}
