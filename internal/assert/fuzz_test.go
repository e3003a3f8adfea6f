package assert_test

import (
	"context"
	"testing"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/assert"
)

// FuzzCompile feeds arbitrary expressions to Compile and, when they compile,
// to Evaluate: neither may panic, and a failure's message must fit status.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`response.code == 200`,
		`response.json.items.all(i, i.ok)`,
		`response.headers["content-type"].startsWith("application/json")`,
		`has(response.tls) && response.tls.notAfter > now`,
		`int(response.json.x) / 0 == 1`,
		`response.body.matches("^(a+)+$")`,
		`[1,2].sum() == 3 && url("https://x/y").getHost() == "x"`,
		`response.json.?status.orValue("") == "UP"`,
		`(`,
		"\xff",
	} {
		f.Add(seed, "")
	}
	f.Fuzz(func(t *testing.T, expression, message string) {
		p, err := assert.Compile([]monitoringv1alpha1.Assertion{{Expression: expression, Message: message}})
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		got := p.Evaluate(ctx, httpAnswer)
		if got != nil && len([]rune(got.Message)) > monitoringv1alpha1.MaxMessageLength {
			t.Errorf("message of %d characters: %q", len([]rune(got.Message)), got.Message)
		}
	})
}
