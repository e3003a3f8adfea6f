package resolve

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/clock"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

// FanOut is how a fanned-out target is checked: backend by backend, judged by
// how many of them are healthy.
type FanOut struct {
	// Mode is Addresses or Endpoints.
	Mode monitoringv1alpha1.FanOutMode
	// MinHealthy is how many backends must be healthy, a number or a percentage.
	MinHealthy intstr.IntOrString
	// Backends are an Endpoints fan-out's backends, which the caller lists
	// before the round (discover.Endpoints); Check looks up an Addresses
	// fan-out's itself, when the round runs.
	Backends []discover.Backend
	// Problem, when set, is why an Endpoints fan-out has no backend to check,
	// such as "Service web does not exist"; the target's result is then
	// NoBackends with it.
	Problem string
	// problemReason is the reason of a failed lookup (DNSError, Timeout), set
	// with Problem by an Addresses fan-out; "" means NoBackends.
	problemReason checker.Reason
}

// defaultMinHealthy is the schema's default of fanOut.minHealthy.
var defaultMinHealthy = intstr.FromString("100%")

// fanOutOf resolves a target's fanOut, nil for none.
func fanOutOf(t monitoringv1alpha1.Target) *FanOut {
	if t.FanOut == nil {
		return nil
	}
	f := &FanOut{Mode: t.FanOut.Mode, MinHealthy: defaultMinHealthy}
	if t.FanOut.MinHealthy != nil {
		f.MinHealthy = *t.FanOut.MinHealthy
	}
	return f
}

// needed is how many of total backends must be healthy: MinHealthy as a number,
// or as a percentage of total rounded up, and at least one.
func (f FanOut) needed(total int) int {
	if f.MinHealthy.Type == intstr.Int {
		return max(f.MinHealthy.IntValue(), 1)
	}
	pct, err := intstr.GetScaledValueFromIntOrPercent(&f.MinHealthy, total, true)
	if err != nil {
		pct = total // the schema admits only 1% to 100%
	}
	return max(pct, 1)
}

// Result is the outcome of one resolved target in a round. For a fanned-out
// target it is the judgement of its backends' checks (see judgeBackends), and
// Backends holds each of them.
type Result struct {
	checker.Result
	// Backends are the checks of a fanned-out target's backends, in address
	// order, every one of them; nil for other targets.
	Backends []BackendResult
}

// BackendCounts counts a fanned-out target's backends by the state of their
// check, as status records them; nil when no backend was checked.
func (r Result) BackendCounts() *monitoringv1alpha1.BackendSummary {
	if len(r.Backends) == 0 {
		return nil
	}
	counts := &monitoringv1alpha1.BackendSummary{Total: int32(len(r.Backends))}
	for _, b := range r.Backends {
		switch {
		case !b.Healthy():
			counts.Down++
		case b.Result.Slow:
			counts.Slow++
		default:
			counts.Up++
		}
	}
	return counts
}

// BackendResult is the check of one backend.
type BackendResult struct {
	Backend discover.Backend
	Result  checker.Result
}

// Healthy tells whether a backend answered as expected, fast or slow.
func (b BackendResult) Healthy() bool { return b.Result.OK() }

// Runner runs the checks of resolved targets.
type Runner struct {
	// Run runs checks at most workers at once; (*checker.Checker).Run is one.
	Run RunFunc
	// Clock stamps the result of a fanned-out target that had no backend to
	// check; nil means the real clock.
	Clock clock.PassiveClock
}

// lookup is checker.LookupAddresses; tests replace it.
var lookup = checker.LookupAddresses

// Check runs the checkable targets and returns one result per target,
// aligned with targets: the zero Result where a target was skipped. A
// fanned-out target's backends are checked one check each, against the same
// workers (and the checker's global cap) as every other check; an Addresses
// fan-out's host is looked up first. each, when set, is called with the
// target's index as each target's result is complete.
//
// Check records the addresses it looked up in the FanOut of those targets,
// so that the caller sees which backends were checked.
func (r Runner) Check(ctx context.Context, targets []Target, workers int, each func(i int, res Result)) []Result {
	clk := r.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	results := make([]Result, len(targets))
	lookupAddresses(ctx, targets, workers)

	// One check per target, or per backend of a fanned-out target; slot
	// says which target and backend each check is.
	type slot struct{ target, backend int }
	// One check a target, more for a fanned-out one.
	checks := make([]checker.Target, 0, len(targets))
	slots := make([]slot, 0, len(targets))
	pending := make([]int, len(targets))
	for i, t := range targets {
		if !t.Checkable() {
			continue
		}
		if t.FanOut == nil {
			checks = append(checks, t.Check)
			slots = append(slots, slot{i, -1})
			continue
		}
		backends := t.FanOut.Backends
		if len(backends) == 0 {
			results[i] = noBackends(t, clk.Now())
			if each != nil {
				each(i, results[i])
			}
			continue
		}
		results[i].Backends = make([]BackendResult, len(backends))
		pending[i] = len(backends)
		for k, b := range backends {
			c := t.Check
			c.Address, c.Port = b.Address.String(), b.Port
			checks = append(checks, c)
			slots = append(slots, slot{i, k})
			results[i].Backends[k].Backend = b
		}
	}
	r.Run(ctx, checks, workers, func(res checker.Result) {
		s := slots[res.Index]
		if s.backend < 0 {
			results[s.target].Result = res
		} else {
			results[s.target].Backends[s.backend].Result = res
			if pending[s.target]--; pending[s.target] > 0 {
				return
			}
			t := targets[s.target]
			results[s.target].Result = judgeBackends(*t.FanOut, results[s.target].Backends)
			results[s.target].URL = t.URL
		}
		if each != nil {
			each(s.target, results[s.target])
		}
	})
	return results
}

