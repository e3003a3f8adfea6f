package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// resolveTargets resolves hc's listed targets (spec and discovered, see
// discovery) for a round (resolve.All), reading
// Secret values straight from the API server, each Secret once per round
// however many keys of it the targets use (a client certificate is two).
func resolveTargets(ctx context.Context, secrets client.Reader, hc *monitoringv1alpha1.HealthCheck, listed []discover.Target) ([]resolve.Target, error) {
	read := map[string]*corev1.Secret{} // nil: the Secret does not exist
	return resolve.All(hc.Spec, listed, func(ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
		s, seen := read[ref.Name]
		if !seen {
			var err error
			if s, err = getSecret(ctx, secrets, hc.Namespace, ref.Name); err != nil {
				return "", false, err
			}
			read[ref.Name] = s
		}
		if s == nil {
			return "", false, nil
		}
		v, ok := s.Data[ref.Key]
		return string(v), ok, nil
	})
}

// secretValue reads one key of a Secret in namespace. found is false when the
// Secret or the key does not exist.
func secretValue(ctx context.Context, secrets client.Reader, namespace string, ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
	s, err := getSecret(ctx, secrets, namespace, ref.Name)
	if s == nil || err != nil {
		return "", false, err
	}
	v, ok := s.Data[ref.Key]
	return string(v), ok, nil
}

// getSecret reads a Secret of namespace; nil without error when it does not exist.
func getSecret(ctx context.Context, secrets client.Reader, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := secrets.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, name, err)
	}
	return &s, nil
}
