package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

var (
	t0    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	shop  = types.NamespacedName{Namespace: "shop", Name: "api"}
	since = " since 2026-01-02T03:04:05Z" // every Down target of these tests went Down at t0
)

// ev is a transition with the given reason, its states as the controller
// reports them, and the note "<target>: <reason>". Its time is the round's.
func ev(reason, target string) Transition {
	from, to := v1alpha1.StateUp, v1alpha1.StateUp
	switch reason {
	case v1alpha1.EventTargetDown, v1alpha1.EventTargetBlocked, v1alpha1.EventTargetFlapping:
		to = v1alpha1.StateDown
	case v1alpha1.EventTargetSlow:
		to = v1alpha1.StateSlow
	case v1alpha1.EventTargetRecovered:
		from = v1alpha1.StateDown
	case v1alpha1.EventErrorBudgetBurning, v1alpha1.EventErrorBudgetRecovered:
		from, to = "", ""
	}
	return Transition{Target: target, PreviousState: from, State: to, Reason: reason, StatusCode: 503, Text: target + ": " + reason}
}

func downEv(target string) Transition { return ev(v1alpha1.EventTargetDown, target) }
func upEv(target string) Transition   { return ev(v1alpha1.EventTargetRecovered, target) }

// step is one round of a scenario.
type step struct {
	at           time.Duration // the round's time, after t0
	transitions  []Transition
	down         []string // targets Down after the round; the scenario's other targets are Up
	targets      []string // when set, replaces the scenario's targets from this round on
	suppressedBy string
	maintenance  bool

	want  []string     // the messages' texts, in order
	held  []HoldReason // per transition; nil means every one was sent
	notes []string     // per transition; nil means no notes
}

type scenario struct {
	name    string
	spec    v1alpha1.NotifySpec
	targets []string
	steps   []step
}

