package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	testingclock "k8s.io/utils/clock/testing"
)

// hook is a webhook receiver on loopback. It answers 500 to the requests for
// which fail(n) is true (n counts from 1) and records when each request came.
type hook struct {
	*httptest.Server
	mu    sync.Mutex
	times []time.Time
	got   chan Message
}

func newHook(t *testing.T, fail func(n int) bool) *hook {
	h := &hook{got: make(chan Message, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.mu.Lock()
		h.times = append(h.times, time.Now())
		n := len(h.times)
		h.mu.Unlock()
		if fail != nil && fail(n) {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var m Message
		if req.Header.Get("Content-Type") != "application/json" || json.NewDecoder(req.Body).Decode(&m) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.got <- m
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) requests() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.times...)
}

// hungHook accepts requests and never answers them until released.
type hungHook struct {
	*httptest.Server
	requests atomic.Int32
	release  func()
}

func newHungHook(t *testing.T) *hungHook {
	h := &hungHook{}
	released := make(chan struct{})
	h.release = sync.OnceFunc(func() { close(released) })
	h.Server = httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		h.requests.Add(1)
		<-released // not the request's context: the client gives up, the server doesn't
	}))
	t.Cleanup(func() { h.release(); h.Close() }) // Close waits for the handlers
	return h
}

// drops records OnDrop calls.
type drops struct {
	mu   sync.Mutex
	list []drop
}

type drop struct {
	Text   string
	Reason DropReason
}

func (d *drops) record(m Message, reason DropReason) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.list = append(d.list, drop{Text: m.Text, Reason: reason})
}

func (d *drops) get() []drop {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]drop(nil), d.list...)
}

// logs captures a Notifier's log lines, V(1) included.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// start runs n until the test ends; stop ends it early and done closes when
// Start has returned.
func start(t *testing.T, n *Notifier) (stop func(), done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() { _ = n.Start(ctx); close(finished) }()
	t.Cleanup(func() { cancel(); <-finished })
	return cancel, finished
}

func (n *Notifier) receiverCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.receivers)
}

func message(text string) Message {
	return Message{Text: text, HealthCheck: "shop/api", Target: "api", State: "Down", PreviousState: "Up",
		Reason: "TargetDown", StatusCode: 503}
}

const patience = 5 * time.Second // generous: the machine is shared; the bounds that matter are explicit

func TestMessageJSONIsWhatReceiversExpect(t *testing.T) {
	m := message("api returned 503 in 12ms (1 consecutive failure)")
	m.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := json.Marshal(m)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	NewWithT(t).Expect(string(b)).To(Equal(`{"text":"api returned 503 in 12ms (1 consecutive failure)",` +
		`"healthcheck":"shop/api","target":"api","state":"Down","previousState":"Up","reason":"TargetDown",` +
		`"statusCode":503,"time":"2026-01-02T03:04:05Z"}`))
}

func TestMessageIsPostedAsJSON(t *testing.T) {
	g := NewWithT(t)
	h := newHook(t, nil)
	n := New(Options{})
	start(t, n)
	g.Expect(n.Send(h.URL+"/hooks/T000/B000/XXXX", message("down"))).To(BeTrue())
	var got Message
	g.Eventually(h.got).WithTimeout(patience).Should(Receive(&got))
	g.Expect(got).To(Equal(message("down")))
}

// A receiver that accepts and never answers holds up only its own messages.
func TestAHungReceiverDelaysOnlyItsOwnMessages(t *testing.T) {
	g := NewWithT(t)
	hung := newHungHook(t)
	other := newHook(t, nil)
	d := &drops{}
	n := New(Options{Attempts: 20, Timeout: 300 * time.Millisecond, Backoff: 10 * time.Millisecond, OnDrop: d.record})
	start(t, n)

	g.Expect(n.Send(hung.URL, message("hung 0"))).To(BeTrue())
	g.Eventually(hung.requests.Load).WithTimeout(patience).Should(BeEquivalentTo(1), "the hung receiver's first attempt is in flight")
	sent := time.Now()
	for i := range 5 {
		g.Expect(n.Send(hung.URL, message(fmt.Sprint("hung ", i+1)))).To(BeTrue())
		g.Expect(n.Send(other.URL, message(fmt.Sprint("other ", i)))).To(BeTrue())
	}
	for i := range 5 {
		var got Message
		g.Eventually(other.got).WithTimeout(2*time.Second - time.Since(sent)).Should(Receive(&got))
		g.Expect(got.Text).To(Equal(fmt.Sprint("other ", i)))
	}
	g.Eventually(hung.requests.Load).WithTimeout(patience).Should(BeNumerically(">=", 2),
		"the hung receiver is still retried: each attempt is bounded by Timeout")
	g.Expect(d.get()).To(BeEmpty())
}

