package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// Bounds of the API. Each is declared once, here, next to the types whose
// markers repeat it (markers take only literals); TestBoundsMatchTheCRD in this
// package reads the generated CRD and fails when a marker and its constant
// disagree. Whatever the operator or the plugin writes into a bounded field is
// cut to fit by the code that writes it, with these constants (see Truncate),
// so that the API server never refuses a status write for a value's size.
const (
	// MaxTargets is the most targets one HealthCheck may list (spec.targets and
	// status.targets); it keeps status well under etcd's request size limit.
	MaxTargets = 500
	// MaxURLLength is the longest URL a target may have.
	MaxURLLength = 2048
	// MaxTotalURLLength bounds the URLs of all targets together, since status
	// repeats them.
	MaxTotalURLLength = 131072
	// MaxNameLength is the longest target name.
	MaxNameLength = 128
	// MaxMessageLength is the longest per-target status message.
	MaxMessageLength = 256
	// MaxRequestedAtLength is the longest status.lastHandledRequestedAt; longer
	// annotation values are recorded in the bounded form of RequestedAtToken.
	MaxRequestedAtLength = 256
	// MaxSources is the most sources spec.targetsFrom may list.
	MaxSources = 8
	// MaxSourceLength is the longest status.targets[].source: a kind and a name.
	MaxSourceLength = 300
	// MaxAssertions is the most assertions one target may have.
	MaxAssertions = 16
	// MaxExpressionLength is the longest CEL expression of an assertion.
	MaxExpressionLength = 1024
	// MaxAssertionMessageLength is the longest message of an assertion.
	MaxAssertionMessageLength = 256
	// MaxFailingBackends is the most failing backends one target's status names.
	MaxFailingBackends = 16
	// MaxFailingBackendsTotal is the most failing backends status names across
	// all targets: with MaxBackendMessageLength and the other bounds of
	// BackendStatus, at most about 230 KiB, so that 500 fanned-out targets with
	// many failing backends each still write a status under 1 MiB.
	MaxFailingBackendsTotal = 256
	// MaxBackendAddressLength is the longest backend address (an IPv6 address).
	MaxBackendAddressLength = 45
	// MaxBackendPodLength is the longest pod name.
	MaxBackendPodLength = 253
	// MaxBackendZoneLength is the longest zone (a label value).
	MaxBackendZoneLength = 63
	// MaxBackendMessageLength is the longest message of a failing backend.
	MaxBackendMessageLength = 128
	// MaxMaintenanceWindows is the most windows spec.maintenance may list.
	MaxMaintenanceWindows = 8
	// MaxDependsOn is the most HealthChecks spec.notify.dependsOn may name.
	MaxDependsOn = 8
	// MaxRatioLength is the longest availability ratio: "99.9731", "100".
	MaxRatioLength = 8
	// MaxBudgetLength is the longest errorBudgetRemaining, such as "-9999900".
	MaxBudgetLength = 16
	// MaxCountsLength is the longest encoded status.availability.counts.
	MaxCountsLength = 4096
	// MaxTargetCountsLength is the longest encoded status.targets[].availabilityCounts.
	MaxTargetCountsLength = 512
	// MaxGroupedLines is the most transitions one message of groupBy Round lists,
	// followed by "and N more".
	MaxGroupedLines = 50
	// MaxConditions is the most conditions status holds.
	MaxConditions = 8
	// MaxConditionMessageLength is metav1.Condition's bound on a message.
	MaxConditionMessageLength = 32768
)

// Ellipsis marks where Truncate cut a value, so a reader sees it was cut.
const Ellipsis = "…"

// Truncate cuts s to at most limit characters, counted as the API server counts
// a string's maxLength (Unicode code points), ending the cut value with Ellipsis.
func Truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	keep := limit - utf8.RuneCountInString(Ellipsis)
	n := 0
	for i := range s {
		if n == keep {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s // unreachable: s has more than limit runes
}

// RequestedAtToken is what status.lastHandledRequestedAt records for a value of
// the requested-at annotation: the value itself when it fits, else its start
// cut with Ellipsis, followed by "sha256:" and 16 hex digits of the whole
// value's hash, MaxRequestedAtLength characters in all. Two different long
// values thus still read as two different requests, and the field always fits.
func RequestedAtToken(value string) string {
	if utf8.RuneCountInString(value) <= MaxRequestedAtLength {
		return value
	}
	sum := sha256.Sum256([]byte(value))
	suffix := "sha256:" + hex.EncodeToString(sum[:8])
	return Truncate(value, MaxRequestedAtLength-len(suffix)) + suffix
}
