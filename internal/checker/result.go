package checker

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Reason classifies the outcome of one check. The values are part of a public
// API (they appear in a Kubernetes status enum), so never rename them.
type Reason string

// The possible outcomes of a check.
const (
	// ReasonOK means a good answer arrived within SlowThreshold: an expected
	// status code, an open port (tcp), a verified handshake (tls) or SERVING
	// (gRPC).
	ReasonOK Reason = "OK"
	// ReasonSlowResponse means a good answer arrived, but later than SlowThreshold.
	ReasonSlowResponse Reason = "SlowResponse"
	// ReasonUnexpectedStatus means a response arrived with a code outside
	// Expected, or a gRPC health check failed with a status code from the
	// server (Unimplemented: the server has no health service).
	ReasonUnexpectedStatus Reason = "UnexpectedStatus"
	// ReasonTimeout means the response headers, or the first MaxBodyBytes of
	// the body, did not arrive before the deadline, or the check was
	// cancelled (the message then says "check cancelled").
	ReasonTimeout Reason = "Timeout"
	// ReasonConnectionRefused means the TCP connection was actively refused.
	ReasonConnectionRefused Reason = "ConnectionRefused"
	// ReasonDNSError means the host name could not be resolved, or the host
	// has no address of the target's IPFamily ("no IPv6 address").
	ReasonDNSError Reason = "DNSError"
	// ReasonTLSError means the TLS handshake or certificate verification failed.
	ReasonTLSError Reason = "TLSError"
	// ReasonNetworkError covers every other failure, including requests that
	// could not be built and servers that do not speak HTTP (or, for gRPC,
	// HTTP/2).
	ReasonNetworkError Reason = "NetworkError"
	// ReasonBlocked means the outbound policy denied the address the target
	// (or a redirect) resolved to; no connection was made.
	ReasonBlocked Reason = "Blocked"
	// ReasonBodyMismatch means an expected status code came with a body that did
	// not contain Target.BodyContains or match Target.BodyMatches.
	ReasonBodyMismatch Reason = "BodyMismatch"
	// ReasonAssertionFailed means one of Target.Assertions did not hold, or could
	// not be evaluated (Result.Assertion says which).
	ReasonAssertionFailed Reason = "AssertionFailed"
	// ReasonNotServing means a gRPC health check answered NOT_SERVING, UNKNOWN or
	// SERVICE_UNKNOWN.
	ReasonNotServing Reason = "NotServing"
)

// AllReasons lists every Reason, e.g. for building a status enum or metrics
// label set that must stay in sync with this package.
var AllReasons = []Reason{
	ReasonOK, ReasonSlowResponse, ReasonUnexpectedStatus, ReasonTimeout,
	ReasonConnectionRefused, ReasonDNSError, ReasonTLSError, ReasonNetworkError,
	ReasonBlocked, ReasonBodyMismatch, ReasonAssertionFailed, ReasonNotServing,
}

// MaxMessageLength bounds Result.Message in runes so it always fits a status field.
const MaxMessageLength = 256

// Fixed messages. They are constants on purpose: a message must never contain
// Go error strings (which embed the full URL, tokens included), response
// bytes, or header values.
const (
	msgCancelled      = "check cancelled"
	msgRefused        = "connection refused"
	msgDNS            = "DNS lookup failed"
	msgTLS            = "TLS handshake or certificate verification failed"
	msgBlocked        = "blocked by the outbound policy"
	msgNetwork        = "network error"
	msgTooManyRedirs  = "network error: stopped after 10 redirects"
	msgInvalidRequest = "invalid request"
	msgNotGRPC        = "network error: not a gRPC server"
	msgNoIPv4         = "no IPv4 address"
	msgNoIPv6         = "no IPv6 address"
)

// What checks without an HTTP status code saw, in Result.Seen, besides the
// gRPC health statuses.
const (
	seenOpen = "OPEN"
	seenTLS  = "TLS"
)

