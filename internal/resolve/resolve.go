// Package resolve turns a HealthCheck's spec into the one ordered list of
// resolved targets that the rest of the pipeline reads: defaults applied,
// regular expressions and CEL assertions compiled, Secret values looked up,
// and each target either checkable or skipped with a reason. Check runs that
// list and returns results aligned with it. The operator and the kubectl plugin both use it, so a target
// means the same to both.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/assert"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

// DefaultInterval matches the schema's default, for objects read before defaulting.
const DefaultInterval = 30 * time.Second

// SecretValue looks up one key of a Secret in the HealthCheck's namespace; found
// is false when the Secret or key does not exist. Errors are for failed lookups,
// except an *UnreadableError: the caller reads no Secrets at all.
type SecretValue func(ref monitoringv1alpha1.SecretKeySelector) (value string, found bool, err error)

// UnreadableError is the answer of a SecretValue that cannot read Secrets, such
// as the plugin's: the targets that need one are skipped, saying why.
type UnreadableError struct{ Why string }

func (e *UnreadableError) Error() string { return e.Why }

// Unreadable is the lookup of a caller that reads no Secrets; why ends the
// skipped targets' message, such as "which run cannot read".
func Unreadable(why string) SecretValue {
	return func(monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
		return "", false, &UnreadableError{Why: why}
	}
}

// Target is one target of a HealthCheck, resolved: the one shape a target has
// from the spec to the status. The checker runs Check, the judge folds its
// result into status under URL and StatusName, and events, metrics,
// notifications and the plugin's reports name it by Name.
type Target struct {
	// URL is the target's URL as in the spec; it may carry tokens in its query.
	URL string
	// Name is the display name for events, metrics and reports: the spec's name,
	// else the URL redacted (see DisplayName).
	Name string
	// StatusName is the name the user gave, if any, as status records it.
	StatusName string
	// Source is the object a discovered target comes from, such as Ingress/shop;
	// empty for a target of spec.targets.
	Source string
	// Check is what the checker runs; unused when Skip is set.
	Check checker.Target
	// FanOut, when set, checks each backend of the target instead (Check
	// with the backend's address and port), and judges the target by them.
	FanOut *FanOut
	// Skip, when set, is why the target is not checked, and SkipMessage says it
	// in a few words that fit a status message.
	Skip        monitoringv1alpha1.CheckReason
	SkipMessage string
}

// Checkable tells whether the checker runs the target.
func (t Target) Checkable() bool { return t.Skip == "" }

// InvalidSpecError is a spec the schema let through but that cannot be used.
type InvalidSpecError struct{ Msg string }

func (e *InvalidSpecError) Error() string { return e.Msg }

// Targets resolves the spec's targets, in the spec's order (see One). A missing
// Secret or key is not an error: that target is skipped with reason
// SecretNotFound. Errors are for failed lookups and, as *InvalidSpecError, for
// specs the schema should have rejected.
func Targets(spec monitoringv1alpha1.HealthCheckSpec, secrets SecretValue) ([]Target, error) {
	listed := make([]discover.Target, len(spec.Targets))
	for i, t := range spec.Targets {
		listed[i] = discover.Target{Target: t}
	}
	return All(spec, listed, secrets)
}

// All resolves a HealthCheck's targets as discover.Merge lists them, spec
// targets and discovered ones, in that order (see One). A discovered target's
// errors name its source.
func All(spec monitoringv1alpha1.HealthCheckSpec, listed []discover.Target, secrets SecretValue) ([]Target, error) {
	targets := make([]Target, 0, len(listed))
	for _, t := range listed {
		r, err := One(spec, t.Target, secrets)
		var invalid *InvalidSpecError
		if errors.As(err, &invalid) && t.Source != "" {
			invalid.Msg = fmt.Sprintf("%s (discovered from %s)", invalid.Msg, t.Source)
		}
		if err != nil {
			return nil, err
		}
		r.Source = t.Source
		targets = append(targets, r)
	}
	return targets, nil
}

