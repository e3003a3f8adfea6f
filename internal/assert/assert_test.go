package assert_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/assert"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// secret stands for bytes of the answer that must never reach a message.
const secret = "SECRET-TOKEN"

// httpAnswer is a JSON answer whose body and headers both hold secret.
var httpAnswer = &checker.Response{
	Code: 200,
	Headers: http.Header{
		"Content-Type": {"application/json; charset=utf-8"},
		"X-Multi":      {"a", "b"},
		"X-Token":      {secret},
	},
	Body:    []byte(`{"status":"UP","n":2,"items":[{"ok":true},{"ok":true}],"x":"` + secret + `"}`),
	Latency: 120 * time.Millisecond,
}

var tlsAnswer = &checker.Response{
	Latency: 40 * time.Millisecond,
	TLS:     &checker.TLSState{NotAfter: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), Version: "TLS1.3"},
}

var grpcAnswer = &checker.Response{GRPC: &checker.GRPCState{Status: "SERVING"}}

// expr makes assertions with default messages.
func expr(expressions ...string) []monitoringv1alpha1.Assertion {
	as := make([]monitoringv1alpha1.Assertion, len(expressions))
	for i, e := range expressions {
		as[i].Expression = e
	}
	return as
}

func mustCompile(t testing.TB, assertions []monitoringv1alpha1.Assertion) *assert.Program {
	t.Helper()
	p, err := assert.Compile(assertions)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

func TestEvaluateHolds(t *testing.T) {
	tests := []struct {
		name   string
		expr   string
		answer *checker.Response
	}{
		{"a header, lower-cased", `response.headers["content-type"].startsWith("application/json")`, httpAnswer},
		{"repeated headers joined", `response.headers["x-multi"] == "a, b"`, httpAnswer},
		{"latency under a bound", `response.latency < duration("300ms")`, httpAnswer},
		{"a JSON field", `response.json.status == "UP"`, httpAnswer},
		{"JSON integers are ints", `response.json.n + 1 == 3`, httpAnswer},
		{"every item of a JSON list", `response.json.items.all(i, i.ok)`, httpAnswer},
		{"the body", `response.body.contains("UP")`, httpAnswer},
		{"the TLS version", `response.tls.version == "TLS1.3"`, tlsAnswer},
		{"the certificate's expiry", `response.tls.notAfter > timestamp("2030-01-01T00:00:00Z")`, tlsAnswer},
		{"has TLS after a handshake", `has(response.tls)`, tlsAnswer},
		{"no TLS without a handshake", `!has(response.tls)`, httpAnswer},
		{"the gRPC status", `response.grpc.status == "SERVING"`, grpcAnswer},
		{"no gRPC for HTTP", `!has(response.grpc)`, httpAnswer},
		{"code 0 for a non-HTTP check", `response.code == 0`, tlsAnswer},
		{"null JSON for a body that is not JSON", `response.json == null`, &checker.Response{Body: []byte("OK")}},
		{"null JSON for no body", `response.json == null`, &checker.Response{}},
		{"invalid UTF-8 replaced", `response.body == "\uFFFDok"`, &checker.Response{Body: []byte("\xffok")}},
		{"the url library", `url("https://x/y").getHost() == "x"`, httpAnswer},
		{"the regex library", `"abc".matches("^a")`, httpAnswer},
		{"the Kubernetes lists library", `[1,2].sum() == 3`, httpAnswer},
		{"the strings library", `response.json.status.lowerAscii() == "up"`, httpAnswer},
		{"a dyn result that is true", `response.json.items[0].ok`, httpAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, expr(tt.expr))
			if got := p.Evaluate(context.Background(), tt.answer); got != nil {
				t.Errorf("Evaluate(%s) = %+v, want it to hold", tt.expr, got)
			}
		})
	}
}

