// Package notify delivers transition notifications to webhooks (Slack's incoming
// webhooks and generic JSON receivers) in the background, with retries and a
// timeout, so that a slow or failing receiver never holds up a round.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
)

// Message is one transition, as a webhook receives it. Text makes it a valid
// Slack message; the other fields serve generic receivers.
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
}

// Options tune delivery.
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
	// QueueSize bounds the messages waiting for delivery (default 1000); beyond it
	// new messages are dropped and logged, never blocking the caller.
	QueueSize int
	// Log receives delivery failures, without the webhook URL (it is a secret).
	Log logr.Logger
}

type delivery struct {
	url string
	msg Message
}

// Notifier delivers messages from a bounded queue on one background goroutine.
type Notifier struct {
	opts  Options
	queue chan delivery
	sleep func(ctx context.Context, d time.Duration) bool
}

// New returns a Notifier; call Start to deliver.
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
		opts.QueueSize = 1000
	}
	return &Notifier{opts: opts, queue: make(chan delivery, opts.QueueSize), sleep: sleepCtx}
}

// Send queues a message for url and returns at once. It reports false when the
// queue is full and the message was dropped.
func (n *Notifier) Send(url string, msg Message) bool {
	select {
	case n.queue <- delivery{url: url, msg: msg}:
		return true
	default:
		n.opts.Log.Info("Dropped a webhook notification: the queue is full", "healthcheck", msg.HealthCheck, "target", msg.Target)
		return false
	}
}

// Start delivers queued messages until ctx ends. It is a manager Runnable.
func (n *Notifier) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case d := <-n.queue:
			n.deliver(ctx, d)
		}
	}
}

// NeedLeaderElection is true: only the leader notifies, as only it checks.
func (n *Notifier) NeedLeaderElection() bool { return true }

// deliver tries a message up to Attempts times, backing off between tries.
func (n *Notifier) deliver(ctx context.Context, d delivery) {
	body, err := json.Marshal(d.msg)
	if err != nil {
		n.opts.Log.Error(err, "Encoding a webhook notification")
		return
	}
	wait := n.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := n.post(ctx, d.url, body)
		if err == nil {
			return
		}
		if attempt == n.opts.Attempts {
			n.opts.Log.Error(err, "Giving up on a webhook notification", "healthcheck", d.msg.HealthCheck, "target", d.msg.Target, "attempts", attempt)
			return
		}
		if !n.sleep(ctx, wait) {
			return
		}
		wait *= 2
	}
}

// post sends one attempt. Errors never quote the URL: it carries the webhook's secret.
func (n *Notifier) post(ctx context.Context, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request: invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("posting: timed out after %s", n.opts.Timeout)
		}
		return fmt.Errorf("posting: the webhook could not be reached")
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("posting: the webhook answered %d", resp.StatusCode)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
