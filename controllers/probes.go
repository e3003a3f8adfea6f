package controllers

import (
	"context"
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// defaultTimeout and defaultSlowThreshold are the seed script's values, used when
// the spec leaves them unset.
const (
	defaultTimeout       = 8 * time.Second
	defaultSlowThreshold = 2 * time.Second
)

// probe is one spec target resolved for a round: defaults applied, Secrets read.
type probe struct {
	url string
	// name is the display name used in events and metrics; statusName is the name
	// the user gave, if any, so status does not repeat long URLs.
	name       string
	statusName string
	// target is what the checker runs; unused when skip is set.
	target checker.Target
	// skip, when set, says why the target is not checked this round.
	skip        monitoringv1alpha1.CheckReason
	skipMessage string
}

// buildProbes resolves the spec's targets. A missing Secret or key is not an
// error: that target is skipped with reason SecretNotFound. Errors are for API
// failures and for specs the schema should have rejected.
func buildProbes(ctx context.Context, secrets client.Reader, hc *monitoringv1alpha1.HealthCheck) ([]probe, error) {
	probes := make([]probe, 0, len(hc.Spec.Targets))
	for _, t := range hc.Spec.Targets {
		p, err := buildProbe(ctx, secrets, hc, t)
		if err != nil {
			return nil, err
		}
		probes = append(probes, p)
	}
	return probes, nil
}

func buildProbe(ctx context.Context, secrets client.Reader, hc *monitoringv1alpha1.HealthCheck, t monitoringv1alpha1.Target) (probe, error) {
	p := probe{url: t.URL, name: displayName(t), statusName: t.Name}
	codes, err := checker.ParseStatusCodes(t.ExpectedStatusCodes)
	if err != nil {
		return probe{}, &invalidSpecError{msg: fmt.Sprintf("target %s: %v", p.name, err)}
	}
	p.target = checker.Target{
		URL:           t.URL,
		Method:        string(t.Method),
		Timeout:       effectiveTimeout(hc.Spec, t),
		SlowThreshold: effectiveSlowThreshold(hc.Spec, t),
		Expected:      codes,
	}
	p.target.BodyContains = t.BodyContains
	if t.BodyMatches != "" {
		re, err := regexp.Compile(t.BodyMatches)
		if err != nil {
			return probe{}, &invalidSpecError{msg: fmt.Sprintf("target %s: bodyMatches: %v", p.name, err)}
		}
		p.target.BodyMatches = re
	}
	p.target.NoFollowRedirects = t.FollowRedirects != nil && !*t.FollowRedirects
	if t.TLS != nil {
		p.target.InsecureSkipVerify = t.TLS.InsecureSkipVerify
		if ref := t.TLS.CABundleSecretRef; ref != nil {
			bundle, found, err := secretValue(ctx, secrets, hc.Namespace, *ref)
			if err != nil {
				return probe{}, err
			}
			if !found {
				p.skip = monitoringv1alpha1.CheckSecretNotFound
				p.skipMessage = fmt.Sprintf("Secret %q has no key %q for the CA bundle", ref.Name, ref.Key)
				return p, nil
			}
			p.target.CABundle = []byte(bundle)
		}
	}
	for _, h := range t.Headers {
		if h.ValueFrom == nil {
			p.target.Headers = append(p.target.Headers, checker.Header{Name: h.Name, Value: h.Value})
			continue
		}
		ref := h.ValueFrom.SecretKeyRef
		value, found, err := secretValue(ctx, secrets, hc.Namespace, ref)
		if err != nil {
			return probe{}, err
		}
		if !found {
			p.skip = monitoringv1alpha1.CheckSecretNotFound
			p.skipMessage = fmt.Sprintf("Secret %q has no key %q for header %s", ref.Name, ref.Key, h.Name)
			return p, nil
		}
		p.target.Headers = append(p.target.Headers, checker.Header{Name: h.Name, Value: value})
	}
	return p, nil
}

// secretValue reads one key of a Secret in namespace. found is false when the
// Secret or the key does not exist.
func secretValue(ctx context.Context, secrets client.Reader, namespace string, ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
	var s corev1.Secret
	if err := secrets.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("reading Secret %s/%s: %w", namespace, ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	return string(v), ok, nil
}

// effectiveTimeout is the target's timeout, else the spec's, else 8s clamped to
// the interval.
func effectiveTimeout(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) time.Duration {
	switch {
	case t.Timeout != nil:
		return t.Timeout.Duration
	case spec.Timeout != nil:
		return spec.Timeout.Duration
	}
	return min(defaultTimeout, interval(spec))
}

// effectiveSlowThreshold is the target's slow threshold, else the spec's, else 2s.
func effectiveSlowThreshold(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) time.Duration {
	switch {
	case t.SlowThreshold != nil:
		return t.SlowThreshold.Duration
	case spec.SlowThreshold != nil:
		return spec.SlowThreshold.Duration
	}
	return defaultSlowThreshold
}

// defaultInterval matches the schema's default, for objects read before defaulting.
const defaultInterval = 30 * time.Second

// interval is the spec's interval; the schema defaults it and keeps it at 1s or
// more, and the floor here guards objects written before the schema did.
func interval(spec monitoringv1alpha1.HealthCheckSpec) time.Duration {
	if spec.Interval == nil {
		return defaultInterval
	}
	return max(spec.Interval.Duration, time.Second)
}

// displayName is the target's name, else its URL with credentials and query
// values redacted, since those often carry tokens.
func displayName(t monitoringv1alpha1.Target) string {
	if t.Name != "" {
		return t.Name
	}
	return checker.RedactURL(t.URL)
}
