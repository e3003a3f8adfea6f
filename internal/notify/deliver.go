package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"k8s.io/apimachinery/pkg/util/wait"
)

// errInvalidURL stops retries: no attempt can succeed.
var errInvalidURL = errors.New("building the request: invalid webhook URL")

// deliver tries msg up to Attempts times, waiting Backoff, then twice as long,
// and so on, between tries; a message given up on is dropped. It reports false
// when ctx ended first, leaving msg undelivered.
func (n *Notifier) deliver(ctx context.Context, r *receiver, msg Message) bool {
	body, err := json.Marshal(msg)
	if err != nil {
		n.dropped(r.id, msg, DropGaveUp, fmt.Errorf("encoding: %w", err))
		return true
	}
	// No Cap: reaching it would end the steps, and with them the attempts, early.
	backoff := wait.Backoff{Duration: n.opts.Backoff, Factor: 2, Steps: n.opts.Attempts}
	attempts := 0
	var last error
	err = wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		attempts++
		last = n.post(ctx, r.url, body)
		switch {
		case last == nil:
			return true, nil
		case errors.Is(last, errInvalidURL):
			return false, last
		case ctx.Err() != nil:
			return false, ctx.Err() // shutting down: the attempt did not fail
		}
		n.opts.Log.V(1).Info("Webhook notification attempt failed", "receiver", r.id,
			"healthcheck", msg.HealthCheck, "target", msg.Target, "attempt", attempts, "error", last.Error())
		return false, nil
	})
	switch {
	case err == nil:
		return true
	case ctx.Err() != nil:
		return false
	}
	n.dropped(r.id, msg, DropGaveUp, fmt.Errorf("giving up after %d attempts: %w", attempts, last))
	return true
}

// post sends one attempt, bounded by Timeout. Errors never quote the URL: it
// carries the webhook's secret.
func (n *Notifier) post(ctx context.Context, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return errInvalidURL
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("posting: no answer within %s", n.opts.Timeout)
		}
		return errors.New("posting: the webhook could not be reached")
	}
	// Reading a little of the body lets the connection be reused for the next message.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("posting: the webhook answered %d", resp.StatusCode)
	}
	return nil
}