func TestAFailingReceiverIsRetriedWithBackoffThenDropped(t *testing.T) {
	g := NewWithT(t)
	failing := newHook(t, func(int) bool { return true })
	other := newHook(t, nil)
	d, l := &drops{}, &logs{}
	const backoff = 50 * time.Millisecond
	n := New(Options{Attempts: 3, Backoff: backoff, OnDrop: d.record, Log: l.logger()})
	start(t, n)

	secretURL := failing.URL + "/hooks/secret-token"
	g.Expect(n.Send(secretURL, message("to failing"))).To(BeTrue())
	g.Expect(n.Send(other.URL, message("to other"))).To(BeTrue())
	g.Eventually(other.got).WithTimeout(patience).Should(Receive(Equal(message("to other"))))

	g.Eventually(d.get).WithTimeout(patience).Should(Equal([]drop{{Text: "to failing", Reason: DropGaveUp}}))
	times := failing.requests()
	g.Expect(times).To(HaveLen(3))
	g.Expect(times[1].Sub(times[0])).To(BeNumerically(">=", backoff))
	g.Expect(times[2].Sub(times[1])).To(BeNumerically(">=", 2*backoff), "the wait doubles")
	g.Consistently(failing.requests).WithTimeout(4*backoff).Should(HaveLen(3), "no attempt after giving up")

	g.Expect(l.String()).To(ContainSubstring(`"msg"="Dropped a webhook notification" "error"="giving up after 3 attempts: posting: the webhook answered 500" "reason"="GaveUp" "receiver"="` + receiverID(secretURL) + `" "healthcheck"="shop/api" "target"="api"`))
	g.Expect(strings.Count(l.String(), "Dropped a webhook notification")).To(Equal(1), "logged once")
	g.Expect(l.String()).NotTo(ContainSubstring("secret-token"))
	g.Expect(l.String()).NotTo(ContainSubstring(failing.URL))
}

func TestAnInvalidURLIsDroppedWithoutRetrying(t *testing.T) {
	g := NewWithT(t)
	d := &drops{}
	n := New(Options{OnDrop: d.record})
	start(t, n)
	g.Expect(n.Send("http://[::1", message("bad"))).To(BeTrue())
	g.Eventually(d.get).WithTimeout(patience).Should(Equal([]drop{{Text: "bad", Reason: DropGaveUp}}))
}

// Not started, so nothing drains the queues and the bounds are exact.
func TestQueuesAndReceiversAreBounded(t *testing.T) {
	g := NewWithT(t)
	d := &drops{}
	n := New(Options{QueueSize: 2, MaxReceivers: 2, OnDrop: d.record})
	a, b, c := "http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "http://127.0.0.1:1/c"

	g.Expect(n.Send(a, message("a1"))).To(BeTrue())
	g.Expect(n.Send(a, message("a2"))).To(BeTrue())
	g.Expect(n.Send(a, message("a3"))).To(BeFalse(), "a's queue is full")
	g.Expect(n.Send(b, message("b1"))).To(BeTrue(), "a full queue is a's alone")
	g.Expect(n.Send(c, message("c1"))).To(BeFalse(), "a third receiver is past MaxReceivers")
	g.Expect(d.get()).To(Equal([]drop{{Text: "a3", Reason: DropQueueFull}, {Text: "c1", Reason: DropTooManyReceivers}}))
}

func TestMessagesToOneReceiverArriveInOrder(t *testing.T) {
	g := NewWithT(t)
	h := newHook(t, func(n int) bool { return n%2 == 1 }) // every message needs a retry
	n := New(Options{QueueSize: 20, Backoff: time.Millisecond})
	for i := range 10 {
		g.Expect(n.Send(h.URL, message(fmt.Sprint(i)))).To(BeTrue(), "queued before Start")
	}
	start(t, n)
	for i := 10; i < 20; i++ {
		g.Expect(n.Send(h.URL, message(fmt.Sprint(i)))).To(BeTrue())
	}
	for i := range 20 {
		var got Message
		g.Eventually(h.got).WithTimeout(patience).Should(Receive(&got))
		g.Expect(got.Text).To(Equal(fmt.Sprint(i)))
	}
}

func TestStartReturnsPromptlyWithAHungReceiverInFlight(t *testing.T) {
	g := NewWithT(t)
	hung := newHungHook(t)
	client := &http.Client{Transport: &http.Transport{}} // its connections end with the test
	d := &drops{}
	before := runtime.NumGoroutine()
	n := New(Options{Client: client, Timeout: time.Minute, Backoff: time.Minute, OnDrop: d.record})
	stop, done := start(t, n)

	g.Expect(n.Send(hung.URL, message("in flight"))).To(BeTrue())
	g.Expect(n.Send(hung.URL, message("queued"))).To(BeTrue())
	g.Eventually(hung.requests.Load).WithTimeout(patience).Should(BeEquivalentTo(1))
	stop()
	g.Eventually(done).WithTimeout(time.Second).Should(BeClosed())

	g.Expect(d.get()).To(ConsistOf(drop{Text: "in flight", Reason: DropShutdown}, drop{Text: "queued", Reason: DropShutdown}))
	g.Expect(n.Send(hung.URL, message("late"))).To(BeFalse(), "stopped")
	g.Expect(n.receiverCount()).To(BeZero())

	hung.release()
	hung.Close()
	client.CloseIdleConnections()
	g.Eventually(runtime.NumGoroutine).WithTimeout(patience).Should(BeNumerically("<=", before), "no delivery goroutine outlives Start")
}

func TestAnIdleReceiverIsRetired(t *testing.T) {
	g := NewWithT(t)
	clk := testingclock.NewFakeClock(time.Now())
	h := newHook(t, nil)
	n := New(Options{MaxReceivers: 1, IdleTimeout: time.Minute, Clock: clk})
	start(t, n)

	g.Expect(n.Send(h.URL, message("first"))).To(BeTrue())
	g.Eventually(h.got).WithTimeout(patience).Should(Receive())
	g.Expect(n.Send(h.URL+"/other", message("other"))).To(BeFalse(), "one receiver is the cap")

	g.Eventually(clk.HasWaiters).WithTimeout(patience).Should(BeTrue(), "the receiver waits, idle")
	clk.Step(time.Minute)
	g.Eventually(n.receiverCount).WithTimeout(patience).Should(BeZero())
	g.Expect(n.Send(h.URL+"/other", message("other"))).To(BeTrue(), "retiring freed its place")
	g.Eventually(h.got).WithTimeout(patience).Should(Receive(Equal(message("other"))))
}
