package checker

import (
	"net/http"
	"testing"
)

// BenchmarkCheckHTTP measures one http:// check on a local server, one at a
// time, so allocs/op is the cost of the check itself (the server's share
// included): a change to the hot path shows here before it shows in
// BenchmarkRun's rounds.
func BenchmarkCheckHTTP(b *testing.B) {
	srv := newServer(b, func(w http.ResponseWriter, _ *http.Request) {})
	c := newChecker(b, nil)
	target := Target{URL: srv.URL + "/healthz"}
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Check(b.Context(), target); r.Reason != ReasonOK {
			b.Fatalf("%s %q", r.Reason, r.Message)
		}
	}
}

// BenchmarkCheckHTTPS is BenchmarkCheckHTTP over TLS (a full handshake each
// time: probes never reuse connections).
func BenchmarkCheckHTTPS(b *testing.B) {
	srv := newTLSServer(b, func(w http.ResponseWriter, _ *http.Request) {})
	c := newChecker(b, nil)
	target := Target{URL: srv.URL + "/healthz", InsecureSkipVerify: true}
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Check(b.Context(), target); r.Reason != ReasonOK {
			b.Fatalf("%s %q", r.Reason, r.Message)
		}
	}
}