// lookupAddresses fills the backends of the Addresses fan-outs among targets
// with their hosts' addresses, looking up at most workers hosts at once; a
// failed lookup is the target's Problem.
func lookupAddresses(ctx context.Context, targets []Target, workers int) {
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for i := range targets {
		t := &targets[i]
		if !t.Checkable() || t.FanOut == nil || t.FanOut.Mode != monitoringv1alpha1.FanOutAddresses {
			continue
		}
		g.Go(func() error {
			fan := *t.FanOut // a copy: targets may be shared with the caller
			fan.Backends, fan.Problem = nil, ""
			u, err := url.Parse(t.Check.URL)
			if err != nil {
				fan.Problem = "the URL cannot be parsed"
				t.FanOut = &fan
				return nil
			}
			lookupCtx, cancel := context.WithTimeout(ctx, t.Check.Timeout)
			defer cancel()
			addrs, err := lookup(lookupCtx, u.Hostname(), t.Check.IPFamily)
			if err != nil {
				// The lookup's text is fixed and names no host.
				fan.Problem, fan.problemReason = err.Error(), checker.Classify(err)
			}
			for _, a := range addrs {
				fan.Backends = append(fan.Backends, discover.Backend{Address: a})
			}
			t.FanOut = &fan
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no errors
}

// noBackends is the result of a fanned-out target with no backend to check.
func noBackends(t Target, now time.Time) Result {
	message := t.FanOut.Problem
	if message == "" {
		message = "no backend to check"
	}
	reason := t.FanOut.problemReason
	if reason == "" {
		reason = checker.Reason(monitoringv1alpha1.CheckNoBackends)
	}
	return Result{Result: checker.Result{URL: t.URL, Reason: reason, Message: message, CheckedAt: now}}
}

// judgeBackends judges a fanned-out target by its backends' checks: a good
// answer when at least fan.needed of them are healthy (Up or Slow), slow when a
// healthy one is slow, else a failure, with the evidence of the first failing
// backend, or NoBackends when none failed but there are fewer backends than
// minHealthy asks for. Its latency is the slowest healthy backend's when the
// answer is good, the failing backend's otherwise; its certificate is the one
// expiring first.
func judgeBackends(fan FanOut, backends []BackendResult) checker.Result {
	var healthy, slow, down int
	var slowest, failing *BackendResult
	res := checker.Result{}
	for i := range backends {
		b := &backends[i]
		if res.CheckedAt.IsZero() || b.Result.CheckedAt.Before(res.CheckedAt) {
			res.CheckedAt = b.Result.CheckedAt
		}
		if e := b.Result.CertificateExpiresAt; e != nil && (res.CertificateExpiresAt == nil || e.Before(*res.CertificateExpiresAt)) {
			res.CertificateExpiresAt = e
		}
		switch {
		case !b.Healthy():
			down++
			if failing == nil {
				failing = b
			}
		default:
			healthy++
			if b.Result.Slow {
				slow++
			}
			if slowest == nil || b.Result.Latency > slowest.Result.Latency {
				slowest = b
			}
		}
	}
	need := fan.needed(len(backends))
	counts := fmt.Sprintf("%d of %d backends healthy", healthy, len(backends))
	switch {
	case healthy < need && failing != nil:
		res.Reason, res.StatusCode, res.Latency = failing.Result.Reason, failing.Result.StatusCode, failing.Result.Latency
		res.Message = fmt.Sprintf("%s, fewer than %d: %s %s", counts, need, failing.Backend, failing.Result.Message)
		return res
	case healthy < need:
		res.Reason = checker.Reason(monitoringv1alpha1.CheckNoBackends)
		res.Message = fmt.Sprintf("%s, fewer than minHealthy, %d", counts, need)
		return res
	}
	res.Reason, res.StatusCode, res.Latency, res.Slow = checker.ReasonOK, slowest.Result.StatusCode, slowest.Result.Latency, slow > 0
	if slow > 0 {
		res.Reason = checker.ReasonSlowResponse
	}
	res.Seen = slowest.Result.Seen
	switch {
	case down > 0:
		res.Message = fmt.Sprintf("%s, %d Down: %s %s", counts, down, failing.Backend, failing.Result.Message)
	case slow > 0:
		res.Message = fmt.Sprintf("%s, %d Slow: %s %s", counts, slow, slowest.Backend, slowest.Result.Message)
	default:
		res.Message = fmt.Sprintf("%s: the slowest, %s, %s", counts, slowest.Backend, slowest.Result.Message)
	}
	return res
}
