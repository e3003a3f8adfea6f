// Package delayserver is the local HTTP server of the benchmarks: it answers
// every request with 200 and an empty body, after a fixed delay or at once,
// and measures how late its own answers are, so a benchmark can tell the
// checker's overhead from the server's.
package delayserver

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Sleep selects how the server waits out its delay.
type Sleep int

const (
	// Precise waits on a kernel timer (a timerfd on Linux) that the Go netpoller
	// watches, so the answer is late only by the wake-up of a goroutine. It is
	// time.Timer elsewhere.
	Precise Sleep = iota
	// GoTimer waits on a time.Timer. When the process is otherwise idle the Go
	// runtime sleeps in epoll_wait, whose timeout is whole milliseconds, so a
	// timer may fire up to about a millisecond late.
	GoTimer
)

// String names the sleep as benchmark names show it.
func (s Sleep) String() string {
	if s == GoTimer {
		return "timer"
	}
	return "precise"
}

// Options configures a Server.
type Options struct {
	// Addr is the address to listen on; "" means 127.0.0.1 on a free port.
	Addr string
	// Delay is how long each request waits before its answer; 0 answers at once.
	Delay time.Duration
	// Sleep is how the delay is waited out.
	Sleep Sleep
}

// Server is a running benchmark server.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:41234.
	URL string

	opts      Options
	srv       *http.Server
	requests  atomic.Int64
	overshoot atomic.Int64 // nanoseconds, summed over requests
	// first and last are the arrival times of requests, in nanoseconds since
	// epoch, so Stats can tell when a client started and stopped checking.
	epoch       time.Time
	first, last atomic.Int64
}

// Start listens and serves until Close. The listen backlog is the kernel's
// net.core.somaxconn (Go asks for the maximum), so connections queue in the
// kernel rather than being refused while the server is busy.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), opts: opts, epoch: time.Now()}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second,
		// Clients that close mid-request are normal here (cancelled rounds).
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// StatsPath answers with the server's figures as JSON (see Stats) and
// ResetPath zeroes them; neither is counted or delayed.
const (
	StatsPath = "/_delayserver/stats"
	ResetPath = "/_delayserver/reset"
)

// Stats are a server's figures since it started or was last reset.
type Stats struct {
	// Requests is how many requests the server has received.
	Requests int64 `json:"requests"`
	// MeanOvershoot is how much later than Delay the delayed answers were, on
	// average: the server's own contribution to a check's latency.
	MeanOvershoot time.Duration `json:"meanOvershootNs"`
	// First and Last are when the first and the latest request arrived; zero
	// without requests.
	First, Last time.Time `json:"-"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case StatsPath:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
		return
	case ResetPath:
		s.ResetStats()
		return
	}
	s.requests.Add(1)
	now := int64(time.Since(s.epoch))
	for {
		first := s.first.Load()
		if (first != 0 && first <= now) || s.first.CompareAndSwap(first, now) {
			break
		}
	}
	for {
		last := s.last.Load()
		if now <= last || s.last.CompareAndSwap(last, now) {
			break
		}
	}
	if s.opts.Delay <= 0 {
		return
	}
	start := time.Now()
	var err error
	if s.opts.Sleep == GoTimer {
		err = sleepTimer(r.Context(), s.opts.Delay)
	} else {
		err = sleepPrecise(r.Context(), s.opts.Delay)
	}
	if err != nil {
		return // the client gave up
	}
	s.overshoot.Add(int64(time.Since(start) - s.opts.Delay))
}

// sleepTimer waits d on a time.Timer, or until ctx ends.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the server's figures.
func (s *Server) Stats() Stats {
	st := Stats{Requests: s.requests.Load()}
	if st.Requests == 0 {
		return st
	}
	if s.opts.Delay > 0 {
		st.MeanOvershoot = time.Duration(s.overshoot.Load() / st.Requests)
	}
	st.First = s.epoch.Add(time.Duration(s.first.Load()))
	st.Last = s.epoch.Add(time.Duration(s.last.Load()))
	return st
}

// ResetStats zeroes the request count and the overshoot.
func (s *Server) ResetStats() {
	s.requests.Store(0)
	s.overshoot.Store(0)
	s.first.Store(0)
	s.last.Store(0)
}

// Close stops the server and closes its connections.
func (s *Server) Close() error { return s.srv.Close() }
