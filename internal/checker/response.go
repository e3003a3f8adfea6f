package checker

import (
	"context"
	"net/http"
	"time"
)

// Response is what one check saw, as a target's Assertions read it. Only facts
// the check observed are here; nothing is kept after the assertions ran.
type Response struct {
	// Code is the HTTP status code; 0 for tcp, tls and gRPC checks.
	Code int
	// Headers are the HTTP response headers; nil for other checks.
	Headers http.Header
	// Body is the first MaxAssertedBodyBytes of the body, read only when the
	// assertions need it (Assertions.NeedsBody); nil otherwise.
	Body []byte
	// Latency is the check's latency, as in Result.Latency.
	Latency time.Duration
	// TLS describes the handshake of https, tls and grpcs checks; nil otherwise.
	TLS *TLSState
	// GRPC is the answer of a gRPC health check; nil otherwise.
	GRPC *GRPCState
}

// TLSState is what a check saw of its TLS connection.
type TLSState struct {
	// NotAfter is when the server's leaf certificate expires.
	NotAfter time.Time
	// Version is the negotiated version, such as "TLS1.3".
	Version string
}

// GRPCState is the answer of grpc.health.v1.Health/Check.
type GRPCState struct {
	// Status is SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN.
	Status string
}

// Assertions judge an answer beyond its status code. The checker calls them
// once per check, after the answer arrived and passed the status code and body
// checks, with the check's own context: they must stop when it is done. The
// CEL programs of internal/assert implement it; the checker knows nothing of
// CEL.
type Assertions interface {
	// NeedsBody tells whether Evaluate reads Response.Body, so the checker reads
	// up to MaxAssertedBodyBytes of it instead of a few KiB.
	NeedsBody() bool
	// Evaluate returns nil when every assertion holds, else the first that did
	// not (false, failed to evaluate, or ran out of its cost limit or the
	// check's deadline).
	Evaluate(ctx context.Context, r *Response) *FailedAssertion
}

// FailedAssertion names the assertion that failed a check.
type FailedAssertion struct {
	// Index is the assertion's position in the target's list.
	Index int
	// Expression is the assertion's CEL expression.
	Expression string
	// Message says what failed, built from the assertion's message (or its
	// expression) and, for an evaluation error, a fixed description of it; never
	// from response bytes. It fits a status message.
	Message string
}
