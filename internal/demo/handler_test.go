package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/demo"
)

const (
	timeout = 5 * time.Second
	poll    = 10 * time.Millisecond
)

// get requests path from srv and returns the status code and body.
func get(t *testing.T, srv *httptest.Server, method, path string, header http.Header) (int, string) {
	t.Helper()
	code, body, err := fetch(t.Context(), method, srv.URL+path, header)
	if err != nil {
		t.Fatal(err)
	}
	return code, body
}

// fetch requests url and returns the status code and body; safe to call from any goroutine.
func fetch(ctx context.Context, method, url string, header http.Header) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("building request: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("reading body of %s %s: %w", method, url, err)
	}
	return resp.StatusCode, string(body), nil
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return out
}

func TestStatus(t *testing.T) {
	srv := httptest.NewServer(demo.NewHandler(nil))
	defer srv.Close()

	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/status/200", 200},
		{"GET", "/status/204", 204},
		{"GET", "/status/404", 404},
		{"GET", "/status/500", 500},
		{"GET", "/status/503", 503},
		{"HEAD", "/status/404", 404},
		{"POST", "/status/201", 201},
		{"GET", "/status/199", 400},
		{"GET", "/status/600", 400},
		{"GET", "/status/abc", 400},
		{"GET", "/nope", 404},
		{"POST", "/get", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			if got, _ := get(t, srv, tt.method, tt.path, nil); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestJSONEndpoints(t *testing.T) {
	srv := httptest.NewServer(demo.NewHandler(nil))
	defer srv.Close()
	g := NewWithT(t)

	code, body := get(t, srv, "GET", "/get?a=1&a=2&b=x", http.Header{"X-Demo": {"yes"}})
	g.Expect(code).To(Equal(200))
	echo := decode(t, body)
	g.Expect(echo).To(HaveKeyWithValue("args", map[string]any{"a": "1,2", "b": "x"}))
	g.Expect(echo).To(HaveKeyWithValue("origin", "127.0.0.1"))
	g.Expect(echo).To(HaveKeyWithValue("url", srv.URL+"/get?a=1&a=2&b=x"))
	g.Expect(echo["headers"]).To(HaveKeyWithValue("X-Demo", "yes"))

	code, body = get(t, srv, "GET", "/ip", nil)
	g.Expect(code).To(Equal(200))
	g.Expect(decode(t, body)).To(Equal(map[string]any{"origin": "127.0.0.1"}))

	code, body = get(t, srv, "GET", "/headers", http.Header{"X-Api-Key": {"k"}})
	g.Expect(code).To(Equal(200))
	headers := decode(t, body)["headers"]
	g.Expect(headers).To(HaveKeyWithValue("X-Api-Key", "k"))
	g.Expect(headers).To(HaveKeyWithValue("Host", srv.Listener.Addr().String()))

	uuidPattern := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	_, first := get(t, srv, "GET", "/uuid", nil)
	_, second := get(t, srv, "GET", "/uuid", nil)
	g.Expect(decode(t, first)["uuid"]).To(MatchRegexp(uuidPattern.String()))
	g.Expect(decode(t, first)["uuid"]).NotTo(Equal(decode(t, second)["uuid"]))

	code, body = get(t, srv, "GET", "/", nil)
	g.Expect(code).To(Equal(200))
	g.Expect(body).To(ContainSubstring("/delay/{seconds}"))
}

func TestParseDelay(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "0", want: 0},
		{in: "1", want: time.Second},
		{in: "0.5", want: 500 * time.Millisecond},
		{in: "10", want: 10 * time.Second},
		{in: "60", want: demo.MaxDelay},
		{in: "1e9", want: demo.MaxDelay},
		{in: "Inf", want: demo.MaxDelay},
		{in: "-1", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := demo.ParseDelay(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDelay(%q) error = %v, want error %t", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseDelay(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestDelayWaitsForTheClock checks that /delay answers only once its delay,
// capped at MaxDelay, has passed on the clock.
func TestDelayWaitsForTheClock(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	srv := httptest.NewServer(demo.NewHandler(clk))
	defer srv.Close()
	g := NewWithT(t)

	type answer struct {
		code int
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		code, body, err := fetch(t.Context(), "GET", srv.URL+"/delay/60", nil)
		answered <- answer{code, body, err}
	}()

	g.Eventually(clk.HasWaiters).WithTimeout(timeout).WithPolling(poll).Should(BeTrue())
	clk.Step(demo.MaxDelay - time.Millisecond)
	g.Consistently(answered).WithTimeout(50 * time.Millisecond).ShouldNot(Receive())
	clk.Step(time.Millisecond)

	var got answer
	g.Eventually(answered).WithTimeout(timeout).Should(Receive(&got))
	g.Expect(got.err).NotTo(HaveOccurred())
	g.Expect(got.code).To(Equal(200))
	g.Expect(decode(t, got.body)).To(HaveKeyWithValue("url", srv.URL+"/delay/60"))
}

// TestDelayHonoursCancellation checks that a caller giving up frees the handler
// at once, without waiting for the delay.
func TestDelayHonoursCancellation(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	h := demo.NewHandler(clk)
	g := NewWithT(t)

	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, "GET", "/delay/5", nil)
	rec := httptest.NewRecorder()
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		h.ServeHTTP(rec, req)
	}()

	g.Eventually(clk.HasWaiters).WithTimeout(timeout).WithPolling(poll).Should(BeTrue())
	cancel()
	g.Eventually(returned).WithTimeout(timeout).Should(BeClosed())
	g.Expect(rec.Code).To(Equal(http.StatusServiceUnavailable))
}
