package notify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// messages words what a round sends: with groupBy Target a message per sent
// transition and then per reminder, with groupBy Round one message listing them
// all, or none when there is nothing to send.
func messages(round Round, sent, reminders []Transition) []Message {
	all := slices.Concat(sent, reminders)
	if len(all) == 0 {
		return nil
	}
	healthCheck := round.HealthCheck.String()
	if round.Spec.GroupBy == v1alpha1.GroupByRound {
		return []Message{grouped(healthCheck, round, all, len(sent), len(reminders))}
	}
	msgs := make([]Message, 0, len(all))
	for _, t := range all {
		msgs = append(msgs, Message{
			Text: t.Text, HealthCheck: healthCheck, Target: t.Target,
			State: string(t.State), PreviousState: string(t.PreviousState), Reason: t.Reason,
			StatusCode: t.StatusCode, Time: t.Time,
		})
	}
	return msgs
}

// grouped is the one message of a round with groupBy Round. Its text is a
// summary line, then a line per transition (its reason and its event's note),
// at most MaxGroupedLines of them and then "and N more"; Transitions lists the
// same ones and More counts those left out. It is about no single target:
// Target, State, PreviousState and Reason are empty, StatusCode is 0, and Time
// is the round's.
func grouped(healthCheck string, round Round, all []Transition, transitions, reminders int) Message {
	shown := all[:min(len(all), v1alpha1.MaxGroupedLines)]
	more := len(all) - len(shown)

	var text strings.Builder
	text.WriteString(healthCheck + ": " + summary(transitions, reminders))
	for _, t := range shown {
		fmt.Fprintf(&text, "\n%s: %s", t.Reason, t.Text)
	}
	if more > 0 {
		fmt.Fprintf(&text, "\nand %d more", more)
	}
	return Message{
		Text: text.String(), HealthCheck: healthCheck, Time: round.Now,
		Transitions: slices.Clone(shown), More: more,
	}
}

// summary counts a grouped message's contents, such as "3 transitions" or
// "1 transition and 2 reminders".
func summary(transitions, reminders int) string {
	var parts []string
	if transitions > 0 {
		parts = append(parts, plural(transitions, "transition"))
	}
	if reminders > 0 {
		parts = append(parts, plural(reminders, "reminder"))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