func every(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func TestPlannerRules(t *testing.T) {
	const (
		down      = v1alpha1.EventTargetDown
		blocked   = v1alpha1.EventTargetBlocked
		slow      = v1alpha1.EventTargetSlow
		recovered = v1alpha1.EventTargetRecovered
		bDown     = v1alpha1.EventBackendDown
		bUp       = v1alpha1.EventBackendRecovered
		cert      = v1alpha1.EventCertificateExpiring
		flapping  = v1alpha1.EventTargetFlapping
		burning   = v1alpha1.EventErrorBudgetBurning
		budgetUp  = v1alpha1.EventErrorBudgetRecovered
		dep       = "(not notified: depends on HealthCheck db, which is not Healthy)"
		maint     = "(in maintenance)"
	)
	targets := []string{"api", "web", "db", "x"}
	scenarios := []scenario{
		{
			name: "groupBy Target sends one message per transition, in order", targets: targets,
			steps: []step{{
				transitions: []Transition{downEv("api"), ev(slow, "web"), ev(cert, "web"), upEv("db"), ev(flapping, "x"), ev(burning, "")},
				down:        []string{"api", "x"},
				want:        []string{"api: TargetDown", "web: TargetSlow", "web: CertificateExpiring", "db: TargetRecovered", "x: TargetFlapping", ": ErrorBudgetBurning"},
			}},
		},
		{
			name: "nothing is sent in a window, the first event of each target notes it", targets: targets,
			steps: []step{
				{
					maintenance: true,
					transitions: []Transition{downEv("api"), ev(slow, "web"), ev(flapping, "api"), ev(bDown, "db"), ev(cert, "x"), ev(burning, "")},
					down:        []string{"api"},
					held:        []HoldReason{HoldMaintenance, HoldMaintenance, HoldMaintenance, HoldMaintenance, HoldMaintenance, HoldMaintenance},
					notes:       []string{maint, maint, "", maint, maint, maint},
				},
				{
					at: time.Minute, maintenance: true,
					transitions: []Transition{ev(bUp, "db"), ev(cert, "web")},
					down:        []string{"api"},
					held:        []HoldReason{HoldProblemNotNotified, HoldMaintenance},
					notes:       []string{"", ""},
				},
				{
					at: 2 * time.Minute, maintenance: true,
					transitions: []Transition{upEv("api"), upEv("web"), ev(budgetUp, "")},
					held:        []HoldReason{HoldProblemNotNotified, HoldProblemNotNotified, HoldProblemNotNotified},
				},
				{at: 3 * time.Minute, transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{
					at: 4 * time.Minute, maintenance: true,
					transitions: []Transition{ev(slow, "web")},
					down:        []string{"api"},
					held:        []HoldReason{HoldMaintenance},
					notes:       []string{maint}, // a new window notes again
				},
			},
		},
		{
			name: "a recovery in a window of a problem notified before it is sent", targets: targets,
			steps: []step{
				{transitions: []Transition{downEv("api"), ev(slow, "web"), ev(bDown, "db")}, down: []string{"api"},
					want: []string{"api: TargetDown", "web: TargetSlow", "db: BackendDown"}},
				{at: time.Minute, maintenance: true, transitions: []Transition{upEv("api"), upEv("web"), ev(bUp, "db")},
					want: []string{"api: TargetRecovered", "web: TargetRecovered", "db: BackendRecovered"}},
			},
		},
		{
			name: "a Down held by a window is notified once it closes, then its recovery", targets: targets,
			steps: []step{
				{maintenance: true, transitions: []Transition{downEv("api")}, down: []string{"api"},
					held: []HoldReason{HoldMaintenance}, notes: []string{maint}},
				{at: time.Hour, maintenance: true, down: []string{"api"}},
				{at: 2 * time.Hour, down: []string{"api"}, want: []string{"api is still Down" + since}},
				{at: 200 * time.Hour, down: []string{"api"}}, // no repeatInterval: once
				{at: 201 * time.Hour, transitions: []Transition{upEv("api")}, want: []string{"api: TargetRecovered"}},
			},
		},
		{
			name: "dependsOn holds Down, Blocked and BackendDown with a note, and nothing else", targets: targets,
			steps: []step{{
				suppressedBy: "db",
				transitions:  []Transition{downEv("api"), ev(blocked, "web"), ev(bDown, "db"), ev(slow, "x"), ev(cert, "x"), upEv("db"), ev(flapping, "x"), ev(burning, "")},
				down:         []string{"api", "web"},
				held:         []HoldReason{HoldDependency, HoldDependency, HoldDependency, "", "", "", "", ""},
				notes:        []string{dep, dep, dep, "", "", "", "", ""},
				want:         []string{"x: TargetSlow", "x: CertificateExpiring", "db: TargetRecovered", "x: TargetFlapping", ": ErrorBudgetBurning"},
			}},
		},
		{
			name: "suppressed then recovered: neither is sent", targets: targets,
			steps: []step{
				{suppressedBy: "db", transitions: []Transition{downEv("api"), ev(bDown, "web")}, down: []string{"api"},
					held: []HoldReason{HoldDependency, HoldDependency}, notes: []string{dep, dep}},
				{at: time.Minute, suppressedBy: "db", transitions: []Transition{upEv("api"), ev(bUp, "web")},
					held: []HoldReason{HoldProblemNotNotified, HoldProblemNotNotified}},
				{at: 2 * time.Minute}, // nothing left to catch up on
			},
		},
		{
			name: "suppressed Down is notified once the dependency is Healthy, then its recovery", targets: targets,
			spec: v1alpha1.NotifySpec{RepeatInterval: every(time.Hour)},
			steps: []step{
				{suppressedBy: "db", transitions: []Transition{downEv("api")}, down: []string{"api"},
					held: []HoldReason{HoldDependency}, notes: []string{dep}},
				{at: 2 * time.Hour, suppressedBy: "db", down: []string{"api"}}, // reminders wait too
				{at: 2*time.Hour + time.Minute, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 1h0m0s)"}},
				{at: 3 * time.Hour, down: []string{"api"}},
				{at: 3*time.Hour + time.Minute, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 1h0m0s)"}},
				{at: 4 * time.Hour, suppressedBy: "db", transitions: []Transition{upEv("api")}, want: []string{"api: TargetRecovered"}},
			},
		},
		{
			name: "a problem told before the dependency failed keeps its recovery", targets: targets,
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: time.Minute, suppressedBy: "db", transitions: []Transition{upEv("api")}, want: []string{"api: TargetRecovered"}},
			},
		},
		{
			name: "a problem held after one that was told keeps the recovery", targets: targets,
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: time.Minute, maintenance: true, transitions: []Transition{ev(slow, "api")},
					held: []HoldReason{HoldMaintenance}, notes: []string{maint}},
				{at: 2 * time.Minute, transitions: []Transition{upEv("api")}, want: []string{"api: TargetRecovered"}},
			},
		},
		{
			name: "a Down held after a told Slow is caught up on", targets: targets,
			steps: []step{
				{transitions: []Transition{ev(slow, "api")}, want: []string{"api: TargetSlow"}},
				{at: time.Minute, suppressedBy: "db", transitions: []Transition{downEv("api")}, down: []string{"api"},
					held: []HoldReason{HoldDependency}, notes: []string{dep}},
				{at: 2 * time.Minute, down: []string{"api"}, want: []string{"api is still Down" + since}},
			},
		},
		{
			name: "sendResolved false holds every recovery", targets: targets,
			spec: v1alpha1.NotifySpec{SendResolved: ptr.To(false)},
			steps: []step{
				{transitions: []Transition{downEv("api"), ev(bDown, "web"), ev(burning, "")}, down: []string{"api"},
					want: []string{"api: TargetDown", "web: BackendDown", ": ErrorBudgetBurning"}},
				{at: time.Minute, transitions: []Transition{upEv("api"), ev(bUp, "web"), ev(budgetUp, "")},
					held: []HoldReason{HoldSendResolved, HoldSendResolved, HoldSendResolved}},
			},
		},
		{
			name: "sendResolved false is the reason before an untold problem", targets: targets,
			spec: v1alpha1.NotifySpec{SendResolved: ptr.To(false)},
			steps: []step{
				{suppressedBy: "db", transitions: []Transition{downEv("api")}, down: []string{"api"},
					held: []HoldReason{HoldDependency}, notes: []string{dep}},
				{at: time.Minute, suppressedBy: "db", transitions: []Transition{upEv("api")}, held: []HoldReason{HoldSendResolved}},
			},
		},
		{
			name: "reminders fall due at exact instants while a target stays Down", targets: targets,
			spec: v1alpha1.NotifySpec{RepeatInterval: every(4 * time.Hour)},
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: time.Hour, down: []string{"api"}},
				{at: 4*time.Hour - time.Nanosecond, down: []string{"api"}},
				{at: 4 * time.Hour, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 4h0m0s)"}},
				{at: 8*time.Hour - time.Nanosecond, down: []string{"api"}},
				{at: 8*time.Hour + 30*time.Second, transitions: []Transition{ev(blocked, "web")}, down: []string{"api", "web"},
					want: []string{"web: TargetBlocked", "api is still Down" + since + " (reminder every 4h0m0s)"}},
				{at: 12*time.Hour + 30*time.Second, down: []string{"api", "web"}, want: []string{
					"api is still Down" + since + " (reminder every 4h0m0s)", "web is still Down" + since + " (reminder every 4h0m0s)",
				}},
				{at: 13 * time.Hour, transitions: []Transition{upEv("api"), upEv("web")}, want: []string{"api: TargetRecovered", "web: TargetRecovered"}},
				{at: 20 * time.Hour}, // Up: no more reminders
			},
		},
		{
			name: "reminders wait for a window to close, then keep their interval", targets: targets,
			spec: v1alpha1.NotifySpec{RepeatInterval: every(time.Hour)},
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: time.Hour, maintenance: true, down: []string{"api"}},
				{at: 2 * time.Hour, maintenance: true, down: []string{"api"}},
				{at: 2*time.Hour + 30*time.Minute, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 1h0m0s)"}},
				{at: 3 * time.Hour, down: []string{"api"}},
				{at: 3*time.Hour + 30*time.Minute, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 1h0m0s)"}},
			},
		},
		{
			name: "a Down target first seen without its transition waits a whole interval", targets: targets,
			spec: v1alpha1.NotifySpec{RepeatInterval: every(time.Hour)},
			steps: []step{
				{down: []string{"api"}},
				{at: time.Hour - time.Second, down: []string{"api"}},
				{at: time.Hour, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 1h0m0s)"}},
			},
		},
		{
			name: "leaving Down stops reminders, and a new Down starts a new interval", targets: targets,
			spec: v1alpha1.NotifySpec{RepeatInterval: every(time.Hour)},
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: 30 * time.Minute, transitions: []Transition{ev(slow, "api")}, want: []string{"api: TargetSlow"}},
				{at: 2 * time.Hour},
				{at: 2*time.Hour + 30*time.Minute, transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: 3 * time.Hour, down: []string{"api"}},
				{at: 3*time.Hour + 30*time.Minute, down: []string{"api"}, want: []string{"api is still Down" + since + " (reminder every 1h0m0s)"}},
			},
		},
		{
			name: "a target that disappears gets no reminders", targets: targets,
			spec: v1alpha1.NotifySpec{RepeatInterval: every(time.Hour)},
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"api: TargetDown"}},
				{at: time.Hour, targets: []string{"web"}},
			},
		},
		{
			name: "groupBy Round sends one message with transitions and reminders", targets: targets,
			spec: v1alpha1.NotifySpec{GroupBy: v1alpha1.GroupByRound, RepeatInterval: every(time.Hour)},
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"shop/api: 1 transition\nTargetDown: api: TargetDown"}},
				{at: time.Hour, transitions: []Transition{downEv("web"), ev(slow, "db")}, down: []string{"api", "web"},
					want: []string{"shop/api: 2 transitions and 1 reminder\nTargetDown: web: TargetDown\nTargetSlow: db: TargetSlow\n" +
						"TargetStillDown: api is still Down" + since + " (reminder every 1h0m0s)"}},
				{at: 2 * time.Hour, down: []string{"api", "web"}, want: []string{"shop/api: 2 reminders\n" +
					"TargetStillDown: api is still Down" + since + " (reminder every 1h0m0s)\n" +
					"TargetStillDown: web is still Down" + since + " (reminder every 1h0m0s)"}},
				{at: 3 * time.Hour, maintenance: true, transitions: []Transition{ev(slow, "x")}, down: []string{"api", "web"},
					held: []HoldReason{HoldMaintenance}, notes: []string{maint}},
			},
		},
		{
			name: "groupBy Round with sendResolved false lists only problems", targets: targets,
			spec: v1alpha1.NotifySpec{GroupBy: v1alpha1.GroupByRound, SendResolved: ptr.To(false)},
			steps: []step{
				{transitions: []Transition{downEv("api")}, down: []string{"api"}, want: []string{"shop/api: 1 transition\nTargetDown: api: TargetDown"}},
				{at: time.Minute, transitions: []Transition{upEv("api"), downEv("web")}, down: []string{"web"},
					held: []HoldReason{HoldSendResolved, ""}, want: []string{"shop/api: 1 transition\nTargetDown: web: TargetDown"}},
				{at: 2 * time.Minute, transitions: []Transition{upEv("web")}, held: []HoldReason{HoldSendResolved}},
			},
		},
		{
			name: "groupBy Round with dependsOn lists what is sent", targets: targets,
			spec: v1alpha1.NotifySpec{GroupBy: v1alpha1.GroupByRound},
			steps: []step{{
				suppressedBy: "db", transitions: []Transition{downEv("api"), ev(slow, "web")}, down: []string{"api"},
				held: []HoldReason{HoldDependency, ""}, notes: []string{dep, ""},
				want: []string{"shop/api: 1 transition\nTargetSlow: web: TargetSlow"},
			}},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var p Planner
			present := sc.targets
			for i, st := range sc.steps {
				g := NewWithT(t)
				if st.targets != nil {
					present = st.targets
				}
				now := t0.Add(st.at)
				round := Round{
					HealthCheck: shop, Spec: sc.spec, SuppressedBy: st.suppressedBy, InMaintenance: st.maintenance, Now: now,
					Targets: listTargets(present, st.down),
				}
				for _, tr := range st.transitions {
					tr.Time = now
					round.Transitions = append(round.Transitions, tr)
				}
				plan := p.Plan(round)

				var texts []string
				for _, m := range plan.Messages {
					texts = append(texts, m.Text)
				}
				g.Expect(texts).To(Equal(st.want), "step %d: messages", i)
				held, notes := st.held, st.notes
				if held == nil {
					held = make([]HoldReason, len(st.transitions))
				}
				if notes == nil {
					notes = make([]string, len(st.transitions))
				}
				g.Expect(plan.Outcomes).To(HaveLen(len(st.transitions)), "step %d: outcomes", i)
				for j, o := range plan.Outcomes {
					g.Expect(o.Held).To(Equal(held[j]), "step %d: transition %d held", i, j)
					g.Expect(o.EventNote).To(Equal(notes[j]), "step %d: transition %d note", i, j)
				}
			}
		})
	}
}

