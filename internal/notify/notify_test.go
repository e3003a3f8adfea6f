package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// receiver is a webhook that fails its first `failures` requests with 500.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	failures int
	attempts int
	got      chan Message
}

func newReceiver(t *testing.T, failures int) *receiver {
	r := &receiver{failures: failures, got: make(chan Message, 10)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.attempts++
		fail := r.attempts <= r.failures
		r.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var m Message
		if req.Header.Get("Content-Type") != "application/json" || json.NewDecoder(req.Body).Decode(&m) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.got <- m
	}))
	t.Cleanup(r.Close)
	return r
}

func startNotifier(t *testing.T, opts Options) *Notifier {
	n := New(opts)
	n.sleep = func(ctx context.Context, _ time.Duration) bool { return ctx.Err() == nil } // retries without waiting
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = n.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return n
}

func receive(t *testing.T, ch <-chan Message) Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message arrived within 10s")
		return Message{}
	}
}

var down = Message{Text: "api returned 503 in 12ms (1 consecutive failure)", HealthCheck: "shop/api", Target: "api",
	State: "Down", PreviousState: "Up", Reason: "TargetDown", StatusCode: 503}

func TestMessageIsPostedAsSlackCompatibleJSON(t *testing.T) {
	r := newReceiver(t, 0)
	n := startNotifier(t, Options{})
	if !n.Send(r.URL+"/hooks/T000/B000/XXXX", down) {
		t.Fatal("queue refused a message")
	}
	got := receive(t, r.got)
	if got.Text != down.Text || got.Reason != "TargetDown" || got.HealthCheck != "shop/api" || got.StatusCode != 503 {
		t.Fatalf("got %+v", got)
	}
}

func TestFailedDeliveriesAreRetried(t *testing.T) {
	r := newReceiver(t, 2)
	n := startNotifier(t, Options{Attempts: 3})
	n.Send(r.URL, down)
	receive(t, r.got)
	if r.attempts != 3 {
		t.Fatalf("%d attempts, want 3", r.attempts)
	}
}

func TestAHangingWebhookIsTimedOutAndNeverBlocksTheSender(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); hanging.Close() })
	r := newReceiver(t, 0)
	n := startNotifier(t, Options{Attempts: 1, Timeout: 100 * time.Millisecond, QueueSize: 2})

	if !n.Send(hanging.URL, down) || !n.Send(r.URL, down) {
		t.Fatal("queue refused a message")
	}
	receive(t, r.got) // delivered once the hanging attempt timed out
	for range 10 {
		n.Send(hanging.URL, down) // returns at once, whether queued or dropped
	}
}

func TestAFullQueueDropsInsteadOfBlocking(t *testing.T) {
	n := New(Options{QueueSize: 1, Log: logr.Discard()}) // not started: nothing drains
	if !n.Send("http://127.0.0.1:1/", down) {
		t.Fatal("first message refused")
	}
	if n.Send("http://127.0.0.1:1/", down) {
		t.Fatal("a full queue accepted a message")
	}
}
