// Package demo serves a small imitation of the httpbin endpoints that the seed's
// examples check (/get, /status/{code}, /delay/{seconds}, /ip, /uuid, /headers),
// on loopback only, so the operator can show Up, Slow and Down targets on a
// machine with no internet. It knows nothing of Kubernetes.
package demo

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// MaxDelay caps /delay/{seconds}, as httpbin does, so a typo cannot hold a
// connection open for long.
const MaxDelay = 10 * time.Second

// NewHandler returns the demo endpoints. clk times /delay; nil means the real clock.
func NewHandler(clk clock.WithTicker) http.Handler {
	if clk == nil {
		clk = clock.RealClock{}
	}
	h := &handler{clock: clk}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /get", h.get)
	mux.HandleFunc("/status/{code}", h.status) // any method, as httpbin
	mux.HandleFunc("GET /delay/{seconds}", h.delay)
	mux.HandleFunc("GET /ip", h.ip)
	mux.HandleFunc("GET /uuid", h.uuid)
	mux.HandleFunc("GET /headers", h.headers)
	return mux
}

type handler struct {
	clock clock.WithTicker
}

// index lists the endpoints, for a human who opens the server in a browser.
func (h *handler) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprint(w, `HealthCheck demo targets (a loopback imitation of httpbin):
  GET /get               the request, as JSON
  ANY /status/{code}     answers with that status code (200-599)
  GET /delay/{seconds}   answers after a delay of at most 10s
  GET /ip                the caller's address
  GET /uuid              a random UUID
  GET /headers           the request headers
`)
}

// get echoes the request like httpbin's /get.
func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, describeRequest(r))
}

// status answers with the status code in the path and an empty body.
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		http.Error(w, "invalid status code: want a number from 200 to 599", http.StatusBadRequest)
		return
	}
	w.WriteHeader(code)
}

// delay answers like /get after the delay in the path, capped at MaxDelay. It
// gives up at once when the caller goes away or the server stops, answering 503
// so that a caller still there never mistakes the cut-short wait for success.
func (h *handler) delay(w http.ResponseWriter, r *http.Request) {
	d, err := ParseDelay(r.PathValue("seconds"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	timer := h.clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C():
		writeJSON(w, describeRequest(r))
	case <-r.Context().Done():
		http.Error(w, "delay cut short: request cancelled or server stopping", http.StatusServiceUnavailable)
	}
}

// ip answers with the caller's address, like httpbin's /ip.
func (h *handler) ip(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"origin": origin(r)})
}

// uuid answers with a random version 4 UUID, like httpbin's /uuid.
func (h *handler) uuid(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"uuid": newUUID()})
}

// headers echoes the request headers, like httpbin's /headers.
func (h *handler) headers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"headers": flattenHeaders(r)})
}

// ParseDelay reads the {seconds} of /delay/{seconds}: a non-negative number,
// fractions allowed, capped at MaxDelay.
func ParseDelay(s string) (time.Duration, error) {
	seconds, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(seconds) || seconds < 0 {
		return 0, errors.New("invalid delay: want a number of seconds such as 1 or 0.5")
	}
	if seconds >= MaxDelay.Seconds() {
		return MaxDelay, nil
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

// requestEcho is the JSON body of /get and /delay.
type requestEcho struct {
	Args    map[string]string `json:"args"`
	Headers map[string]string `json:"headers"`
	Origin  string            `json:"origin"`
	URL     string            `json:"url"`
}

func describeRequest(r *http.Request) requestEcho {
	args := make(map[string]string, len(r.URL.Query()))
	for k, v := range r.URL.Query() {
		args[k] = strings.Join(v, ",")
	}
	return requestEcho{
		Args:    args,
		Headers: flattenHeaders(r),
		Origin:  origin(r),
		URL:     "http://" + r.Host + r.URL.RequestURI(),
	}
}

// flattenHeaders joins repeated headers with commas and adds Host, which net/http
// keeps out of r.Header.
func flattenHeaders(r *http.Request) map[string]string {
	out := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		out[k] = strings.Join(v, ",")
	}
	out["Host"] = r.Host
	return out
}

func origin(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // never fails: crypto/rand.Read panics rather than return an error
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeJSON writes v indented, as httpbin does.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(body, '\n'))
}