// listTargets lists present as the round's targets, those in down Down since t0
// and the others Up.
func listTargets(present, down []string) []Target {
	var list []Target
	for _, name := range present {
		t := Target{Name: name, State: v1alpha1.StateUp, Since: t0, StatusCode: 200}
		for _, d := range down {
			if d == name {
				t.State, t.StatusCode = v1alpha1.StateDown, 503
			}
		}
		list = append(list, t)
	}
	return list
}

func TestAGroupedMessageIsBoundedTo50Lines(t *testing.T) {
	g := NewWithT(t)
	var p Planner
	round := Round{HealthCheck: shop, Spec: v1alpha1.NotifySpec{GroupBy: v1alpha1.GroupByRound}, Now: t0}
	for i := range 120 {
		name := fmt.Sprintf("t%03d", i)
		round.Transitions = append(round.Transitions, downEv(name))
		round.Targets = append(round.Targets, Target{Name: name, State: v1alpha1.StateDown, Since: t0})
	}
	plan := p.Plan(round)
	g.Expect(plan.Messages).To(HaveLen(1))
	m := plan.Messages[0]
	lines := strings.Split(m.Text, "\n")
	g.Expect(lines).To(HaveLen(1 + v1alpha1.MaxGroupedLines + 1))
	g.Expect(lines[0]).To(Equal("shop/api: 120 transitions"))
	g.Expect(lines[1]).To(Equal("TargetDown: t000: TargetDown"))
	g.Expect(lines[50]).To(Equal("TargetDown: t049: TargetDown"))
	g.Expect(lines[51]).To(Equal("and 70 more"))
	g.Expect(m.Transitions).To(HaveLen(v1alpha1.MaxGroupedLines))
	g.Expect(m.Transitions[49].Target).To(Equal("t049"))
	g.Expect(m.More).To(Equal(70))
	g.Expect(plan.Outcomes).To(HaveLen(120))
	for _, o := range plan.Outcomes {
		g.Expect(o).To(Equal(Outcome{}))
	}
}

