package assert

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/interpreter"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Fixed descriptions of why an assertion could not be evaluated. CEL's own
// error text is never shown: it may quote the value it failed on, which may be
// bytes of the body or a header.
const (
	whyMissing   = "a field or key it reads is missing"
	whyType      = "a value has the wrong type"
	whyConvert   = "a conversion failed"
	whyZero      = "division by zero"
	whyRange     = "a list index is out of range"
	whyNotBool   = "the result is not a boolean"
	whyDeadline  = "the check's deadline passed"
	whyUndefined = "evaluation error"
)

// failedMessage says that an assertion was false.
func failedMessage(message string) string {
	return fit("assertion failed: ", message, "")
}

// erredMessage says that an assertion could not be evaluated, and why.
func erredMessage(message, why string) string {
	return fit("assertion ", message, " could not be evaluated: "+why)
}

// overCostMessage says that an assertion ran out of its cost limit.
func overCostMessage(message string) string {
	return fit("assertion ", message, " exceeded the CEL cost limit")
}

// fit joins prefix, message and suffix into at most MaxMessageLength
// characters, cutting the message rather than the fixed text around it.
func fit(prefix, message, suffix string) string {
	room := monitoringv1alpha1.MaxMessageLength - utf8.RuneCountInString(prefix) - utf8.RuneCountInString(suffix)
	s := prefix + monitoringv1alpha1.Truncate(message, room) + suffix
	return monitoringv1alpha1.Truncate(s, monitoringv1alpha1.MaxMessageLength)
}

// describe classifies an evaluation error into one of the fixed descriptions.
// ctx is the check's: once it is done, that is the reason, whatever CEL said.
func describe(ctx context.Context, err error) string {
	if ctx.Err() != nil || errors.Is(err, interpreter.InterruptError{}) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return whyDeadline
	}
	// cel-go's runtime errors carry no codes, only their text.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "no such key"), strings.Contains(msg, "no such field"),
		strings.Contains(msg, "no such attribute"):
		return whyMissing
	case strings.Contains(msg, "no matching overload"), strings.Contains(msg, "no such overload"):
		return whyType
	case strings.Contains(msg, "type conversion error"):
		return whyConvert
	case strings.Contains(msg, "division by zero"), strings.Contains(msg, "modulus by zero"):
		return whyZero
	case strings.Contains(msg, "index out of bounds"), strings.Contains(msg, "index out of range"):
		return whyRange
	default:
		return whyUndefined
	}
}

// overCost tells whether err is CEL's runtime cost limit.
func overCost(err error) bool {
	var cancelled interpreter.EvalCancelledError
	return errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded
}