// Result is the outcome of checking one target once.
type Result struct {
	// Index is the position of the target in the slice given to Run (0 for Check).
	Index int
	// URL is the target URL as given. It may contain credentials; use
	// RedactURL before logging it.
	URL string
	// StatusCode is the HTTP status code, or 0 when no response arrived and
	// for checks other than http and https. It is kept when reading the body
	// then failed.
	StatusCode int
	// Latency is measured with Options.Clock from the start of the check to
	// the response headers (http, https), the open connection (tcp), the
	// completed handshake (tls), the health answer (gRPC), or to the failure.
	Latency time.Duration
	// Reason classifies the outcome.
	Reason Reason
	// Message is a short human-readable explanation built only from safe facts
	// (reason, status code, latency, timeout); at most MaxMessageLength runes.
	Message string
	// Slow is true when the status was expected but Latency > SlowThreshold.
	Slow bool
	// CheckedAt is the Options.Clock time at which the check started.
	CheckedAt time.Time
	// CertificateExpiresAt is when the leaf certificate of the last TLS
	// connection expires; nil for http, tcp and grpc targets and failed
	// handshakes.
	CertificateExpiresAt *time.Time
	// Seen is what a check without an HTTP status code saw, for reports: OPEN
	// (tcp), TLS (tls), or the gRPC health status (SERVING, NOT_SERVING, UNKNOWN,
	// SERVICE_UNKNOWN); empty for http and https and when nothing answered.
	Seen string
	// Assertion is the assertion that failed the check; nil unless Reason is
	// ReasonAssertionFailed.
	Assertion *FailedAssertion
}

// OK reports whether the check succeeded: a good answer, fast or slow.
func (r Result) OK() bool {
	return r.Reason == ReasonOK || r.Reason == ReasonSlowResponse
}

// FormatDuration renders a latency for humans: "<1ms" and whole milliseconds
// below one second ("120ms"), tenths of a second below a minute ("2.5s"), and
// whole seconds above ("1m5s").
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0ms"
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		// Truncate rather than round so 999.6ms does not print as "1000ms".
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// responseMessage words an HTTP answer. It is built on every check, so in
// one buffer, not with fmt.
func responseMessage(code int, latency time.Duration, reason Reason, t Target) string {
	var buf [128]byte
	m := append(buf[:0], "returned "...)
	m = strconv.AppendInt(m, int64(code), 10)
	m = append(m, " in "...)
	m = appendDuration(m, latency)
	switch reason {
	case ReasonOK:
	case ReasonSlowResponse:
		m = appendDuration(append(m, ", slower than "...), t.SlowThreshold)
	case ReasonBodyMismatch:
		m = append(m, ", but the body did not match"...)
	default:
		return truncateMessage(string(m) + ", expected " + t.Expected.String())
	}
	return string(m)
}

// appendDuration appends FormatDuration(d) to b, without a string of its own
// in the common case, milliseconds.
func appendDuration(b []byte, d time.Duration) []byte {
	if d >= time.Millisecond && d < time.Second {
		return append(strconv.AppendInt(b, int64(d/time.Millisecond), 10), "ms"...)
	}
	return append(b, FormatDuration(d)...)
}

// answerMessage is the message of a check without an HTTP status code that
// got its answer: what it saw ("connected", "TLS handshake", "SERVING",
// "answered NOT_SERVING") and how fast.
func answerMessage(what string, latency time.Duration, reason Reason, t Target) string {
	m := what + " in " + FormatDuration(latency)
	if reason == ReasonSlowResponse {
		m += ", slower than " + FormatDuration(t.SlowThreshold)
	}
	return truncateMessage(m)
}

// assertionMessage says that an answer, as outcome describes it ("returned
// 200 in 3ms"), failed an assertion.
func assertionMessage(outcome string, failed *FailedAssertion) string {
	if failed.Message == "" {
		return truncateMessage(outcome + ", but an assertion failed")
	}
	return truncateMessage(outcome + ", but " + failed.Message)
}

// failureMessage maps a transport failure reason to its fixed message.
func failureMessage(reason Reason, timeout time.Duration) string {
	switch reason {
	case ReasonTimeout:
		return "timed out after " + FormatDuration(timeout)
	case ReasonConnectionRefused:
		return msgRefused
	case ReasonDNSError:
		return msgDNS
	case ReasonTLSError:
		return msgTLS
	case ReasonBlocked:
		return msgBlocked
	default:
		return msgNetwork
	}
}

// truncateMessage cuts m to MaxMessageLength runes, marking the cut with "...".
func truncateMessage(m string) string {
	if utf8.RuneCountInString(m) <= MaxMessageLength {
		return m
	}
	const ellipsis = "..."
	n := 0
	for i := range m {
		if n == MaxMessageLength-len(ellipsis) {
			return m[:i] + ellipsis
		}
		n++
	}
	return m
}
