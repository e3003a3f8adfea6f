// Package checker is a pure health-check library: targets, a worker count and
// a clock go in; classified results come out. It speaks HTTP(S), plain TCP,
// TLS and the gRPC Health Checking Protocol, and has no Kubernetes
// dependencies so it can be tested and reused on its own.
//
// Compared with a naive thread-pool checker it guarantees that a timed-out
// check is really cancelled (connection closed, goroutine gone), that at most
// a few KiB of any answer is ever read unless assertions need more, and that
// every failure is classified into a Reason with a message that never echoes
// secrets or bytes sent by the server.
//
// Probes only connect where the outbound policy (Options.Policy) allows: it
// is checked on every resolved address, redirect hops included, before any
// connection is made. The environment's proxy settings are ignored, TLS
// certificates are verified unless a target opts out, and every check uses a
// fresh connection that is closed when the check ends.
package checker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"k8s.io/utils/clock"

	"github.com/healthcheck-operator/healthcheck-operator/internal/netpolicy"
)

// Defaults applied to unset Target and Options fields.
const (
	// DefaultTimeout is the per-request deadline when Target.Timeout <= 0.
	DefaultTimeout = 8 * time.Second
	// DefaultSlowThreshold is the latency above which a good answer is slow
	// when Target.SlowThreshold <= 0.
	DefaultSlowThreshold = 2 * time.Second
	// DefaultMaxBodyBytes is how much of a body is read, under the deadline,
	// before it is closed, when Options.MaxBodyBytes <= 0: enough to see the
	// answer arrive, too little to cost memory or time.
	DefaultMaxBodyBytes = 4 << 10
	// DefaultUserAgent is sent unless the target sets its own User-Agent, so
	// probes are recognisable in server logs.
	DefaultUserAgent = "healthcheck-operator"
)

// Header is one request header to send. Values may be secrets: they are sent
// to the target but never appear in any Result or error text, and a redirect
// to another origin (or from https to http) drops every configured header.
type Header struct{ Name, Value string }

