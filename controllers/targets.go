package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
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

// buildProbes resolves the spec's targets (see resolve.Target). A missing Secret
// or key is not an error: that target is skipped with reason SecretNotFound.
// Errors are for API failures and, as *resolve.InvalidSpecError, for specs the
// schema should have rejected.
func buildProbes(ctx context.Context, secrets client.Reader, hc *monitoringv1alpha1.HealthCheck) ([]probe, error) {
	lookup := func(ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
		return secretValue(ctx, secrets, hc.Namespace, ref)
	}
	probes := make([]probe, 0, len(hc.Spec.Targets))
	for _, t := range hc.Spec.Targets {
		r, err := resolve.Target(hc.Spec, t, lookup)
		if err != nil {
			return nil, err
		}
		p := probe{url: r.URL, name: r.Name, statusName: r.StatusName, target: r.Target}
		if ref := r.MissingSecret; ref != nil {
			p.skip = monitoringv1alpha1.CheckSecretNotFound
			p.skipMessage = fmt.Sprintf("Secret %q has no key %q for %s", ref.Name, ref.Key, r.MissingFor)
		}
		probes = append(probes, p)
	}
	return probes, nil
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