func TestEvaluateFails(t *testing.T) {
	tests := []struct {
		name       string
		assertions []monitoringv1alpha1.Assertion
		answer     *checker.Response
		want       checker.FailedAssertion
	}{
		{
			name:       "false, named by its expression",
			assertions: expr(`response.code == 500`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Index: 0, Expression: `response.code == 500`, Message: `assertion failed: response.code == 500`},
		},
		{
			name:       "false, named by its message",
			assertions: []monitoringv1alpha1.Assertion{{Expression: `response.json.status == "DOWN"`, Message: "actuator reports DOWN"}},
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Index: 0, Expression: `response.json.status == "DOWN"`, Message: `assertion failed: actuator reports DOWN`},
		},
		{
			name:       "the first failure in order",
			assertions: expr(`response.code == 200`, `response.code == 201`, `response.code == 202`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Index: 1, Expression: `response.code == 201`, Message: `assertion failed: response.code == 201`},
		},
		{
			name:       "a missing JSON field",
			assertions: expr(`response.json.missing == 1`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `response.json.missing == 1`, Message: `assertion response.json.missing == 1 could not be evaluated: a field or key it reads is missing`},
		},
		{
			name:       "a missing header, named by its message",
			assertions: []monitoringv1alpha1.Assertion{{Expression: `response.headers["x-missing"] == "1"`, Message: "sets x-missing"}},
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `response.headers["x-missing"] == "1"`, Message: `assertion sets x-missing could not be evaluated: a field or key it reads is missing`},
		},
		{
			name:       "TLS read without a handshake",
			assertions: expr(`response.tls.version == "TLS1.3"`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `response.tls.version == "TLS1.3"`, Message: `assertion response.tls.version == "TLS1.3" could not be evaluated: a field or key it reads is missing`},
		},
		{
			name:       "a type mismatch",
			assertions: expr(`response.json.status + 1 == 2`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `response.json.status + 1 == 2`, Message: `assertion response.json.status + 1 == 2 could not be evaluated: a value has the wrong type`},
		},
		{
			name:       "a conversion of answer bytes, never quoted",
			assertions: expr(`int(response.json.x) == 1`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `int(response.json.x) == 1`, Message: `assertion int(response.json.x) == 1 could not be evaluated: a conversion failed`},
		},
		{
			name:       "division by zero",
			assertions: expr(`100 / response.code > 1`),
			answer:     tlsAnswer,
			want:       checker.FailedAssertion{Expression: `100 / response.code > 1`, Message: `assertion 100 / response.code > 1 could not be evaluated: division by zero`},
		},
		{
			name:       "an index out of range",
			assertions: expr(`response.json.items[5].ok`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `response.json.items[5].ok`, Message: `assertion response.json.items[5].ok could not be evaluated: a list index is out of range`},
		},
		{
			name:       "a dyn result that is not a boolean",
			assertions: expr(`response.json.status`),
			answer:     httpAnswer,
			want:       checker.FailedAssertion{Expression: `response.json.status`, Message: `assertion response.json.status could not be evaluated: the result is not a boolean`},
		},
		{
			name:       "JSON read from a body that is not JSON",
			assertions: expr(`response.json.status == "UP"`),
			answer:     &checker.Response{Body: []byte(secret)},
			want:       checker.FailedAssertion{Expression: `response.json.status == "UP"`, Message: `assertion response.json.status == "UP" could not be evaluated: a field or key it reads is missing`},
		},
		{
			name:       "a long message cut, the fixed text kept",
			assertions: []monitoringv1alpha1.Assertion{{Expression: `response.json.missing`, Message: strings.Repeat("m", monitoringv1alpha1.MaxAssertionMessageLength)}},
			answer:     httpAnswer,
			want: checker.FailedAssertion{Expression: `response.json.missing`, Message: "assertion " + strings.Repeat("m", 186) + monitoringv1alpha1.Ellipsis +
				" could not be evaluated: a field or key it reads is missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.assertions)
			got := p.Evaluate(context.Background(), tt.answer)
			if got == nil {
				t.Fatalf("Evaluate = nil, want %+v", tt.want)
			}
			if *got != tt.want {
				t.Errorf("Evaluate =\n%+v\nwant\n%+v", *got, tt.want)
			}
			if strings.Contains(got.Message, secret) {
				t.Errorf("message %q quotes the answer", got.Message)
			}
			if n := utf8.RuneCountInString(got.Message); n > monitoringv1alpha1.MaxMessageLength {
				t.Errorf("message has %d characters, status holds %d", n, monitoringv1alpha1.MaxMessageLength)
			}
		})
	}
}