func TestAGroupedMessageKeepsTheSlackFieldsAndListsTransitions(t *testing.T) {
	g := NewWithT(t)
	var p Planner
	api := ev(v1alpha1.EventTargetDown, "api")
	api.Time, api.Text = t0, "api returned 503 in 12ms (2 consecutive failures)"
	web := ev(v1alpha1.EventTargetSlow, "web")
	web.Time, web.StatusCode, web.Text = t0, 200, "web returned 200 in 2.1s"
	plan := p.Plan(Round{
		HealthCheck: shop, Spec: v1alpha1.NotifySpec{GroupBy: v1alpha1.GroupByRound}, Now: t0.Add(time.Second),
		Transitions: []Transition{api, web},
		Targets:     []Target{{Name: "api", State: v1alpha1.StateDown, Since: t0}, {Name: "web", State: v1alpha1.StateSlow, Since: t0}},
	})
	g.Expect(plan.Messages).To(HaveLen(1))
	b, err := json.Marshal(plan.Messages[0])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(b)).To(Equal(`{"text":"shop/api: 2 transitions\nTargetDown: api returned 503 in 12ms (2 consecutive failures)\n` +
		`TargetSlow: web returned 200 in 2.1s","healthcheck":"shop/api","target":"","state":"","previousState":"","reason":"",` +
		`"statusCode":0,"time":"2026-01-02T03:04:06Z","transitions":[` +
		`{"target":"api","state":"Down","previousState":"Up","reason":"TargetDown","statusCode":503,"time":"2026-01-02T03:04:05Z",` +
		`"text":"api returned 503 in 12ms (2 consecutive failures)"},` +
		`{"target":"web","state":"Slow","previousState":"Up","reason":"TargetSlow","statusCode":200,"time":"2026-01-02T03:04:05Z",` +
		`"text":"web returned 200 in 2.1s"}]}`))
}

