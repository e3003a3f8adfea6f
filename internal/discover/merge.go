package discover

import (
	"unicode/utf8"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Merge puts the spec's targets first, as they are, then the discovered ones
// in the order given (source by source, as the From functions return them):
// a discovered URL equal to a spec target's is that target, and of
// discovered targets with one URL the first is kept. A discovered URL longer
// than MaxURLLength is left out and noted. Past MaxTargets targets or
// MaxTotalURLLength characters of URLs, spec and discovered together, the
// remaining discovered targets are left out, the last ones first, and counted
// in LeftOut: a new object thus never pushes out one listed before it.
func Merge(spec []monitoringv1alpha1.Target, discovered []Target) Result {
	res := Result{Targets: make([]Target, len(spec), len(spec)+min(len(discovered), monitoringv1alpha1.MaxTargets))}
	for i, t := range spec {
		res.Targets[i].Target = t
	}
	if len(discovered) == 0 {
		// Every round of a HealthCheck without sources ends here: nothing to
		// count or remember for discovered targets.
		return res
	}
	var n notes
	seen := make(map[string]bool, len(spec)+len(discovered))
	total := 0
	for _, t := range spec {
		seen[t.URL] = true
		total += utf8.RuneCountInString(t.URL)
	}
	full := false
	for _, t := range discovered {
		if seen[t.URL] {
			continue
		}
		seen[t.URL] = true
		length := utf8.RuneCountInString(t.URL)
		if length > monitoringv1alpha1.MaxURLLength {
			n.add("%s: URL longer than %d characters, left out", t.Source, monitoringv1alpha1.MaxURLLength)
			continue
		}
		// Once one does not fit, none after it is taken either, even a
		// shorter one: what is kept stays a stable prefix.
		full = full || len(res.Targets) >= monitoringv1alpha1.MaxTargets || total+length > monitoringv1alpha1.MaxTotalURLLength
		if full {
			res.LeftOut++
			continue
		}
		res.Targets = append(res.Targets, t)
		total += length
	}
	res.Notes = n.list()
	return res
}
