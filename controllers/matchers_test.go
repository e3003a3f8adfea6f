package controllers_test

import (
	"fmt"
	"regexp"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// beTarget matches a target's URL, state, status code and reason.
func beTarget(url string, state monitoringv1alpha1.TargetState, code int32, reason monitoringv1alpha1.CheckReason) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(t monitoringv1alpha1.TargetStatus) (bool, error) {
		return t.URL == url && t.State == state && t.StatusCode == code && t.Reason == reason, nil
	}).WithTemplate(fmt.Sprintf("Expected target {{.Actual}} to be %s with %d and reason %s", state, code, reason))
}

// eventMatching matches one event (not a repeated series) of the given type and
// reason whose note matches the pattern.
func eventMatching(eventType, reason, notePattern string) types.GomegaMatcher {
	note := regexp.MustCompile(notePattern)
	return gcustom.MakeMatcher(func(e recordedEvent) (bool, error) {
		return e.Type == eventType && e.Reason == reason && note.MatchString(e.Note) && e.Count == 1, nil
	}).WithTemplate(fmt.Sprintf("Expected event {{.Actual}} to be %s %s with a note matching %q, once", eventType, reason, notePattern))
}
