package notify

import (
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// The planner decides what a round notifies, under the rules of spec.notify:
// maintenance windows, dependsOn, sendResolved, repeatInterval and groupBy. It
// is pure and clock-free: the round, with its time, goes in, and the messages to
// send, with why each transition was or was not sent, come out. docs/notifications.md
// states the rules for users; keep the two in step.

// ReasonStillDown is the reason of a reminder: a message about a target that
// stays Down, sent every spec.notify.repeatInterval, or once when its Down was
// held back and nothing holds it any more.
const ReasonStillDown = "TargetStillDown"

// Transition is one transition of a round as its event reports it. A message of
// groupBy Round lists the round's transitions in this shape.
type Transition struct {
	// Target is the target's display name; empty for an event about the
	// HealthCheck as a whole, such as ErrorBudgetBurning.
	Target string `json:"target"`
	// State is the target's new state; PreviousState the one it left. Both are
	// Down in a reminder.
	State         v1alpha1.TargetState `json:"state"`
	PreviousState v1alpha1.TargetState `json:"previousState"`
	// Reason is the event's reason, such as TargetDown, or ReasonStillDown.
	Reason string `json:"reason"`
	// StatusCode is the HTTP status of the check, 0 when there was no response.
	StatusCode int32 `json:"statusCode"`
	// Time is when the check that caused the transition started; for a reminder,
	// the round's time.
	Time time.Time `json:"time"`
	// Text is the event's note, such as "api returned 503 in 12ms (2 consecutive failures)".
	Text string `json:"text"`
}

// Target is one target as the round left it.
type Target struct {
	// Name is the target's display name, as in Transition.Target.
	Name string
	// State is the target's state after the round.
	State v1alpha1.TargetState
	// Since is when the target entered State (its status lastTransitionTime);
	// a reminder quotes it.
	Since time.Time
	// StatusCode is the HTTP status of its last check; a reminder carries it.
	StatusCode int32
}

// Round is what the planner needs to know of one finished round.
type Round struct {
	// HealthCheck names the HealthCheck; the planner keeps what it remembers per name.
	HealthCheck types.NamespacedName
	// Spec is the HealthCheck's spec.notify. The planner reads RepeatInterval,
	// SendResolved and GroupBy, taking the API's defaults for nil or empty ones.
	Spec v1alpha1.NotifySpec
	// Transitions are the round's transitions that emit an event, in the order of
	// their events, each with its event's note as Text (without the Outcome's
	// EventNote, which is added to the event only).
	Transitions []Transition
	// Targets lists every target of the HealthCheck after the round, whatever its
	// state: reminders go to those Down, and the planner forgets the targets not
	// listed.
	Targets []Target
	// SuppressedBy names a HealthCheck of spec.notify.dependsOn whose Healthy
	// condition is False, or is empty.
	SuppressedBy string
	// InMaintenance is true during a window of spec.maintenance.
	InMaintenance bool
	// Now is the round's time; reminders fall due by it.
	Now time.Time
}

// Plan is what to send for a round.
type Plan struct {
	// Messages are the messages to send, in order: with groupBy Target one per
	// sent transition and then one per reminder; with groupBy Round one at most.
	Messages []Message
	// Outcomes says, for each of Round.Transitions at the same index, whether it
	// was sent and, if not, why.
	Outcomes []Outcome
}

// Outcome is what became of one transition.
type Outcome struct {
	// Held is why the transition was not sent; empty when it was.
	Held HoldReason
	// EventNote, when not empty, is to be appended to the transition's event,
	// after a space.
	EventNote string
}

// HoldReason says why a transition was not sent. Every transition not sent has
// one; delivery's own losses are DropReasons.
type HoldReason string

const (
	// HoldSendResolved means a recovery was not sent because spec.notify.sendResolved is false.
	HoldSendResolved HoldReason = "SendResolvedFalse"
	// HoldProblemNotNotified means a recovery was not sent because the problem it
	// ends was not notified either (in a maintenance window, or held by dependsOn).
	HoldProblemNotNotified HoldReason = "ProblemNotNotified"
	// HoldMaintenance means a transition was not sent because a maintenance window is open.
	HoldMaintenance HoldReason = "InMaintenance"
	// HoldDependency means a Down transition was not sent because a HealthCheck of
	// spec.notify.dependsOn is not Healthy.
	HoldDependency HoldReason = "DependencyNotHealthy"
)

// MaintenanceNote is the event note of the first transition of a target that a
// maintenance window holds back, in each window.
const MaintenanceNote = "(in maintenance)"

// DependencyNote is the event note of a transition held back by dependsOn.
func DependencyNote(dependency string) string {
	return fmt.Sprintf("(not notified: depends on HealthCheck %s, which is not Healthy)", dependency)
}

// Planner decides what each round of each HealthCheck notifies, remembering per
// HealthCheck and target what the rules need: when a Down target was last
// notified, and which problems were held back. What it remembers of a target
// goes once the target is no longer listed in a round; call Forget when a
// HealthCheck is deleted. Safe for concurrent use; rounds of one HealthCheck
// must be planned one at a time, in order. The zero Planner is ready to use.
type Planner struct {
	mu     sync.Mutex
	checks map[types.NamespacedName]*memory
}

// memory is what the planner remembers of one HealthCheck.
type memory struct {
	targets map[string]*targetMemory
	// budget is the problem ErrorBudgetBurning starts and ErrorBudgetRecovered ends.
	budget problem
}

// problem is what the user was told of an open problem: the problems one kind of
// recovery ends (a target's Down, Blocked or Slow; its backends Down; the error
// budget burning) since the previous such recovery.
type problem uint8

const (
	// noProblem: none open, or none known, as after a restart; a recovery is sent.
	noProblem problem = iota
	// told: at least one of the open problems, or a reminder, was sent.
	told
	// untold: every one was held back, so its recovery is held too.
	untold
)

// targetMemory is what the planner remembers of one target. A target with
// nothing to remember has none.
type targetMemory struct {
	// state is the problem TargetDown, TargetBlocked and TargetSlow start and
	// TargetRecovered ends.
	state problem
	// backends is the problem BackendDown starts and BackendRecovered ends.
	backends problem
	// downHeld is true while the target is Down and its Down was held back: a
	// reminder is due as soon as nothing holds it.
	downHeld bool
	// lastNotified is when the user was last told the target is Down (its Down
	// transition or a reminder); zero while it is not Down, or its Down is held.
	lastNotified time.Time
	// maintenanceNoted is true once an event of the target got MaintenanceNote in
	// the current window.
	maintenanceNoted bool
}

func (m *targetMemory) empty() bool {
	return m.state == noProblem && m.backends == noProblem && !m.downHeld && m.lastNotified.IsZero() && !m.maintenanceNoted
}

// Forget drops what the planner remembers of a HealthCheck.
func (p *Planner) Forget(healthCheck types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.checks, healthCheck)
}

