// Package notify delivers transition notifications to webhooks (Slack's incoming
// webhooks and generic JSON receivers) in the background, with retries and a
// timeout. Each receiver has its own bounded queue and delivery goroutine, so a
// receiver that hangs or fails delays only its own messages, never a round and
// never another receiver. A Planner decides beforehand what each round sends,
// under the rules of spec.notify (see docs/notifications.md).
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Message is one transition, or with groupBy Round one round's transitions, as
// a webhook receives it. Text makes it a valid Slack message; the other fields
// serve generic receivers. A grouped message lists its transitions in
// Transitions; its Target, State, PreviousState and Reason are empty, its
// StatusCode is 0 and its Time is the round's (see Planner).
type Message struct {
	// Text is the event's note, such as "api returned 503 in 12ms (2 consecutive failures)".
	Text string `json:"text"`
	// HealthCheck is namespace/name of the HealthCheck.
	HealthCheck string `json:"healthcheck"`
	// Target is the target's display name.
	Target string `json:"target"`
	// State is the target's new state; PreviousState the one it left.
	State         string `json:"state"`
	PreviousState string `json:"previousState"`
	// Reason is the event reason, such as TargetDown.
	Reason string `json:"reason"`
	// StatusCode is the HTTP status of the check, 0 when there was no response.
	StatusCode int32 `json:"statusCode"`
	// Time is when the check that caused the transition started.
	Time time.Time `json:"time"`
	// Transitions, in a grouped message only, lists the round's transitions and
	// reminders, at most v1alpha1.MaxGroupedLines of them.
	Transitions []Transition `json:"transitions,omitempty"`
	// More, in a grouped message only, counts the transitions and reminders left
	// out of Transitions and Text.
	More int `json:"more,omitempty"`
}

// DropReason says why a message was not delivered.
type DropReason string

const (
	// DropQueueFull means the receiver's queue already held QueueSize messages.
	DropQueueFull DropReason = "QueueFull"
	// DropTooManyReceivers means MaxReceivers other receivers were active.
	DropTooManyReceivers DropReason = "TooManyReceivers"
	// DropGaveUp means every attempt failed, or the URL is invalid.
	DropGaveUp DropReason = "GaveUp"
	// DropShutdown means delivery stopped, with the message queued or in flight.
	DropShutdown DropReason = "Shutdown"
)

// Options tune delivery. Zero values take the defaults.
type Options struct {
	// Client sends the requests; it should enforce the probes' outbound policy,
	// since webhook URLs are user-supplied.
	Client *http.Client
	// Attempts is how many times a message is tried (default 4).
	Attempts int
	// Timeout bounds each attempt (default 10s).
	Timeout time.Duration
	// Backoff is the wait before the first retry, doubling after each (default 1s).
	Backoff time.Duration
	// QueueSize bounds the messages waiting for one receiver (default 100); beyond
	// it that receiver's new messages are dropped, never blocking the caller.
	QueueSize int
	// MaxReceivers bounds the receivers (distinct URLs) with a queue at once
	// (default 256); a message for one more receiver is dropped.
	MaxReceivers int
	// IdleTimeout is how long a receiver's queue and goroutine outlive its last
	// message (default 5m), so receivers no longer used cost nothing.
	IdleTimeout time.Duration
	// Clock times IdleTimeout; nil means the real clock.
	Clock clock.Clock
	// OnDrop, when set, is called once for every message that is not delivered,
	// for example to count drops in a metric. It is called from Send and from the
	// delivery goroutines, so it must be safe for concurrent use and return quickly.
	OnDrop func(msg Message, reason DropReason)
	// Log receives drops and delivery failures, which name a receiver by a hash
	// prefix of its URL, never the URL (it is a secret).
	Log logr.Logger
}

// Notifier delivers messages in the background, one queue and goroutine per
// receiver URL.
type Notifier struct {
	opts Options

	mu sync.Mutex
	// receivers holds a queue per URL, created on first use and removed once idle.
	receivers map[string]*receiver
	// ctx is Start's context, nil before Start.
	ctx context.Context
	// stopped is set once ctx is done; from then on Send refuses and starts no worker.
	stopped bool
	workers sync.WaitGroup
}

type receiver struct {
	url   string
	id    string // names the receiver in logs without revealing the URL
	queue chan Message
}

// New returns a Notifier; messages sent before Start wait in their queues.
func New(opts Options) *Notifier {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100
	}
	if opts.MaxReceivers <= 0 {
		opts.MaxReceivers = 256
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 5 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Notifier{opts: opts, receivers: map[string]*receiver{}}
}

