// Package resolve turns a HealthCheck's spec target into what the checker runs:
// defaults applied, regular expressions compiled, Secret values looked up. The
// operator and the kubectl plugin both use it, so a target means the same to both.
package resolve

import (
	"fmt"
	"regexp"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// DefaultInterval matches the schema's default, for objects read before defaulting.
const DefaultInterval = 30 * time.Second

// SecretValue looks up one key of a Secret in the HealthCheck's namespace; found
// is false when the Secret or key does not exist. Errors are for failed lookups.
type SecretValue func(ref monitoringv1alpha1.SecretKeySelector) (value string, found bool, err error)

// NoSecrets is the lookup of a caller that cannot read Secrets: every one is missing.
func NoSecrets(monitoringv1alpha1.SecretKeySelector) (string, bool, error) { return "", false, nil }

// Probe is one target, resolved.
type Probe struct {
	URL string
	// Name is the display name for events, metrics and reports; StatusName is the
	// name the user gave, if any.
	Name       string
	StatusName string
	Target     checker.Target
	// MissingSecret, when set, is the Secret key the lookup did not find, and
	// MissingFor what it was for, such as "header X-Key"; the target cannot be checked.
	MissingSecret *monitoringv1alpha1.SecretKeySelector
	MissingFor    string
}

// InvalidSpecError is a spec the schema let through but that cannot be used.
type InvalidSpecError struct{ Msg string }

func (e *InvalidSpecError) Error() string { return e.Msg }

// Target resolves one target of spec. The timeout is the target's, else the
// spec's, else 8s clamped to the interval; the slow threshold the target's, else
// the spec's, else 2s.
func Target(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target, secrets SecretValue) (Probe, error) {
	p := Probe{URL: t.URL, Name: DisplayName(t), StatusName: t.Name}
	codes, err := checker.ParseStatusCodes(t.ExpectedStatusCodes)
	if err != nil {
		return Probe{}, &InvalidSpecError{Msg: fmt.Sprintf("target %s: %v", p.Name, err)}
	}
	p.Target = checker.Target{
		URL:               t.URL,
		Method:            string(t.Method),
		Timeout:           Timeout(spec, t),
		SlowThreshold:     SlowThreshold(spec, t),
		Expected:          codes,
		NoFollowRedirects: t.FollowRedirects != nil && !*t.FollowRedirects,
		BodyContains:      t.BodyContains,
	}
	if t.BodyMatches != "" {
		if p.Target.BodyMatches, err = regexp.Compile(t.BodyMatches); err != nil {
			return Probe{}, &InvalidSpecError{Msg: fmt.Sprintf("target %s: bodyMatches: %v", p.Name, err)}
		}
	}
	if t.TLS != nil {
		p.Target.InsecureSkipVerify = t.TLS.InsecureSkipVerify
		if ref := t.TLS.CABundleSecretRef; ref != nil {
			bundle, found, err := secrets(*ref)
			if err != nil {
				return Probe{}, err
			}
			if !found {
				p.MissingSecret, p.MissingFor = ref, "the CA bundle"
				return p, nil
			}
			p.Target.CABundle = []byte(bundle)
		}
	}
	for _, h := range t.Headers {
		value := h.Value
		if h.ValueFrom != nil {
			ref := h.ValueFrom.SecretKeyRef
			v, found, err := secrets(ref)
			if err != nil {
				return Probe{}, err
			}
			if !found {
				p.MissingSecret, p.MissingFor = &ref, "header "+h.Name
				return p, nil
			}
			value = v
		}
		p.Target.Headers = append(p.Target.Headers, checker.Header{Name: h.Name, Value: value})
	}
	return p, nil
}

// Timeout is the target's timeout, else the spec's, else 8s clamped to the interval.
func Timeout(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) time.Duration {
	switch {
	case t.Timeout != nil:
		return t.Timeout.Duration
	case spec.Timeout != nil:
		return spec.Timeout.Duration
	}
	return min(checker.DefaultTimeout, Interval(spec))
}

// SlowThreshold is the target's slow threshold, else the spec's, else 2s.
func SlowThreshold(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) time.Duration {
	switch {
	case t.SlowThreshold != nil:
		return t.SlowThreshold.Duration
	case spec.SlowThreshold != nil:
		return spec.SlowThreshold.Duration
	}
	return checker.DefaultSlowThreshold
}

// Interval is the spec's interval; the schema defaults it and keeps it at 1s or
// more, and the floor here guards objects written before the schema did.
func Interval(spec monitoringv1alpha1.HealthCheckSpec) time.Duration {
	if spec.Interval == nil {
		return DefaultInterval
	}
	return max(spec.Interval.Duration, time.Second)
}

// DisplayName is the target's name, else its URL with credentials and query
// values redacted, since those often carry tokens.
func DisplayName(t monitoringv1alpha1.Target) string {
	if t.Name != "" {
		return t.Name
	}
	return checker.RedactURL(t.URL)
}