// Plan decides what round notifies and remembers what later rounds need. It
// must be called for every round, transitions or not, so that reminders fall due.
func (p *Planner) Plan(round Round) Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checks == nil {
		p.checks = map[types.NamespacedName]*memory{}
	}
	mem, ok := p.checks[round.HealthCheck]
	if !ok {
		mem = &memory{targets: map[string]*targetMemory{}}
		p.checks[round.HealthCheck] = mem
	}

	plan := Plan{Outcomes: make([]Outcome, len(round.Transitions))}
	var sent []Transition
	for i, t := range round.Transitions {
		plan.Outcomes[i] = mem.decide(round, t)
		if plan.Outcomes[i].Held == "" {
			sent = append(sent, t)
		}
	}
	reminders := mem.remind(round)
	mem.prune(round)
	if len(mem.targets) == 0 && mem.budget == noProblem {
		delete(p.checks, round.HealthCheck)
	}
	plan.Messages = messages(round, sent, reminders)
	return plan
}

// kind classifies an event reason for the rules.
type kind int

const (
	// other covers TargetSlow, CertificateExpiring, TargetFlapping,
	// ErrorBudgetBurning and reasons the planner does not know.
	other kind = iota
	// down is what dependsOn holds back.
	down
	// recovery is what sendResolved false holds back.
	recovery
)

func kindOf(reason string) kind {
	switch reason {
	case v1alpha1.EventTargetDown, v1alpha1.EventTargetBlocked, v1alpha1.EventBackendDown:
		return down
	case v1alpha1.EventTargetRecovered, v1alpha1.EventBackendRecovered, v1alpha1.EventErrorBudgetRecovered:
		return recovery
	}
	return other
}

// problem returns the problem a transition starts or ends: the target's state,
// its backends, or the HealthCheck's error budget. It is nil for transitions
// that start or end none, such as CertificateExpiring.
func (m *memory) problem(t Transition) *problem {
	if t.Reason == v1alpha1.EventErrorBudgetBurning || t.Reason == v1alpha1.EventErrorBudgetRecovered {
		return &m.budget
	}
	if t.Target == "" {
		return nil
	}
	switch t.Reason {
	case v1alpha1.EventTargetDown, v1alpha1.EventTargetBlocked, v1alpha1.EventTargetSlow, v1alpha1.EventTargetRecovered:
		return &m.target(t.Target).state
	case v1alpha1.EventBackendDown, v1alpha1.EventBackendRecovered:
		return &m.target(t.Target).backends
	}
	return nil
}

