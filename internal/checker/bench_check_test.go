package checker

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/hack/bench/delayserver"
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

// BenchmarkCheckHTTPChecker is BenchmarkCheckHTTP with the server in a child
// process, so ns/op, B/op and allocs/op are the checker's alone: what the
// manager pays per check (with -cpuprofile, its profile holds no server).
// ns/op is mostly waiting for the other process; cpu-ns/op is the CPU time,
// user and system, this process spent per check, the garbage collector's
// included.
func BenchmarkCheckHTTPChecker(b *testing.B) {
	srv := startDelayServer(b, delayserver.Options{}, false)
	c := newChecker(b, nil)
	target := Target{URL: srv.url + "/healthz"}
	b.ReportAllocs()
	start := processCPU(b)
	for b.Loop() {
		if r := c.Check(b.Context(), target); r.Reason != ReasonOK {
			b.Fatalf("%s %q", r.Reason, r.Message)
		}
	}
	b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time, user and system, this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
