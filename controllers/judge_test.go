package controllers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

var (
	checkedAt = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	now       = metav1.NewTime(checkedAt)
	earlier   = metav1.NewTime(checkedAt.Add(-time.Hour))
)

func good(slow bool) checker.Result {
	r := checker.Result{StatusCode: 200, Latency: 120 * time.Millisecond, Reason: checker.ReasonOK, Message: "returned 200 in 120ms", CheckedAt: checkedAt}
	if slow {
		r.Slow, r.Reason, r.Message = true, checker.ReasonSlowResponse, "returned 200 in 3s, slower than 2s"
	}
	return r
}

func bad() checker.Result {
	return checker.Result{StatusCode: 503, Latency: 5 * time.Millisecond, Reason: checker.ReasonUnexpectedStatus, Message: "returned 503 in 5ms, expected 200-299", CheckedAt: checkedAt}
}

func target(state monitoringv1alpha1.TargetState, failures, successes int32) monitoringv1alpha1.TargetStatus {
	return monitoringv1alpha1.TargetStatus{State: state, ConsecutiveFailures: failures, ConsecutiveSuccesses: successes, LastTransitionTime: &earlier}
}

func TestJudgeIsTheStateMachine(t *testing.T) {
	cases := []struct {
		name           string
		prev           monitoringv1alpha1.TargetStatus
		result         checker.Result
		th             thresholds
		wantState      monitoringv1alpha1.TargetState
		wantFailures   int32
		wantSuccesses  int32
		wantTransition bool
	}{
		{"new target answers well", monitoringv1alpha1.TargetStatus{}, good(false), thresholds{failure: 1, success: 1}, monitoringv1alpha1.StateUp, 0, 1, true},
		{"new target answers slowly", monitoringv1alpha1.TargetStatus{}, good(true), thresholds{failure: 1, success: 1}, monitoringv1alpha1.StateSlow, 0, 1, true},
		{"new target fails below threshold stays Pending", target(monitoringv1alpha1.StatePending, 0, 0), bad(), thresholds{failure: 3, success: 1}, monitoringv1alpha1.StatePending, 1, 0, false},
		{"new target fails at threshold goes Down", target(monitoringv1alpha1.StatePending, 2, 0), bad(), thresholds{failure: 3, success: 1}, monitoringv1alpha1.StateDown, 3, 0, true},
		{"up target fails once of three stays Up", target(monitoringv1alpha1.StateUp, 0, 1), bad(), thresholds{failure: 3, success: 1}, monitoringv1alpha1.StateUp, 1, 0, false},
		{"up target fails at threshold goes Down", target(monitoringv1alpha1.StateUp, 2, 0), bad(), thresholds{failure: 3, success: 1}, monitoringv1alpha1.StateDown, 3, 0, true},
		{"down target keeps failing: counter stops at threshold", target(monitoringv1alpha1.StateDown, 3, 0), bad(), thresholds{failure: 3, success: 1}, monitoringv1alpha1.StateDown, 3, 0, false},
		{"lowered failure threshold applies at once", target(monitoringv1alpha1.StateUp, 4, 0), bad(), thresholds{failure: 2, success: 1}, monitoringv1alpha1.StateDown, 2, 0, true},
		{"down target needs successThreshold good answers", target(monitoringv1alpha1.StateDown, 3, 0), good(false), thresholds{failure: 3, success: 2}, monitoringv1alpha1.StateDown, 0, 1, false},
		{"down target recovers at successThreshold", target(monitoringv1alpha1.StateDown, 0, 1), good(false), thresholds{failure: 3, success: 2}, monitoringv1alpha1.StateUp, 0, 2, true},
		{"down target recovers slow", target(monitoringv1alpha1.StateDown, 0, 0), good(true), thresholds{failure: 1, success: 1}, monitoringv1alpha1.StateSlow, 0, 1, true},
		{"up target turns slow", target(monitoringv1alpha1.StateUp, 0, 1), good(true), thresholds{failure: 1, success: 1}, monitoringv1alpha1.StateSlow, 0, 1, true},
		{"slow target speeds up", target(monitoringv1alpha1.StateSlow, 0, 1), good(false), thresholds{failure: 1, success: 1}, monitoringv1alpha1.StateUp, 0, 1, true},
		{"up target stays up: counter stops at threshold", target(monitoringv1alpha1.StateUp, 0, 1), good(false), thresholds{failure: 1, success: 1}, monitoringv1alpha1.StateUp, 0, 1, false},
		{"a blocked target is Down at once", target(monitoringv1alpha1.StateUp, 0, 1), checker.Result{Reason: checker.ReasonBlocked, Message: "blocked by the outbound policy", CheckedAt: checkedAt}, thresholds{failure: 3, success: 1}, monitoringv1alpha1.StateDown, 3, 0, true},
		{"slow target fails once of two stays Slow", target(monitoringv1alpha1.StateSlow, 0, 1), bad(), thresholds{failure: 2, success: 1}, monitoringv1alpha1.StateSlow, 1, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := judge(tc.prev, tc.result, false, tc.th, now)
			if got.State != tc.wantState || got.ConsecutiveFailures != tc.wantFailures || got.ConsecutiveSuccesses != tc.wantSuccesses {
				t.Fatalf("got %s with %d failures, %d successes; want %s with %d, %d",
					got.State, got.ConsecutiveFailures, got.ConsecutiveSuccesses, tc.wantState, tc.wantFailures, tc.wantSuccesses)
			}
			transitioned := got.LastTransitionTime.Equal(&now)
			if transitioned != tc.wantTransition {
				t.Fatalf("lastTransitionTime moved = %v, want %v", transitioned, tc.wantTransition)
			}
			if got.StatusCode != int32(tc.result.StatusCode) || got.Reason != monitoringv1alpha1.CheckReason(tc.result.Reason) || got.Message != tc.result.Message {
				t.Fatalf("the last check's facts were not recorded: %+v", got)
			}
			if !got.LastCheckTime.Time.Equal(checkedAt) || got.LatencyMs != tc.result.Latency.Milliseconds() {
				t.Fatalf("lastCheckTime %v latency %d", got.LastCheckTime, got.LatencyMs)
			}
		})
	}
}