func (m *memory) target(name string) *targetMemory {
	tm, ok := m.targets[name]
	if !ok {
		tm = &targetMemory{}
		m.targets[name] = tm
	}
	return tm
}

// decide applies the rules to one transition, the first that holds deciding,
// and records what later rounds need.
func (m *memory) decide(round Round, t Transition) Outcome {
	prob := m.problem(t)
	if kindOf(t.Reason) == recovery {
		wasUntold := prob != nil && *prob == untold
		if prob != nil {
			*prob = noProblem
		}
		switch {
		case !sendResolved(round.Spec):
			return Outcome{Held: HoldSendResolved}
		case wasUntold:
			return Outcome{Held: HoldProblemNotNotified}
		}
		return Outcome{} // in a window or held by dependsOn too: it ends a problem the user was told of
	}

	var out Outcome
	switch {
	case round.InMaintenance:
		out.Held = HoldMaintenance
		if t.Target == "" {
			out.EventNote = MaintenanceNote
		} else if tm := m.target(t.Target); !tm.maintenanceNoted {
			tm.maintenanceNoted = true
			out.EventNote = MaintenanceNote
		}
	case kindOf(t.Reason) == down && round.SuppressedBy != "":
		out = Outcome{Held: HoldDependency, EventNote: DependencyNote(round.SuppressedBy)}
	}
	switch {
	case prob == nil:
	case out.Held == "":
		*prob = told
	case *prob != told:
		*prob = untold
	}
	if t.Target != "" && (t.Reason == v1alpha1.EventTargetDown || t.Reason == v1alpha1.EventTargetBlocked) {
		tm := m.target(t.Target)
		tm.downHeld, tm.lastNotified = out.Held != "", time.Time{}
		if out.Held == "" {
			tm.lastNotified = round.Now
		}
	}
	return out
}

// remind returns the reminders due for the targets Down after the round: one
// repeatInterval after the target was last notified, or at once when its Down
// was held back. None are due in a maintenance window or while a dependency is
// not Healthy; they fall due in the first round after.
func (m *memory) remind(round Round) []Transition {
	var reminders []Transition
	every := repeatInterval(round.Spec)
	for _, t := range round.Targets {
		if t.State != v1alpha1.StateDown || t.Name == "" {
			continue
		}
		tm := m.target(t.Name)
		if tm.lastNotified.IsZero() && !tm.downHeld {
			// Down without a Down transition seen: the operator restarted, or the
			// event budget silenced it. Take it as notified now rather than
			// repeat what may have been sent.
			tm.lastNotified = round.Now
			continue
		}
		if round.InMaintenance || round.SuppressedBy != "" {
			continue
		}
		due := tm.downHeld || (every > 0 && !round.Now.Before(tm.lastNotified.Add(every)))
		if !due {
			continue
		}
		tm.state, tm.downHeld, tm.lastNotified = told, false, round.Now
		reminders = append(reminders, Transition{
			Target: t.Name, State: v1alpha1.StateDown, PreviousState: v1alpha1.StateDown, Reason: ReasonStillDown,
			StatusCode: t.StatusCode, Time: round.Now, Text: stillDown(t, every),
		})
	}
	return reminders
}

// stillDown is a reminder's text, such as
// "api is still Down since 2026-01-02T03:04:05Z (reminder every 4h0m0s)".
func stillDown(t Target, every time.Duration) string {
	text := t.Name + " is still Down"
	if !t.Since.IsZero() {
		text += " since " + t.Since.UTC().Format(time.RFC3339)
	}
	if every > 0 {
		text += fmt.Sprintf(" (reminder every %s)", every)
	}
	return text
}

// prune forgets the targets the round no longer lists and what no longer
// matters: the reminder timer of a target not Down, the maintenance notes of a
// closed window. So memory stays bounded by the targets that exist.
func (m *memory) prune(round Round) {
	present := make(map[string]v1alpha1.TargetState, len(round.Targets))
	for _, t := range round.Targets {
		present[t.Name] = t.State
	}
	for name, tm := range m.targets {
		state, ok := present[name]
		if !ok {
			delete(m.targets, name)
			continue
		}
		if state != v1alpha1.StateDown {
			tm.downHeld, tm.lastNotified = false, time.Time{}
		}
		if !round.InMaintenance {
			tm.maintenanceNoted = false
		}
		if tm.empty() {
			delete(m.targets, name)
		}
	}
}

func sendResolved(spec v1alpha1.NotifySpec) bool {
	return spec.SendResolved == nil || *spec.SendResolved
}

func repeatInterval(spec v1alpha1.NotifySpec) time.Duration {
	if spec.RepeatInterval == nil || spec.RepeatInterval.Duration < 0 {
		return 0
	}
	return spec.RepeatInterval.Duration
}
