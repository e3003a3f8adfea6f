package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultAddr is where the demo server listens unless told otherwise; the demo
// sample in config/samples points at it.
const DefaultAddr = "127.0.0.1:18080"

// shutdownTimeout bounds how long Serve waits for answers already being written.
const shutdownTimeout = 5 * time.Second

// Listen opens a TCP listener on addr, which must name a loopback host such as
// 127.0.0.1, [::1] or localhost: the demo endpoints echo request headers and are
// no business of the network.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parsing demo server address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo server address %q is not on loopback: use 127.0.0.1, [::1] or localhost", addr)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for the demo server: %w", addr, err)
	}
	return l, nil
}

// Serve serves h on l until ctx is done, then stops. Requests still waiting in
// /delay see their context cancelled at once, so stopping never waits for them.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		// Request contexts derive from ctx, so they end when the server is told to stop.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	select {
	case err := <-served:
		return fmt.Errorf("serving the demo endpoints on %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stopping the demo server on %s: %w", l.Addr(), err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the demo endpoints on %s: %w", l.Addr(), err)
	}
	return nil
}
