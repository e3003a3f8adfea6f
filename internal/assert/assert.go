// Package assert compiles a target's CEL assertions and judges a check's
// answer with them. It implements checker.Assertions, so the checker runs the
// assertions without knowing CEL.
package assert

import (
	"context"
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// CostLimit bounds the runtime cost of one assertion on one answer. It is the
// limit the API server puts on one CEL call, roughly a tenth of a second of
// CPU, so users meet the same bound as in ValidatingAdmissionPolicy.
const CostLimit = celconfig.PerCallLimit

// interruptCheckFrequency is how many comprehension iterations run between two
// looks at the check's context, so a check that is done stops a long loop
// soon. The deadline matters as much as the cost limit: cel-go v0.29's cost
// tracking slows a comprehension down with the square of its length, so
// all() over the 80k items of a 1 MiB JSON list costs less than CostLimit yet
// runs for seconds.
const interruptCheckFrequency = 100

// Program is a target's compiled assertions. It is immutable and safe for
// concurrent use.
type Program struct {
	assertions []assertion
	needsBody  bool
}

// assertion is one compiled assertion.
type assertion struct {
	expression string
	// message names the assertion in failures: its message, else its expression.
	message string
	program cel.Program
}

var _ checker.Assertions = (*Program)(nil)

// CompileError says which assertion does not compile, and why.
type CompileError struct {
	// Index is the assertion's position in the target's list.
	Index int
	// Detail is CEL's description of the error, or why the result is not boolean.
	Detail string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("assertions[%d].expression: %s", e.Index, e.Detail)
}

// Compile compiles one target's assertions, in order. Empty input gives (nil, nil).
// Answers, errors included, are cached by content, so the same assertions
// resolved every round are compiled once and give the same *Program.
func Compile(assertions []monitoringv1alpha1.Assertion) (*Program, error) {
	if len(assertions) == 0 {
		return nil, nil
	}
	key := cacheKey(assertions)
	if v, ok := compiled.Get(key); ok {
		r := v.(compileResult)
		return r.program, r.err
	}
	p, err := compile(assertions)
	compiled.Add(key, compileResult{program: p, err: err})
	return p, err
}

func compile(assertions []monitoringv1alpha1.Assertion) (*Program, error) {
	e, err := env()
	if err != nil {
		return nil, fmt.Errorf("building the CEL environment: %w", err)
	}
	p := &Program{assertions: make([]assertion, 0, len(assertions))}
	for i, a := range assertions {
		ast, issues := e.Compile(a.Expression)
		if err := issues.Err(); err != nil {
			return nil, &CompileError{Index: i, Detail: err.Error()}
		}
		// dyn is allowed, as for response.json.ok; it is checked at runtime.
		if t := ast.OutputType(); t.Kind() != types.BoolKind && t.Kind() != types.DynKind {
			return nil, &CompileError{Index: i, Detail: fmt.Sprintf("must evaluate to bool, not %s", t)}
		}
		prg, err := e.Program(ast, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(interruptCheckFrequency))
		if err != nil {
			return nil, &CompileError{Index: i, Detail: err.Error()}
		}
		message := a.Message
		if message == "" {
			message = a.Expression
		}
		p.assertions = append(p.assertions, assertion{expression: a.Expression, message: message, program: prg})
		p.needsBody = p.needsBody || readsBody(ast.NativeRep().Expr())
	}
	return p, nil
}

// NeedsBody tells whether some assertion reads response.body or response.json.
func (p *Program) NeedsBody() bool {
	return p != nil && p.needsBody
}

// Evaluate runs the assertions in order on r, within ctx, and returns the
// first that is false or cannot be evaluated; nil when all hold.
func (p *Program) Evaluate(ctx context.Context, r *checker.Response) *checker.FailedAssertion {
	if p == nil {
		return nil
	}
	if r == nil {
		r = &checker.Response{}
	}
	activation, err := newActivation(r)
	if err != nil {
		return p.failed(0, erredMessage(p.assertions[0].message, whyUndefined))
	}
	for i, a := range p.assertions {
		// A comprehension looks at ctx as it loops; a plain expression never does.
		if ctx.Err() != nil {
			return p.failed(i, erredMessage(a.message, whyDeadline))
		}
		out, _, err := a.program.ContextEval(ctx, activation)
		if overCost(err) {
			return p.failed(i, overCostMessage(a.message))
		}
		if err != nil {
			return p.failed(i, erredMessage(a.message, describe(ctx, err)))
		}
		holds, ok := out.(types.Bool)
		if !ok {
			return p.failed(i, erredMessage(a.message, whyNotBool))
		}
		if !holds {
			return p.failed(i, failedMessage(a.message))
		}
	}
	return nil
}

func (p *Program) failed(i int, message string) *checker.FailedAssertion {
	return &checker.FailedAssertion{Index: i, Expression: p.assertions[i].expression, Message: message}
}
