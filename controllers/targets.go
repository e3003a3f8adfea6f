package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// resolveTargets resolves hc's targets for a round (resolve.Targets), reading
// Secret values straight from the API server.
func resolveTargets(ctx context.Context, secrets client.Reader, hc *monitoringv1alpha1.HealthCheck) ([]resolve.Target, error) {
	return resolve.Targets(hc.Spec, func(ref monitoringv1alpha1.SecretKeySelector) (string, bool, error) {
		return secretValue(ctx, secrets, hc.Namespace, ref)
	})
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
