package delayserver

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestServerDelays(t *testing.T) {
	for _, sleep := range []Sleep{Precise, GoTimer} {
		t.Run(sleep.String(), func(t *testing.T) {
			const delay = 30 * time.Millisecond
			srv, err := Start(Options{Delay: delay, Sleep: sleep})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			start := time.Now()
			mustGet(t, srv.URL+"/any/path")
			if elapsed := time.Since(start); elapsed < delay {
				t.Errorf("answered after %s, before the delay of %s", elapsed, delay)
			}
			st := srv.Stats()
			if st.Requests != 1 || st.MeanOvershoot < 0 || st.First.IsZero() || st.Last.Before(st.First) {
				t.Errorf("stats = %+v after one request", st)
			}
			srv.ResetStats()
			if st := srv.Stats(); st.Requests != 0 {
				t.Errorf("stats = %+v after a reset", st)
			}
		})
	}
}

func TestServerCancelledRequest(t *testing.T) {
	srv, err := Start(Options{Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a request to a server that waits an hour succeeded")
	}
	// Close must not wait for the hour: the handler ends with its request.
	done := make(chan struct{})
	go func() { _ = srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on a handler whose client had gone")
	}
}

func mustGet(t *testing.T, url string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
}