func TestOnlyEnteringDownOrSlowAndRecoveringAreReported(t *testing.T) {
	const (
		pending = monitoringv1alpha1.StatePending
		up      = monitoringv1alpha1.StateUp
		slow    = monitoringv1alpha1.StateSlow
		down    = monitoringv1alpha1.StateDown
	)
	cases := []struct {
		from, to monitoringv1alpha1.TargetState
		want     bool
	}{
		{pending, up, false}, {pending, slow, true}, {pending, down, true},
		{up, slow, true}, {up, down, true}, {up, up, false},
		{slow, up, true}, {slow, down, true}, {slow, slow, false},
		{down, up, true}, {down, slow, true}, {down, down, false},
	}
	for _, tc := range cases {
		if got := isReported(tc.from, tc.to); got != tc.want {
			t.Errorf("isReported(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestApplyRoundSortsTargetsSummarizesAndReportsTransitions(t *testing.T) {
	status := &monitoringv1alpha1.HealthCheckStatus{Targets: []monitoringv1alpha1.TargetStatus{
		{URL: "http://b.example/", State: monitoringv1alpha1.StateUp, ConsecutiveSuccesses: 1, LastTransitionTime: &earlier},
		{URL: "http://gone.example/", Name: "gone", State: monitoringv1alpha1.StateDown},
	}}
	rnd := &round{
		started:  checkedAt,
		duration: 1213 * time.Millisecond,
		targets: []resolve.Target{
			{URL: "http://c.example/", Name: "c"},
			{URL: "http://b.example/", Name: "b"},
			{URL: "http://a.example/", Name: "a"},
			{URL: "http://secret.example/", Name: "secret", Skip: monitoringv1alpha1.CheckSecretNotFound, SkipMessage: `Secret "s" has no key "k" for header X-Key`},
		},
		results: results(good(true), bad(), good(false), checker.Result{}),
	}
	_, transitions := applyRound(status, 7, rnd, thresholds{failure: 1, success: 1}, checkedAt.Add(30*time.Second), backendsDown{})

	var urls []string
	for _, ts := range status.Targets {
		urls = append(urls, ts.URL)
	}
	if want := []string{"http://a.example/", "http://b.example/", "http://c.example/", "http://secret.example/"}; !slices.Equal(urls, want) {
		t.Fatalf("targets %v, want %v (sorted, removed target dropped)", urls, want)
	}
	if want := (monitoringv1alpha1.Summary{Total: 4, Up: 1, Slow: 1, Down: 1, Pending: 1}); *status.Summary != want {
		t.Fatalf("summary %+v, want %+v", *status.Summary, want)
	}
	if status.Targets[3].Reason != monitoringv1alpha1.CheckSecretNotFound || status.Targets[3].State != monitoringv1alpha1.StatePending {
		t.Fatalf("skipped target %+v", status.Targets[3])
	}
	if !status.LastRunTime.Time.Equal(checkedAt) || !status.NextRunTime.Time.Equal(checkedAt.Add(30*time.Second)) || status.LastRunDuration.Duration != 1210*time.Millisecond {
		t.Fatalf("round timing %v %v %v", status.LastRunTime, status.NextRunTime, status.LastRunDuration)
	}
	var reported []string
	for _, tr := range transitions {
		reported = append(reported, tr.name+":"+string(tr.from)+"->"+string(tr.target.State))
	}
	if want := []string{"c:Pending->Slow", "b:Up->Down"}; !slices.Equal(reported, want) {
		t.Fatalf("transitions %v, want %v (a went Pending->Up: not reported)", reported, want)
	}
	for cond, want := range map[string]metav1.ConditionStatus{
		monitoringv1alpha1.ConditionHealthy: metav1.ConditionFalse, monitoringv1alpha1.ConditionDegraded: metav1.ConditionTrue,
	} {
		if got := conditionStatusOf(status, cond); got != want {
			t.Errorf("%s = %s, want %s", cond, got, want)
		}
	}
}

func TestHealthyIsUnknownUntilATargetIsJudged(t *testing.T) {
	status := &monitoringv1alpha1.HealthCheckStatus{Summary: &monitoringv1alpha1.Summary{Total: 2, Pending: 2}}
	setHealthConditions(status, 1)
	if got := conditionStatusOf(status, monitoringv1alpha1.ConditionHealthy); got != metav1.ConditionUnknown {
		t.Fatalf("Healthy = %s, want Unknown", got)
	}
}

func TestStatusIsWrittenOnlyWhenSomethingButMeasurementsChanged(t *testing.T) {
	base := func() *monitoringv1alpha1.HealthCheckStatus {
		last := metav1.NewTime(checkedAt)
		return &monitoringv1alpha1.HealthCheckStatus{
			LastRunTime: &last,
			Summary:     &monitoringv1alpha1.Summary{Total: 1, Up: 1},
			Targets: []monitoringv1alpha1.TargetStatus{{
				URL: "http://a.example/", State: monitoringv1alpha1.StateUp, StatusCode: 200, LatencyMs: 12,
				Message: "returned 200 in 12ms", LastCheckTime: &last, ConsecutiveSuccesses: 1,
			}},
		}
	}
	later := func(d time.Duration) *metav1.Time { t := metav1.NewTime(checkedAt.Add(d)); return &t }
	cases := []struct {
		name   string
		change func(s *monitoringv1alpha1.HealthCheckStatus)
		want   bool
	}{
		{"nothing", func(*monitoringv1alpha1.HealthCheckStatus) {}, false},
		{"only the next round's times and latency", func(s *monitoringv1alpha1.HealthCheckStatus) {
			s.LastRunTime, s.NextRunTime = later(30*time.Second), later(time.Minute)
			s.LastRunDuration = &metav1.Duration{Duration: time.Second}
			s.Targets[0].LatencyMs, s.Targets[0].Message, s.Targets[0].LastCheckTime = 15, "returned 200 in 15ms", later(30*time.Second)
		}, false},
		{"a round after the refresh interval", func(s *monitoringv1alpha1.HealthCheckStatus) { s.LastRunTime = later(time.Minute) }, true},
		{"a state", func(s *monitoringv1alpha1.HealthCheckStatus) { s.Targets[0].State = monitoringv1alpha1.StateSlow }, true},
		{"a status code", func(s *monitoringv1alpha1.HealthCheckStatus) { s.Targets[0].StatusCode = 204 }, true},
		{"a counter", func(s *monitoringv1alpha1.HealthCheckStatus) { s.Targets[0].ConsecutiveFailures = 1 }, true},
		{"the summary", func(s *monitoringv1alpha1.HealthCheckStatus) { s.Summary.Up = 0 }, true},
		{"observedGeneration", func(s *monitoringv1alpha1.HealthCheckStatus) { s.ObservedGeneration = 2 }, true},
		{"a target's name", func(s *monitoringv1alpha1.HealthCheckStatus) { s.Targets[0].Name = "shop" }, true},
		{"a target more", func(s *monitoringv1alpha1.HealthCheckStatus) {
			s.Targets = append(s.Targets, monitoringv1alpha1.TargetStatus{URL: "http://b.example/", State: monitoringv1alpha1.StatePending})
		}, true},
		{"no targets", func(s *monitoringv1alpha1.HealthCheckStatus) { s.Targets = nil }, true},
		{"a failing backend", func(s *monitoringv1alpha1.HealthCheckStatus) {
			s.Targets[0].FailingBackends = []monitoringv1alpha1.BackendStatus{{Address: "10.0.0.1:80", StatusCode: 503, LatencyMs: 4, Message: "returned 503 in 4ms"}}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			updated := base()
			tc.change(updated)
			// The heartbeat instant is 1s before the first round: the next one is 59s later.
			beat := time.Duration(checkedAt.Add(-time.Second).UnixNano()) % time.Minute
			written := base()
			if got := statusChanged(withoutTargets(written), printTargets(written.Targets), updated, time.Minute, beat); got != tc.want {
				t.Fatalf("statusChanged = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEveryFieldOfATargetButItsMeasurementsIsInItsPrint: the targets list
// last written is kept only as its print, so a field the print missed would
// never be written when only it changed. Each field of TargetStatus, and of
// the backends it holds, those added later included, is set in turn: the print
// must change, unless the field is one of the measurements that change on
// every round.
func TestEveryFieldOfATargetButItsMeasurementsIsInItsPrint(t *testing.T) {
	base := monitoringv1alpha1.TargetStatus{
		URL: "http://a.example/", State: monitoringv1alpha1.StateUp,
		Backends:        &monitoringv1alpha1.BackendSummary{},
		FailingBackends: []monitoringv1alpha1.BackendStatus{{Address: "10.0.0.1:80"}},
	}
	eachField := func(t *testing.T, of func(*monitoringv1alpha1.TargetStatus) reflect.Value, measurements ...string) {
		before := printTargets([]monitoringv1alpha1.TargetStatus{base})
		fields := of(&base).Type()
		for i := range fields.NumField() {
			name := fields.Field(i).Name
			t.Run(name, func(t *testing.T) {
				target := base
				target.Backends = new(*base.Backends)
				target.FailingBackends = slices.Clone(base.FailingBackends)
				setNonZero(t, of(&target).Field(i))
				changed := printTargets([]monitoringv1alpha1.TargetStatus{target}) != before
				if measurement := slices.Contains(measurements, name); changed == measurement {
					t.Fatalf("setting %s changed the print: %v, want %v", name, changed, !measurement)
				}
			})
		}
	}
	t.Run("TargetStatus", func(t *testing.T) {
		eachField(t, func(s *monitoringv1alpha1.TargetStatus) reflect.Value { return reflect.ValueOf(s).Elem() },
			"LatencyMs", "Message", "LastCheckTime", "CertificateExpiresAt", "Availability", "AvailabilityCounts")
	})
	t.Run("BackendSummary", func(t *testing.T) {
		eachField(t, func(s *monitoringv1alpha1.TargetStatus) reflect.Value { return reflect.ValueOf(s.Backends).Elem() })
	})
	t.Run("BackendStatus", func(t *testing.T) {
		eachField(t, func(s *monitoringv1alpha1.TargetStatus) reflect.Value {
			return reflect.ValueOf(&s.FailingBackends[0]).Elem()
		},
			"LatencyMs", "Message")
	})
}

// setNonZero gives v a value other than its zero, and each field of a struct
// one, for the kinds the status types use.
func setNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		setNonZero(t, p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		setNonZero(t, s.Index(0))
		v.Set(s)
	case reflect.Struct:
		if tm, ok := v.Addr().Interface().(*metav1.Time); ok {
			*tm = metav1.NewTime(checkedAt)
			return
		}
		for i := range v.NumField() {
			setNonZero(t, v.Field(i))
		}
	default:
		t.Fatalf("no value to set a %s to: teach setNonZero", v.Type())
	}
}

// TestHeartbeatsOfHealthChecksAppliedTogetherSpreadEvenly: 3,000 HealthChecks
// applied within 12s, on a 10s interval, each write their status once a minute
// on a steady target, and the writes spread over the minute: no second sees
// more than twice the mean of 50. (Writing again "a minute after the last
// write" would keep them in step, in bursts of over 200 a second.)
func TestHeartbeatsOfHealthChecksAppliedTogetherSpreadEvenly(t *testing.T) {
	const (
		count    = 3000
		interval = 10 * time.Second
		refresh  = time.Minute
		horizon  = 10 * time.Minute
	)
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	perSecond := map[int64]int{}
	for i := range count {
		key := types.NamespacedName{Namespace: "team", Name: fmt.Sprintf("hc-%04d", i)}
		// Applied within 12s, first round at once; that round's status is written,
		// and read back in whole seconds, as the API server keeps times.
		written := start.Add(time.Duration(i) * 12 * time.Second / count).Truncate(time.Second)
		writes := 0
		for slot := nextSlot(written, interval, phase(key, interval)); slot.Before(start.Add(horizon)); slot = slot.Add(interval) {
			round := slot.Add(3 * time.Millisecond) // a round starts a little after its slot
			if !heartbeatDue(written, round, refresh, phase(key, refresh)) {
				continue
			}
			if gap := round.Sub(written); gap > refresh+interval+time.Second {
				t.Fatalf("%s: %s between heartbeats, want at most refresh plus one interval", key.Name, gap)
			}
			written = round.Truncate(time.Second)
			writes++
			if round.After(start.Add(2 * time.Minute)) {
				perSecond[round.Unix()]++
			}
		}
		if writes < 9 || writes > 11 {
			t.Fatalf("%s wrote %d heartbeats in 10 minutes, want one a minute", key.Name, writes)
		}
	}
	busiest, total := 0, 0
	for _, n := range perSecond {
		busiest, total = max(busiest, n), total+n
	}
	mean := float64(total) / (8 * 60)
	t.Logf("heartbeat writes: %.1f a second on average, %d in the busiest second", mean, busiest)
	if float64(busiest) > 2*mean {
		t.Fatalf("%d writes in the busiest second, mean %.1f: heartbeats come in bursts", busiest, mean)
	}
}

func TestDescribeWordsEventsWithTargetAndEvidence(t *testing.T) {
	down := transition{name: "https://a.example/healthz", from: monitoringv1alpha1.StateUp, evidence: "returned 503 in 120ms, expected 200-299",
		target: monitoringv1alpha1.TargetStatus{State: monitoringv1alpha1.StateDown, ConsecutiveFailures: 3}}
	typ, reason, note := describe(down, 3)
	if typ != "Warning" || reason != "TargetDown" || note != "https://a.example/healthz returned 503 in 120ms, expected 200-299 (3 consecutive failures)" {
		t.Fatalf("got %s %s %q", typ, reason, note)
	}
	recovered := transition{name: "api", from: monitoringv1alpha1.StateDown, evidence: "returned 200 in 8ms",
		target: monitoringv1alpha1.TargetStatus{State: monitoringv1alpha1.StateUp}}
	typ, reason, note = describe(recovered, 3)
	if typ != "Normal" || reason != "TargetRecovered" || note != "api returned 200 in 8ms (was Down)" {
		t.Fatalf("got %s %s %q", typ, reason, note)
	}
}

func conditionStatusOf(s *monitoringv1alpha1.HealthCheckStatus, condType string) metav1.ConditionStatus {
	for _, c := range s.Conditions {
		if c.Type == condType {
			return c.Status
		}
	}
	return ""
}

// TestStatusOfFiveHundredWorstCaseTargetsStaysWellUnderEtcdsLimit builds the
// largest status the API allows: 500 targets whose URLs use the whole URL budget,
// with the longest names and messages, and checks its size.
func TestStatusOfFiveHundredWorstCaseTargetsStaysWellUnderEtcdsLimit(t *testing.T) {
	const etcdLimit = 1536 * 1024
	urlLength := monitoringv1alpha1.MaxTotalURLLength / monitoringv1alpha1.MaxTargets
	rnd := &round{started: checkedAt}
	for i := range monitoringv1alpha1.MaxTargets {
		u := fmt.Sprintf("https://host-%03d.example.com/", i)
		u += strings.Repeat("p", urlLength-len(u))
		rnd.targets = append(rnd.targets, resolve.Target{URL: u, Name: strings.Repeat("n", 128), StatusName: strings.Repeat("n", 128)})
		rnd.results = append(rnd.results, resolve.Result{Result: checker.Result{
			StatusCode: 503, Latency: time.Hour, Reason: checker.ReasonUnexpectedStatus,
			Message: strings.Repeat("m", checker.MaxMessageLength), CheckedAt: checkedAt,
		}})
	}
	status := &monitoringv1alpha1.HealthCheckStatus{}
	applyRound(status, 1, rnd, thresholds{failure: 10, success: 10}, checkedAt, backendsDown{})
	encoded, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status of %d worst-case targets: %d bytes (etcd's limit: %d)", len(status.Targets), len(encoded), etcdLimit)
	if len(encoded) > etcdLimit/3 {
		t.Fatalf("status is %d bytes, more than a third of etcd's %d byte limit", len(encoded), etcdLimit)
	}
}

func TestACertificateCloseToExpiryIsFlaggedOnce(t *testing.T) {
	expires := checkedAt.Add(72 * time.Hour)
	res := good(false)
	res.CertificateExpiresAt = &expires
	th := thresholds{failure: 1, success: 1, certificateExpiry: 168 * time.Hour}

	status := &monitoringv1alpha1.HealthCheckStatus{}
	rnd := &round{started: checkedAt, targets: []resolve.Target{{URL: "https://a.example/", Name: "a"}}, results: results(res)}
	_, transitions := applyRound(status, 1, rnd, th, checkedAt, backendsDown{})
	got := status.Targets[0]
	if got.State != monitoringv1alpha1.StateUp || got.Reason != monitoringv1alpha1.CheckCertificateExpiring || !got.CertificateExpiresAt.Time.Equal(expires) {
		t.Fatalf("target %+v", got)
	}
	if len(transitions) != 1 || !transitions[0].certificate {
		t.Fatalf("transitions %+v, want one certificate warning", transitions)
	}
	typ, reason, note := describe(transitions[0], 1)
	if typ != "Warning" || reason != "CertificateExpiring" || note != "a: certificate expires at 2026-11-27T12:00:00Z, within 168h0m0s" {
		t.Fatalf("event %s %s %q", typ, reason, note)
	}
	if conditionStatusOf(status, monitoringv1alpha1.ConditionDegraded) != metav1.ConditionTrue {
		t.Fatal("Degraded is not True")
	}
	if _, again := applyRound(status, 1, rnd, th, checkedAt, backendsDown{}); len(again) != 0 {
		t.Fatalf("a certificate still close to expiry was announced again: %+v", again)
	}
	far := checkedAt.Add(90 * 24 * time.Hour)
	res.CertificateExpiresAt = &far
	rnd.results[0] = resolve.Result{Result: res}
	applyRound(status, 1, rnd, th, checkedAt, backendsDown{})
	if status.Targets[0].Reason != monitoringv1alpha1.CheckOK || conditionStatusOf(status, monitoringv1alpha1.ConditionDegraded) != metav1.ConditionFalse {
		t.Fatalf("a renewed certificate still flagged: %+v", status.Targets[0])
	}
}

// results wraps checks as the results of targets without fan-out.
func results(checks ...checker.Result) []resolve.Result {
	out := make([]resolve.Result, len(checks))
	for i, c := range checks {
		out[i] = resolve.Result{Result: c}
	}
	return out
}

// BenchmarkStatusChanged compares the status of a steady ten-target
// HealthCheck after a round with the one last written, as each round does.
func BenchmarkStatusChanged(b *testing.B) {
	status := func(at time.Time, latency int64) *monitoringv1alpha1.HealthCheckStatus {
		t := metav1.NewTime(at)
		s := &monitoringv1alpha1.HealthCheckStatus{LastRunTime: &t, ObservedGeneration: 1, Summary: &monitoringv1alpha1.Summary{Total: 10, Up: 10}}
		setHealthConditions(s, 1)
		for i := range 10 {
			s.Targets = append(s.Targets, monitoringv1alpha1.TargetStatus{
				URL: fmt.Sprintf("http://shop-%d.example/healthz", i), State: monitoringv1alpha1.StateUp, StatusCode: 200,
				LatencyMs: latency, Message: fmt.Sprintf("returned 200 in %dms", latency), LastCheckTime: &t,
				LastTransitionTime: &earlier, ConsecutiveSuccesses: 1, Reason: monitoringv1alpha1.CheckOK,
			})
		}
		return s
	}
	written, updated := status(checkedAt, 12), status(checkedAt.Add(10*time.Second), 15)
	updated.Conditions = slices.Clone(written.Conditions) // set at the same instant
	writtenTargets := printTargets(written.Targets)       // as working keeps it
	written = withoutTargets(written)
	b.ReportAllocs()
	for b.Loop() {
		if statusChanged(written, writtenTargets, updated, time.Hour, 0) {
			b.Fatal("a steady round changed status")
		}
	}
}

// TestRemoveConditionCopiesTheListOnlyToRemoveOne: each round removes the
// conditions a HealthCheck without maintenance windows or an objective never
// has; that must leave the list as it is, not copy it (a round's garbage), and
// a condition that is there is removed.
func TestRemoveConditionCopiesTheListOnlyToRemoveOne(t *testing.T) {
	conditions := []metav1.Condition{
		{Type: monitoringv1alpha1.ConditionReady, Status: metav1.ConditionTrue},
		{Type: monitoringv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue},
	}
	first := &conditions[0]
	removeCondition(&conditions, monitoringv1alpha1.ConditionInMaintenance)
	if len(conditions) != 2 || &conditions[0] != first {
		t.Fatalf("removing an absent condition replaced the list: %+v", conditions)
	}
	removeCondition(&conditions, monitoringv1alpha1.ConditionReconciling)
	if len(conditions) != 1 || conditions[0].Type != monitoringv1alpha1.ConditionReady {
		t.Fatalf("after removing Reconciling: %+v", conditions)
	}
}