// Target is one URL to check with its resolved settings.
type Target struct {
	// URL is absolute; its scheme (in any case) chooses the check:
	//   - http://, https://: a GET or HEAD request, judged by status code and body.
	//   - tcp://host:port: a TCP connection is opened, then closed.
	//   - tls://host:port: a TCP connection and a TLS handshake, verified
	//     like https, then closed.
	//   - grpc://host:port[/service], grpcs://...: grpc.health.v1.Health/Check
	//     for service (the path without its "/"; none means the whole
	//     server), over plain HTTP/2 or TLS.
	// Method, Headers, Expected and the redirect settings apply to http and
	// https only; headers and body checks on another scheme are refused.
	URL string
	// Method is "GET" or "HEAD"; "" means GET. Other methods are refused
	// because a health probe must not mutate anything.
	Method string
	// Headers are added to the request. A "Host" header sets the request's
	// Host (virtual host) instead.
	Headers []Header
	// Timeout is the per-request deadline; <= 0 means DefaultTimeout.
	Timeout time.Duration
	// SlowThreshold is the latency above which a good answer is slow;
	// <= 0 means DefaultSlowThreshold.
	SlowThreshold time.Duration
	// Expected is the set of good status codes; the zero value means
	// DefaultStatusCodes.
	Expected StatusCodes
	// NoFollowRedirects stops at the first answer, so a 301 or 302 is judged
	// by its own status code against Expected. By default up to 10 redirects
	// are followed, each hop checked against the outbound policy.
	NoFollowRedirects bool
	// InsecureSkipVerify accepts any server certificate. It is an explicit
	// opt-in: certificates are verified by default.
	InsecureSkipVerify bool
	// CABundle, if set, holds PEM certificates that replace the system roots
	// for verifying this target's server, e.g. a private CA. A bundle with no
	// certificate fails the check as an invalid request.
	CABundle []byte
	// BodyContains, if set, must occur in the first MaxAssertedBodyBytes of the
	// body for the answer to count as good.
	BodyContains string
	// BodyMatches, if set, must match the first MaxAssertedBodyBytes of the body.
	BodyMatches *regexp.Regexp
	// Assertions, if set, judge the answer after its status code and body
	// checks passed; a failure is ReasonAssertionFailed.
	Assertions Assertions
	// ClientCertificate and ClientKey, if set, are the PEM certificate chain and
	// private key presented to https, tls and grpcs servers that ask for a
	// client certificate. The key never appears in any Result or error text.
	ClientCertificate, ClientKey []byte
	// IPFamily restricts every connection of the check, redirect hops
	// included, to addresses of one family; IPFamilyAny (or "Any") allows all.
	// A host without such an address fails as ReasonDNSError, "no IPv4
	// address" or "no IPv6 address". Options.Transport ignores it.
	IPFamily IPFamily
	// Address, if set, is an IPv4 or IPv6 address (no port) that every
	// connection to the URL's host goes to instead of the addresses the host
	// resolves to, so one backend of the host can be checked; the port stays
	// the URL's. Everything else stays as the URL says: the HTTP Host header,
	// the TLS server name and the name the certificate is verified against,
	// the gRPC :authority. The outbound policy and IPFamily still apply: an
	// address of the other family fails like a host without one. A redirect
	// to another host resolves that host normally. Anything but an IP
	// address is an invalid request. Options.Transport ignores it.
	Address string
	// Port, if > 0, is the TCP port that every connection to the URL's host
	// goes to instead of the URL's port. It is meant with Address, to check
	// one endpoint of a Kubernetes Service directly (a pod's IP address and
	// the target port) while the request still names the URL: the HTTP Host
	// header (with the URL's port, if it has one), the TLS server name and
	// the name the certificate is verified against, and the gRPC :authority
	// stay the URL's. Without Address, the addresses the URL's host resolves
	// to are dialled at Port. A redirect to another host dials that host's
	// own port. 0 means the URL's port; any other number outside 1 to 65535
	// is an invalid request. Options.Transport ignores it.
	Port int
}

// MaxAssertedBodyBytes is how much of a body is read when a target asserts on
// its content; the rest is never read.
const MaxAssertedBodyBytes = 1 << 20

// assertsBody tells whether the body's content matters.
func (t Target) assertsBody() bool { return t.BodyContains != "" || t.BodyMatches != nil }

// withDefaults resolves unset fields so the rest of the code never has to.
func (t Target) withDefaults() Target {
	if t.Method == "" {
		t.Method = http.MethodGet
	}
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	if t.SlowThreshold <= 0 {
		t.SlowThreshold = DefaultSlowThreshold
	}
	t.Expected = t.Expected.effective()
	if t.IPFamily == ipFamilyAnyName {
		t.IPFamily = IPFamilyAny
	}
	return t
}