// Send queues msg for the receiver at url and returns at once. It reports false
// when the message was dropped: that receiver's queue is full, too many receivers
// are active, or delivery has stopped.
func (n *Notifier) Send(url string, msg Message) bool {
	reason := n.enqueue(url, msg)
	if reason == "" {
		return true
	}
	n.dropped(receiverID(url), msg, reason, nil)
	return false
}

func (n *Notifier) enqueue(url string, msg Message) DropReason {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return DropShutdown
	}
	r, ok := n.receivers[url]
	if !ok {
		if len(n.receivers) >= n.opts.MaxReceivers {
			return DropTooManyReceivers
		}
		r = &receiver{url: url, id: receiverID(url), queue: make(chan Message, n.opts.QueueSize)}
		n.receivers[url] = r
		if n.ctx != nil {
			n.startWorker(r)
		}
	}
	select {
	case r.queue <- msg:
		return ""
	default:
		return DropQueueFull
	}
}

// Start delivers until ctx ends, then abandons what is queued or in flight and
// returns once every delivery goroutine has exited. It is a manager Runnable.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.ctx != nil {
		n.mu.Unlock()
		return errors.New("notifier already started")
	}
	n.ctx = ctx
	for _, r := range n.receivers {
		n.startWorker(r)
	}
	n.mu.Unlock()

	<-ctx.Done()
	n.mu.Lock()
	n.stopped = true // so no worker starts while we wait for them
	n.mu.Unlock()
	n.workers.Wait()
	return nil
}

// NeedLeaderElection is true: only the leader notifies, as only it checks.
func (n *Notifier) NeedLeaderElection() bool { return true }

// startWorker runs r's delivery goroutine; n.mu must be held.
func (n *Notifier) startWorker(r *receiver) {
	n.workers.Add(1)
	go func() {
		defer n.workers.Done()
		n.run(n.ctx, r)
	}()
}

// run delivers r's messages in order until ctx ends or r has been idle for
// IdleTimeout.
func (n *Notifier) run(ctx context.Context, r *receiver) {
	for {
		idle := n.opts.Clock.NewTimer(n.opts.IdleTimeout)
		select {
		case <-ctx.Done():
			idle.Stop()
			n.abandon(r, nil)
			return
		case msg := <-r.queue:
			idle.Stop()
			if !n.deliver(ctx, r, msg) {
				n.abandon(r, &msg)
				return
			}
		case <-idle.C():
			if n.retire(r) {
				return
			}
		}
	}
}

// retire removes an idle receiver, unless a message arrived meanwhile. Send
// enqueues under n.mu, so checking the queue under it loses no message.
func (n *Notifier) retire(r *receiver) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(r.queue) > 0 {
		return false
	}
	delete(n.receivers, r.url)
	return true
}

// abandon reports what shutdown left undelivered for r: the message in flight,
// if any, and the queue. It removes r under n.mu, so a message sent later goes
// to a new receiver whose worker, started on a done ctx, abandons it in turn.
func (n *Notifier) abandon(r *receiver, inFlight *Message) {
	n.mu.Lock()
	delete(n.receivers, r.url)
	var lost []Message
	if inFlight != nil {
		lost = append(lost, *inFlight)
	}
	for len(r.queue) > 0 {
		lost = append(lost, <-r.queue)
	}
	n.mu.Unlock()
	if len(lost) == 0 {
		return
	}
	// One line per receiver: a long queue would otherwise flood the log on shutdown.
	n.opts.Log.Info("Abandoned webhook notifications on shutdown", "receiver", r.id, "count", len(lost))
	if n.opts.OnDrop != nil {
		for _, m := range lost {
			n.opts.OnDrop(m, DropShutdown)
		}
	}
}

// dropped logs and reports a message that will not be delivered.
func (n *Notifier) dropped(id string, msg Message, reason DropReason, err error) {
	if n.opts.OnDrop != nil {
		n.opts.OnDrop(msg, reason)
	}
	kv := []any{"reason", reason, "receiver", id, "healthcheck", msg.HealthCheck, "target", msg.Target}
	if err != nil {
		n.opts.Log.Error(err, "Dropped a webhook notification", kv...)
		return
	}
	n.opts.Log.Info("Dropped a webhook notification", kv...)
}

// receiverID is a short, non-reversible name for a webhook URL, for logs.
func receiverID(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:4])
}
