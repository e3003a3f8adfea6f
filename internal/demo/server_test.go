package demo_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/demo"
)

func TestListenOnlyOnLoopback(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{addr: "127.0.0.1:0"},
		{addr: "localhost:0"},
		{addr: ":0", wantErr: true},
		{addr: "0.0.0.0:0", wantErr: true},
		{addr: "192.0.2.1:0", wantErr: true},
		{addr: "example.com:0", wantErr: true},
		{addr: "127.0.0.1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			l, err := demo.Listen(t.Context(), tt.addr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Listen(%q) error = %v, want error %t", tt.addr, err, tt.wantErr)
			}
			if l != nil {
				_ = l.Close()
			}
		})
	}
}

func TestListenReportsAPortInUse(t *testing.T) {
	taken, err := demo.Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()

	_, err = demo.Listen(t.Context(), taken.Addr().String())
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen on a taken port: error = %v, want EADDRINUSE", err)
	}
}

// TestServeStopsPromptly checks that Serve answers until its context ends, then
// returns without waiting for a request parked in /delay, and frees the port.
func TestServeStopsPromptly(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now())
	l, err := demo.Listen(t.Context(), "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()

	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- demo.Serve(ctx, l, demo.NewHandler(clk)) }()

	code, _, err := fetch(t.Context(), "GET", "http://"+addr+"/status/200", nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(200))

	parked := make(chan int, 1)
	go func() {
		code, _, _ := fetch(t.Context(), "GET", "http://"+addr+"/delay/10", nil)
		parked <- code
	}()
	g.Eventually(clk.HasWaiters).WithTimeout(timeout).WithPolling(poll).Should(BeTrue())

	cancel()
	g.Eventually(served).WithTimeout(timeout).Should(Receive(BeNil()))
	g.Eventually(parked).WithTimeout(timeout).Should(Receive(Equal(http.StatusServiceUnavailable)))
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", addr)
	if err == nil {
		_ = conn.Close()
	}
	g.Expect(err).To(HaveOccurred(), "nothing listens on %s after Serve returned", addr)
}