// Options configures a Checker. Every field has a usable zero value.
type Options struct {
	// Clock measures latency and stamps results; nil means clock.RealClock{}.
	// Now must carry a monotonic reading (time.Now does) so latencies survive
	// wall-clock jumps. Deadlines are enforced by contexts in real time, not by
	// the clock, so tests inject a fake one and never sleep.
	Clock clock.PassiveClock
	// MaxInFlight caps the checks in flight across every Run of this Checker, so
	// one process cannot exhaust sockets or file descriptors whatever its callers
	// ask for; <= 0 means no cap beyond each Run's workers. Checks wait for a slot
	// in arrival order, so a Run with many targets cannot starve the others, and
	// a check's deadline starts only once it has a slot.
	MaxInFlight int
	// Policy decides which addresses probes may connect to; it is applied to
	// every resolved address, redirect hops included, before connecting. nil
	// means netpolicy.Default(): link-local and cloud metadata addresses are
	// blocked, everything else (loopback and private ranges too) is allowed.
	Policy *netpolicy.Policy
	// Transport, if set, performs every http and https request instead of
	// the built-in transports, so Policy and the TLS, IPFamily, Address and
	// Port fields of Target have no effect on them (tcp, tls and gRPC checks
	// never use it). It is meant for tests; nil means one transport per
	// distinct TLS setting, built like NewTransport.
	Transport http.RoundTripper
	// MaxBodyBytes is how much of a body may be read before closing it;
	// <= 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Checker runs checks. It is safe for concurrent use. The zero value is not
// usable; construct one with New.
type Checker struct {
	// global, if non-nil, is the semaphore of Options.MaxInFlight. It is
	// FIFO, so checks get slots in arrival order whichever Run they are from.
	global *semaphore.Weighted
	clock  clock.PassiveClock
	// transport, if non-nil, overrides transports (Options.Transport), and
	// transportClients are its clients.
	transport        http.RoundTripper
	transportClients probeClients
	transports       *transportCache
	maxBodyBytes     int64
	// pool runs the checks of every Run.
	pool *workerPool

	// slotWaitHook, if set (tests only), is called with a target's index
	// when Run must wait for a free worker slot before starting it. It lets
	// tests prove the bound without timing assumptions.
	slotWaitHook func(index int)
	// globalWaitHook is slotWaitHook for the process-wide cap: it is called
	// with a target's URL when its check must wait for a slot of MaxInFlight.
	globalWaitHook func(url string)
}

// New returns a Checker configured by opts.
func New(opts Options) *Checker {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Policy == nil {
		opts.Policy = netpolicy.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	var global *semaphore.Weighted
	if opts.MaxInFlight > 0 {
		global = semaphore.NewWeighted(int64(opts.MaxInFlight))
	}
	c := &Checker{
		global:       global,
		clock:        opts.Clock,
		transport:    opts.Transport,
		transports:   newTransportCache(opts.Policy),
		maxBodyBytes: opts.MaxBodyBytes,
		pool:         newWorkerPool(defaultIdleWorkerTimeout),
	}
	if opts.Transport != nil {
		c.transportClients = newProbeClients(opts.Transport)
	}
	return c
}

// clientFor returns the client for one check of t. Clients, and the
// transports behind them, are shared. It returns nil and a problem for
// buildRequest's "invalid request" message if t's TLS settings are unusable.
func (c *Checker) clientFor(t Target) (*http.Client, string) {
	if c.transport != nil {
		return c.transportClients.forTarget(t), ""
	}
	tr, err := c.transports.get(t)
	if err != nil {
		return nil, err.Error()
	}
	return tr.clients.forTarget(t), ""
}

// Check runs one target once, under its own deadline (Target.Timeout) derived
// from ctx. The URL's scheme chooses the protocol (see Target.URL). If ctx is
// already done, or is cancelled mid-check, the result is ReasonTimeout with
// the message "check cancelled". It never panics on bad input: a check that
// cannot be made yields ReasonNetworkError with an "invalid request" message.
func (c *Checker) Check(ctx context.Context, t Target) Result {
	t = t.withDefaults()
	res := Result{URL: t.URL, CheckedAt: c.clock.Now()}

	if ctx.Err() != nil {
		res.Reason, res.Message = ReasonTimeout, msgCancelled
		return res
	}
	plan, problem := planFor(t)
	if problem != "" {
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+problem
		return res
	}

	reqCtx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()

	p := protocolOf(t.URL)
	switch p {
	case protoHTTP:
		c.checkHTTP(ctx, reqCtx, t, plan, &res)
		return res
	case protoUnknown:
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+problemScheme
		return res
	}
	e, problem := parseEndpoint(t, p, plan)
	if problem != "" {
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+problem
		return res
	}
	switch p {
	case protoTCP:
		c.checkTCP(ctx, reqCtx, t, e, &res)
	case protoTLS:
		c.checkTLS(ctx, reqCtx, t, e, &res)
	default:
		c.checkGRPC(ctx, reqCtx, t, e, p == protoGRPCS, &res)
	}
	return res
}

// checkHTTP checks an http:// or https:// target: a GET or HEAD whose status
// code, body and assertions are judged. Its connections are dialled as plan
// says.
func (c *Checker) checkHTTP(ctx, reqCtx context.Context, t Target, plan dialPlan, res *Result) {
	if plan.retargets() {
		// A URL that does not parse fails in buildRequest.
		if u, err := url.Parse(t.URL); err == nil {
			plan.host = u.Hostname()
		}
	}
	checkCtx, seen := withCheck(reqCtx)
	req, problem := buildRequest(withPlan(checkCtx, plan), t)
	if req == nil {
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+problem
		return
	}
	client, problem := c.clientFor(t)
	if client == nil {
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+problem
		return
	}

	resp, err := client.Do(req)
	res.Latency = c.clock.Since(res.CheckedAt)
	res.CertificateExpiresAt = seen.expiry(resp)
	if err != nil {
		if resp != nil {
			// CheckRedirect failures return the last response too (body
			// already closed by net/http; closing again is harmless).
			_ = resp.Body.Close()
		}
		if Classify(err) == ReasonNetworkError {
			if cause := seen.h2Failure(); isTLSError(cause) {
				err = cause
			}
		}
		res.Reason, res.Message = failure(ctx, reqCtx, err, t, res.Latency)
		return
	}
	res.StatusCode = resp.StatusCode

	// Read a small, bounded amount of the body, then close. The read is bound
	// by reqCtx's deadline too, so a body trickled a byte at a time ends the
	// check at the deadline, as a Timeout: the answer never completed.
	keepBody := t.Assertions != nil && t.Assertions.NeedsBody()
	bodyOK, body, err := c.readBody(resp.Body, t, keepBody)
	_ = resp.Body.Close()
	if err != nil {
		res.Reason, res.Message = failure(ctx, reqCtx, err, t, res.Latency)
		return
	}

	switch {
	case !t.Expected.Contains(resp.StatusCode):
		res.Reason = ReasonUnexpectedStatus
	case !bodyOK:
		res.Reason = ReasonBodyMismatch
	default:
		var answer *Response
		if t.Assertions != nil {
			answer = &Response{Code: resp.StatusCode, Headers: resp.Header, Body: body, TLS: seen.state(resp)}
		}
		if failed := judge(reqCtx, t, res, answer); failed != nil {
			res.Message = assertionMessage(responseMessage(resp.StatusCode, res.Latency, ReasonOK, t), failed)
			return
		}
	}
	res.Message = truncateMessage(responseMessage(resp.StatusCode, res.Latency, res.Reason, t))
}

// readBody reads a bounded part of the body within the check's deadline and
// tells whether it satisfies the target's body checks. Without body checks,
// and unless keep asks for the content, it reads only maxBodyBytes. The
// content, up to MaxAssertedBodyBytes, is returned only if keep is set.
func (c *Checker) readBody(body io.Reader, t Target, keep bool) (bool, []byte, error) {
	if !keep && !t.assertsBody() {
		_, err := io.Copy(io.Discard, io.LimitReader(body, c.maxBodyBytes))
		return true, nil, err
	}
	content, err := io.ReadAll(io.LimitReader(body, MaxAssertedBodyBytes))
	if err != nil {
		return false, nil, err
	}
	if t.BodyContains != "" && !bytes.Contains(content, []byte(t.BodyContains)) {
		return false, nil, nil
	}
	if t.BodyMatches != nil && !t.BodyMatches.Match(content) {
		return false, nil, nil
	}
	if !keep {
		content = nil
	}
	return true, content, nil
}

// judge decides the reason of an answer that passed its protocol's own checks
// (status code, body, health status): AssertionFailed when one of t's
// assertions does not hold on answer, which must be set when t has any;
// otherwise SlowResponse or OK by latency. It runs the assertions within ctx,
// the check's deadline, and returns the one that failed.
func judge(ctx context.Context, t Target, res *Result, answer *Response) *FailedAssertion {
	if t.Assertions != nil {
		answer.Latency = res.Latency
		if failed := t.Assertions.Evaluate(ctx, answer); failed != nil {
			res.Reason, res.Assertion = ReasonAssertionFailed, failed
			return failed
		}
	}
	if res.Latency > t.SlowThreshold {
		res.Reason, res.Slow = ReasonSlowResponse, true
	} else {
		res.Reason = ReasonOK
	}
	return nil
}

// concludeAnswer judges the answer of a check without an HTTP status code
// that passed its protocol's own checks (see judge), and words it: what it saw
// and how fast, and the assertion that failed, if one did. answer is nil
// unless t has assertions.
func concludeAnswer(ctx context.Context, t Target, res *Result, what string, answer *Response) {
	if failed := judge(ctx, t, res, answer); failed != nil {
		res.Message = assertionMessage(answerMessage(what, res.Latency, ReasonOK, t), failed)
		return
	}
	res.Message = answerMessage(what, res.Latency, res.Reason, t)
}

// failure turns a transport error into a reason and a fixed, secret-free message.
func failure(parent, reqCtx context.Context, err error, t Target, latency time.Duration) (Reason, string) {
	switch {
	case errors.Is(err, netpolicy.ErrBlocked):
		// Decided before any connection was made, whatever the context says.
		return ReasonBlocked, msgBlocked
	case errors.Is(err, errNoIPv4Address):
		// Decided by the host's addresses, whatever the context says.
		return ReasonDNSError, msgNoIPv4
	case errors.Is(err, errNoIPv6Address):
		return ReasonDNSError, msgNoIPv6
	case errors.Is(err, errTooManyRedirects):
		return ReasonNetworkError, msgTooManyRedirs
	case errors.Is(parent.Err(), context.Canceled):
		return ReasonTimeout, msgCancelled
	case parent.Err() != nil:
		// The caller's own deadline ran out before the target's.
		return ReasonTimeout, "timed out after " + FormatDuration(latency)
	case reqCtx.Err() != nil:
		// Whatever the low-level error, our deadline caused it.
		return ReasonTimeout, failureMessage(ReasonTimeout, t.Timeout)
	}
	reason := Classify(err)
	if reason == ReasonTimeout {
		// A phase timeout (dial, TLS handshake) fired before our deadline.
		return reason, "timed out after " + FormatDuration(latency)
	}
	return reason, failureMessage(reason, t.Timeout)
}

// buildRequest validates t and builds its request. On failure it returns nil
// and a short, fixed description that never includes the URL or header values.
func buildRequest(ctx context.Context, t Target) (*http.Request, string) {
	if t.Method != http.MethodGet && t.Method != http.MethodHead {
		return nil, "method must be GET or HEAD"
	}
	// The URL is parsed once, by NewRequestWithContext, whose only other
	// errors are for the method and the context, both valid here.
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, nil)
	if err != nil {
		return nil, "malformed URL"
	}
	if u := req.URL; u.Scheme != "http" && u.Scheme != "https" {
		return nil, problemScheme
	} else if u.Host == "" {
		return nil, "URL has no host"
	}
	for _, h := range t.Headers {
		if !validHeaderName(h.Name) {
			return nil, "invalid header name"
		}
		if !validHeaderValue(h.Value) {
			return nil, "invalid header value"
		}
		if http.CanonicalHeaderKey(h.Name) == "Host" {
			// net/http ignores Header["Host"]; the virtual host goes in req.Host.
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", DefaultUserAgent)
	}
	return req, ""
}

// validHeaderName reports whether s is an RFC 9110 token. net/http would
// reject a bad one too, but only at send time and with the name in the error.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validHeaderValue rejects control characters (except tab), which would allow
// header injection.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Run checks all targets with at most workers requests in flight at once
// (workers < 1 means 1).
//
// onResult, if non-nil, is called once per result as each completes (like
// Python's as_completed). Calls are serialised on Run's own goroutine and
// never happen after Run returns; a slow callback does not hold a worker slot.
//
// Run returns all results in input order, with Result.Index set. One failing
// target never cancels the others. Cancelling ctx aborts in-flight requests
// promptly; they, and targets never started because ctx was cancelled, get
// ReasonTimeout with the message "check cancelled".
func (c *Checker) Run(ctx context.Context, targets []Target, workers int, onResult func(Result)) []Result {
	results := make([]Result, len(targets))
	if len(targets) == 0 {
		return results
	}
	workers = max(1, min(workers, len(targets)))

	// Buffered for every result so workers never block on the consumer, and
	// nothing leaks even if onResult panics.
	done := make(chan Result, len(targets))
	go c.dispatch(ctx, targets, workers, done)

	for r := range done {
		results[r.Index] = r
		if onResult != nil {
			onResult(r)
		}
	}
	return results
}

// acquireGlobal takes a slot of the process-wide cap for a check of url,
// waiting if all are busy, and tells whether it got one before ctx was done.
// The dispatcher waits, not a goroutine of the check's own: under a saturated
// cap, 10,000 HealthChecks of 10 workers would otherwise park 100,000
// goroutines, and their stacks were most of a gigabyte of the manager's memory.
func (c *Checker) acquireGlobal(ctx context.Context, url string) bool {
	if c.global == nil {
		return true
	}
	if !c.global.TryAcquire(1) {
		// TryAcquire fails while others wait, so arrival order holds.
		if c.globalWaitHook != nil {
			c.globalWaitHook(url)
		}
		if c.global.Acquire(ctx, 1) != nil {
			return false
		}
	}
	return true
}

// releaseGlobal gives back a slot acquireGlobal took.
func (c *Checker) releaseGlobal() {
	if c.global != nil {
		c.global.Release(1)
	}
}

// cancelled is the result of target i's check, which never started because
// ctx was done.
func (c *Checker) cancelled(t Target, i int) Result {
	return Result{URL: t.URL, Index: i, Reason: ReasonTimeout, Message: msgCancelled, CheckedAt: c.clock.Now()}
}

// dispatch starts each target's check on the pool while holding a worker slot
// and a slot of the process-wide cap, and closes done after every target has
// produced exactly one result. Waiting for a slot observes ctx
// (errgroup.SetLimit's Go would not), so a cancelled Run ends its waiting
// targets at once, each with a cancelled result.
func (c *Checker) dispatch(ctx context.Context, targets []Target, workers int, done chan<- Result) {
	sem := semaphore.NewWeighted(int64(workers))
	var wg sync.WaitGroup
	for i := range targets {
		if !c.acquireSlots(ctx, sem, i, targets[i].URL) {
			done <- c.cancelled(targets[i], i)
			continue
		}
		wg.Add(1)
		// The task reads its target from targets: a copy captured by the
		// closure would be a heap copy of a Target per check.
		c.pool.run(func() {
			defer wg.Done()
			defer sem.Release(1)
			defer c.releaseGlobal()
			// The check's deadline starts now that it has its slots.
			r := c.Check(ctx, targets[i])
			r.Index = i
			done <- r
		})
	}
	wg.Wait()
	close(done)
}

// acquireSlots takes target i's slots, one of sem's and then one of the
// process-wide cap, and tells whether it got both before ctx was done; if not,
// it holds neither.
func (c *Checker) acquireSlots(ctx context.Context, sem *semaphore.Weighted, i int, url string) bool {
	if !c.acquireWorker(ctx, sem, i) {
		return false
	}
	if !c.acquireGlobal(ctx, url) {
		sem.Release(1)
		return false
	}
	return true
}

// acquireWorker takes one of sem's slots for target i, waiting if all are
// busy, and tells whether it got one before ctx was done.
func (c *Checker) acquireWorker(ctx context.Context, sem *semaphore.Weighted, i int) bool {
	if ctx.Err() != nil {
		return false
	}
	if !sem.TryAcquire(1) {
		// All slots busy: this is where the worker bound bites.
		if c.slotWaitHook != nil {
			c.slotWaitHook(i)
		}
		if sem.Acquire(ctx, 1) != nil {
			return false
		}
	}
	if ctx.Err() != nil {
		sem.Release(1) // cancelled while acquiring: don't start
		return false
	}
	return true
}
