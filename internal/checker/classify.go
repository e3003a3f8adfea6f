package checker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// Classify maps a transport error (as returned by http.Client.Do) to a Reason.
// It is a pure function so the mapping can be table-tested without a network.
//
// Order matters: a dial the outbound policy refused is Blocked whatever
// else happened; a deadline or cancellation wins over whatever low-level error
// it caused (a DNS lookup cut short by the deadline is a Timeout, not a
// DNSError); otherwise refused, DNS and TLS failures are told apart (a host
// without an address of the check's IP family is a DNSError), other
// net.Error timeouts (dial, TLS handshake) are Timeout, and the rest is
// NetworkError. A nil error yields ReasonOK: the transport succeeded and the
// caller classifies by status code.
func Classify(err error) Reason {
	switch {
	case err == nil:
		return ReasonOK
	case errors.Is(err, netpolicy.ErrBlocked):
		return ReasonBlocked
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonConnectionRefused
	case isDNSError(err), isNoAddress(err):
		return ReasonDNSError
	case isTLSError(err):
		return ReasonTLSError
	case isTimeout(err):
		return ReasonTimeout
	default:
		return ReasonNetworkError
	}
}

func isDNSError(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		systemRoots      x509.SystemRootsError
		unhandledExt     x509.UnhandledCriticalExtension
		constraint       x509.ConstraintViolationError
		insecureAlg      x509.InsecureAlgorithmError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
		echRejection     *tls.ECHRejectionError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &systemRoots) ||
		errors.As(err, &unhandledExt) || errors.As(err, &constraint) ||
		errors.As(err, &insecureAlg) || errors.As(err, &verification) ||
		errors.As(err, &recordHeader) || errors.As(err, &alert) ||
		errors.As(err, &echRejection) ||
		// A plain-HTTP server on an https:// URL fails the handshake.
		errors.Is(err, http.ErrSchemeMismatch) {
		return true
	}
	// Alerts sent or received during the handshake surface as *net.OpError
	// with these ops wrapping an unexported tls type; only crypto/tls uses them.
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "remote error" || opErr.Op == "local error") {
		return true
	}
	// Many handshake failures are plain errors.New("tls: ..."). Match the
	// prefix of each error in the chain, never the whole string, because the
	// outer *url.Error text contains the (user-controlled) URL.
	return anyInChain(err, func(e error) bool { return strings.HasPrefix(e.Error(), "tls: ") })
}

// anyInChain walks err's tree (Unwrap() error and Unwrap() []error) depth
// first and reports whether pred holds for any node.
func anyInChain(err error, pred func(error) bool) bool {
	for depth := 0; err != nil && depth < 64; depth++ {
		if pred(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if anyInChain(e, pred) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
