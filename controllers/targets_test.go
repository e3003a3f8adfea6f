package controllers_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// targetServer is a local HTTP server whose endpoints behave as a test needs:
//
//	/status/{code}  answers with that code
//	/flip           answers with the code set by setFlip (200 at first)
//	/delay/{ms}     answers 200 after that many milliseconds
//	/hang           never answers; it records when its request is cancelled
//	/secured        answers 200 when X-Api-Key is "s3cr3t-value", else 401
//	/redirect       redirects to /status/200
type targetServer struct {
	*httptest.Server
	flip atomic.Int32

	mu        sync.Mutex
	hits      map[string]int
	hanging   chan struct{} // receives when a /hang request arrives
	cancelled chan struct{} // receives when a /hang request's connection goes away
}

func newTargetServer(t *testing.T) *targetServer {
	t.Helper()
	s := &targetServer{hits: map[string]int{}, hanging: make(chan struct{}, 16), cancelled: make(chan struct{}, 16)}
	s.flip.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *targetServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/status/"):
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		w.WriteHeader(code)
	case r.URL.Path == "/flip":
		w.WriteHeader(int(s.flip.Load()))
	case strings.HasPrefix(r.URL.Path, "/delay/"):
		ms, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/delay/"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
		}
	case r.URL.Path == "/redirect":
		http.Redirect(w, r, "/status/200", http.StatusFound)
	case r.URL.Path == "/secured":
		if r.Header.Get("X-Api-Key") != apiKey {
			w.WriteHeader(http.StatusUnauthorized)
		}
	case r.URL.Path == "/hang":
		s.hanging <- struct{}{}
		<-r.Context().Done()
		s.cancelled <- struct{}{}
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// apiKey is the value /secured expects; tests keep it in a Secret.
const apiKey = "s3cr3t-value"

func (s *targetServer) url(path string) string { return s.URL + path }

func (s *targetServer) setFlip(code int) { s.flip.Store(int32(code)) }

// hitCount is how many requests a path has had.
func (s *targetServer) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}
