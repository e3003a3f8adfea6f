package checker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// timeoutError is a net.Error that reports a timeout, like a dial or TLS
// handshake timeout from net/http.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	urlErr := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://example.test/?token=abc", Err: err}
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}

	tests := []struct {
		name string
		err  error
		want Reason
	}{
		{"nil", nil, ReasonOK},

		{"deadline", context.DeadlineExceeded, ReasonTimeout},
		{"deadline wrapped", urlErr(context.DeadlineExceeded), ReasonTimeout},
		{"cancelled", urlErr(context.Canceled), ReasonTimeout},
		{"net timeout", urlErr(timeoutError{}), ReasonTimeout},
		{"dns cut short by deadline", urlErr(&net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true, UnwrapErr: context.DeadlineExceeded}), ReasonTimeout},

		{"refused", urlErr(refused), ReasonConnectionRefused},
		{"refused bare", syscall.ECONNREFUSED, ReasonConnectionRefused},

		{"dns not found", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}), ReasonDNSError},
		{"dns server timeout", urlErr(&net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}), ReasonDNSError},

		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), ReasonTLSError},
		{"unknown authority bare", x509.UnknownAuthorityError{}, ReasonTLSError},
		{"hostname", urlErr(x509.HostnameError{Host: "x"}), ReasonTLSError},
		{"expired", urlErr(x509.CertificateInvalidError{Reason: x509.Expired}), ReasonTLSError},
		{"record header", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), ReasonTLSError},
		{"alert error", urlErr(tls.AlertError(40)), ReasonTLSError},
		{"remote alert", urlErr(&net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}), ReasonTLSError},
		{"local alert", urlErr(&net.OpError{Op: "local error", Err: errors.New("tls: bad record MAC")}), ReasonTLSError},
		{"plain tls error", urlErr(fmt.Errorf("handshake: %w", errors.New("tls: server selected unsupported protocol version 300"))), ReasonTLSError},
		{"scheme mismatch", urlErr(http.ErrSchemeMismatch), ReasonTLSError},
		{"joined", errors.Join(io.EOF, x509.UnknownAuthorityError{}), ReasonTLSError},

		{"eof", urlErr(io.EOF), ReasonNetworkError},
		{"unexpected eof", urlErr(io.ErrUnexpectedEOF), ReasonNetworkError},
		{"reset", urlErr(&net.OpError{Op: "read", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}), ReasonNetworkError},
		{"malformed", urlErr(errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "NOT HTTP"`)), ReasonNetworkError},
		// Only an error's own text prefix counts, not the URL in the wrapper.
		{"tls in url only", &url.Error{Op: "Get", URL: "tls: ", Err: io.EOF}, ReasonNetworkError},
		{"non-timeout net error", urlErr(&net.OpError{Op: "dial", Err: errors.New("network is unreachable")}), ReasonNetworkError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.want {
				t.Fatalf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}