func TestAReminderMessageNamesItsTarget(t *testing.T) {
	g := NewWithT(t)
	var p Planner
	spec := v1alpha1.NotifySpec{RepeatInterval: every(4 * time.Hour)}
	targets := []Target{{Name: "api", State: v1alpha1.StateDown, Since: t0, StatusCode: 503}}
	p.Plan(Round{HealthCheck: shop, Spec: spec, Now: t0, Transitions: []Transition{downEv("api")}, Targets: targets})
	plan := p.Plan(Round{HealthCheck: shop, Spec: spec, Now: t0.Add(4 * time.Hour), Targets: targets})
	g.Expect(plan.Messages).To(Equal([]Message{{
		Text: "api is still Down since 2026-01-02T03:04:05Z (reminder every 4h0m0s)", HealthCheck: "shop/api", Target: "api",
		State: "Down", PreviousState: "Down", Reason: ReasonStillDown, StatusCode: 503, Time: t0.Add(4 * time.Hour),
	}}))
}

func TestThePlannerForgetsTargetsNoLongerListed(t *testing.T) {
	g := NewWithT(t)
	var p Planner
	both := []Target{{Name: "api", State: v1alpha1.StateDown, Since: t0}, {Name: "web", State: v1alpha1.StateDown, Since: t0}}
	plan := p.Plan(Round{HealthCheck: shop, Now: t0, SuppressedBy: "db", Transitions: []Transition{downEv("api"), downEv("web")}, Targets: both})
	g.Expect(plan.Messages).To(BeEmpty())
	g.Expect(p.remembered(shop)).To(ConsistOf("api", "web"))

	// api goes: what was held back for it goes too.
	plan = p.Plan(Round{HealthCheck: shop, Now: t0.Add(time.Minute), SuppressedBy: "db", Targets: both[1:]})
	g.Expect(plan.Messages).To(BeEmpty())
	g.Expect(p.remembered(shop)).To(ConsistOf("web"))

	// Back, Down, with the dependency Healthy: a target first seen Down, not a
	// held Down to catch up on. web's is.
	plan = p.Plan(Round{HealthCheck: shop, Now: t0.Add(2 * time.Minute), Targets: both})
	g.Expect(plan.Messages).To(HaveLen(1))
	g.Expect(plan.Messages[0].Text).To(Equal("web is still Down since 2026-01-02T03:04:05Z"))

	// Up and untold of nothing: nothing is left to remember, and no HealthCheck either.
	plan = p.Plan(Round{HealthCheck: shop, Now: t0.Add(3 * time.Minute), Transitions: []Transition{upEv("api"), upEv("web")},
		Targets: []Target{{Name: "api", State: v1alpha1.StateUp}, {Name: "web", State: v1alpha1.StateUp}}})
	g.Expect(plan.Messages).To(HaveLen(2))
	g.Expect(p.remembered(shop)).To(BeEmpty())
	g.Expect(p.checks).To(BeEmpty())

	p.Plan(Round{HealthCheck: shop, Now: t0, SuppressedBy: "db", Transitions: []Transition{downEv("api")}, Targets: both})
	g.Expect(p.remembered(shop)).NotTo(BeEmpty())
	p.Forget(shop)
	g.Expect(p.checks).To(BeEmpty())
}

func TestThePlannerIsSafeForConcurrentUse(t *testing.T) {
	var p Planner
	spec := v1alpha1.NotifySpec{RepeatInterval: every(time.Minute)}
	var wg sync.WaitGroup
	for i := range 8 {
		key := types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("hc%d", i)}
		wg.Go(func() {
			targets := []Target{{Name: "api", State: v1alpha1.StateDown, Since: t0}}
			reminders := 0
			for r := range 100 {
				round := Round{HealthCheck: key, Spec: spec, Now: t0.Add(time.Duration(r) * time.Minute), Targets: targets}
				if r == 0 {
					round.Transitions = []Transition{downEv("api")}
				}
				reminders += len(p.Plan(round).Messages)
			}
			if reminders != 100 { // the Down, then a reminder every minute
				t.Errorf("%s: %d messages, want 100", key, reminders)
			}
			p.Forget(key)
		})
	}
	wg.Wait()
	NewWithT(t).Expect(p.checks).To(BeEmpty())
}

// remembered lists the targets the planner remembers for a HealthCheck.
func (p *Planner) remembered(key types.NamespacedName) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	if mem, ok := p.checks[key]; ok {
		for name := range mem.targets {
			names = append(names, name)
		}
	}
	return names
}