// One resolves one target of spec. The timeout is the target's, else the
// spec's, else 8s clamped to the interval; the slow threshold the target's, else
// the spec's, else 2s.
func One(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target, secrets SecretValue) (Target, error) {
	r := Target{URL: t.URL, Name: DisplayName(t), StatusName: t.Name, FanOut: fanOutOf(t)}
	codes, err := checker.ParseStatusCodes(t.ExpectedStatusCodes)
	if err != nil {
		return Target{}, &InvalidSpecError{Msg: fmt.Sprintf("target %s: %v", r.Name, err)}
	}
	r.Check = checker.Target{
		URL:               t.URL,
		Method:            string(t.Method),
		Timeout:           Timeout(spec, t),
		SlowThreshold:     SlowThreshold(spec, t),
		Expected:          codes,
		NoFollowRedirects: t.FollowRedirects != nil && !*t.FollowRedirects,
		BodyContains:      t.BodyContains,
		IPFamily:          checker.IPFamily(t.IPFamily),
	}
	if t.BodyMatches != "" {
		if r.Check.BodyMatches, err = regexp.Compile(t.BodyMatches); err != nil {
			return Target{}, &InvalidSpecError{Msg: fmt.Sprintf("target %s: bodyMatches: %v", r.Name, err)}
		}
	}
	// Compiled programs are cached by content, so a spec that does not change is
	// compiled once, however many rounds resolve it.
	program, err := assert.Compile(t.Assertions)
	if err != nil {
		return Target{}, &InvalidSpecError{Msg: fmt.Sprintf("target %s: %v", r.Name, err)}
	}
	if program != nil {
		r.Check.Assertions = program
	}
	// secret reads ref for what; skipped reports whether the target was skipped.
	secret := func(ref monitoringv1alpha1.SecretKeySelector, what string) (value string, skipped bool, err error) {
		v, found, err := secrets(ref)
		var unreadable *UnreadableError
		switch {
		case errors.As(err, &unreadable):
			r.skip(fmt.Sprintf("%s comes from key %q of Secret %q, %s", what, clip(ref.Key), clip(ref.Name), unreadable.Why))
			return "", true, nil
		case err != nil:
			return "", false, err
		case !found:
			r.skip(fmt.Sprintf("Secret %q has no key %q for %s", clip(ref.Name), clip(ref.Key), what))
			return "", true, nil
		}
		return v, false, nil
	}
	if t.TLS != nil {
		r.Check.InsecureSkipVerify = t.TLS.InsecureSkipVerify
		if ref := t.TLS.CABundleSecretRef; ref != nil {
			bundle, skipped, err := secret(*ref, "the CA bundle")
			if err != nil || skipped {
				return r, err
			}
			r.Check.CABundle = []byte(bundle)
		}
		if ref := t.TLS.ClientCertificateSecretRef; ref != nil {
			keys := [...]struct {
				key, what string
				into      *[]byte
			}{
				{corev1.TLSCertKey, "the client certificate", &r.Check.ClientCertificate},
				{corev1.TLSPrivateKeyKey, "the client certificate's key", &r.Check.ClientKey},
			}
			for _, k := range keys {
				v, skipped, err := secret(monitoringv1alpha1.SecretKeySelector{Name: ref.Name, Key: k.key}, k.what)
				if err != nil || skipped {
					return r, err
				}
				*k.into = []byte(v)
			}
		}
	}
	for _, h := range t.Headers {
		value := h.Value
		if h.ValueFrom != nil {
			v, skipped, err := secret(h.ValueFrom.SecretKeyRef, "header "+clip(h.Name))
			if err != nil || skipped {
				return r, err
			}
			value = v
		}
		r.Check.Headers = append(r.Check.Headers, checker.Header{Name: h.Name, Value: value})
	}
	return r, nil
}

// skip marks the target as not checked for a missing Secret. The message fits
// status, whatever the lengths of the names in it.
func (t *Target) skip(message string) {
	t.Skip = monitoringv1alpha1.CheckSecretNotFound
	t.SkipMessage = monitoringv1alpha1.Truncate(message, monitoringv1alpha1.MaxMessageLength)
}

// clip shortens a name quoted in a message (Secret names and keys may be 253
// characters each), so that the rest of the message still shows.
func clip(name string) string { return monitoringv1alpha1.Truncate(name, 64) }

// RunFunc runs checks at most workers at once and returns their results in the
// order of targets, calling onResult, when set, as each arrives.
// (*checker.Checker).Run is one.
type RunFunc func(ctx context.Context, targets []checker.Target, workers int, onResult func(checker.Result)) []checker.Result

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