func TestEvaluateStopsAtTheCostLimit(t *testing.T) {
	mib := &checker.Response{Body: []byte(strings.Repeat("a", checker.MaxAssertedBodyBytes))}
	tests := []struct {
		name string
		expr string
	}{
		{"string functions over the whole body", `response.body.replace("a", "bb").replace("b", "cc").contains("x")`},
		{"a comprehension over the whole body", `lists.range(100).all(i, response.body.lowerAscii().contains("a"))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, expr(tt.expr))
			got := p.Evaluate(context.Background(), mib)
			want := "assertion " + tt.expr + " exceeded the CEL cost limit"
			if got == nil || got.Message != want {
				t.Errorf("Evaluate = %+v, want message %q", got, want)
			}
		})
	}
}

func TestEvaluateStopsWithTheCheck(t *testing.T) {
	// About 4M iterations: far over the cost limit, but stopped by the deadline
	// before the limit, which takes a while to reach.
	const loop = `lists.range(160).all(i, lists.range(160).all(j, lists.range(160).all(k, i + j + k >= 0)))`
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		expr string
	}{
		{"cancelled before it starts", func() (context.Context, context.CancelFunc) { return cancelled, func() {} }, `response.code == 200`},
		{"deadline passed before it starts", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, `response.code == 200`},
		{"deadline passes in a loop", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, loop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			p := mustCompile(t, expr(tt.expr))
			start := time.Now()
			got := p.Evaluate(ctx, httpAnswer)
			want := "assertion " + tt.expr + " could not be evaluated: the check's deadline passed"
			if got == nil || got.Message != want {
				t.Errorf("Evaluate = %+v, want message %q", got, want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Evaluate took %v after its context was done", took)
			}
		})
	}
}

func TestEvaluateConcurrently(t *testing.T) {
	p := mustCompile(t, expr(`response.json.items.all(i, i.ok)`, `response.headers["x-multi"] == "a, b"`))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := p.Evaluate(context.Background(), httpAnswer); got != nil {
					t.Errorf("Evaluate = %+v, want it to hold", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNeedsBody(t *testing.T) {
	tests := []struct {
		name       string
		assertions []monitoringv1alpha1.Assertion
		want       bool
	}{
		{"code", expr(`response.code == 200`), false},
		{"headers and latency", expr(`response.headers["a"] == "b" && response.latency < duration("1s")`), false},
		{"tls and grpc", expr(`has(response.tls) && response.tls.version == "TLS1.3" || response.grpc.status == "SERVING"`), false},
		{"body", expr(`response.body.contains("x")`), true},
		{"json", expr(`response.json.status == "UP"`), true},
		{"presence of json", expr(`has(response.json)`), true},
		{"one of several reads the body", expr(`response.code == 200`, `size(response.body) > 0`), true},
		{"response as a whole", expr(`[response].all(r, r.code == 200)`), true},
		{"response shadowed by a loop variable", expr(`[1].all(response, response > 0)`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustCompile(t, tt.assertions).NeedsBody(); got != tt.want {
				t.Errorf("NeedsBody() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name       string
		expr       string
		wantDetail string
	}{
		{"syntax", `response.code ==`, "Syntax error"},
		{"unknown variable", `resp.code == 200`, "undeclared reference to 'resp'"},
		{"unknown field", `response.cod == 200`, "undefined field 'cod'"},
		{"not boolean", `response.code`, "must evaluate to bool, not int"},
		{"optional, not boolean", `response.json.?status`, "must evaluate to bool, not optional_type(dyn)"},
		{"unknown function", `response.body.shout()`, "undeclared reference to 'shout'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := assert.Compile(expr(`response.code == 200`, tt.expr))
			if p != nil {
				t.Errorf("Compile = %v, want no program", p)
			}
			var ce *assert.CompileError
			if !errors.As(err, &ce) || ce.Index != 1 {
				t.Fatalf("Compile error = %v, want a CompileError for index 1", err)
			}
			if !strings.HasPrefix(err.Error(), "assertions[1].expression: ") || !strings.Contains(ce.Detail, tt.wantDetail) {
				t.Errorf("Compile error = %q, want assertions[1].expression: ...%s...", err, tt.wantDetail)
			}
		})
	}
}

func TestCompileNothing(t *testing.T) {
	p, err := assert.Compile(nil)
	if p != nil || err != nil {
		t.Errorf("Compile(nil) = %v, %v, want nil, nil", p, err)
	}
	if p.NeedsBody() || p.Evaluate(context.Background(), httpAnswer) != nil {
		t.Error("a nil Program needs no body and holds")
	}
}

func TestCompileCaches(t *testing.T) {
	as := []monitoringv1alpha1.Assertion{{Expression: `response.code == 200`, Message: "answers 200"}}
	first := mustCompile(t, as)
	again := mustCompile(t, []monitoringv1alpha1.Assertion{{Expression: `response.code == 200`, Message: "answers 200"}})
	if first != again {
		t.Error("the same assertions compiled twice give two programs")
	}
	if other := mustCompile(t, expr(`response.code == 200`)); other == first {
		t.Error("assertions with another message share a program")
	}
	if mustCompile(t, expr(`true`, `true`)) == mustCompile(t, expr(`true`)) {
		t.Error("two assertions and one share a program")
	}

	_, err1 := assert.Compile(expr(`response.cod == 200`))
	_, err2 := assert.Compile(expr(`response.cod == 200`))
	if err1 == nil || err1 != err2 {
		t.Errorf("Compile errors %v and %v, want the same cached error", err1, err2)
	}
}
