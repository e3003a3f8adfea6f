package controllers

import (
	"context"
	"fmt"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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

// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch

// listEndpoints lists the backends of the Endpoints fan-outs among targets:
// the ready endpoints of the Service each one names, in the HealthCheck's
// namespace. Services and EndpointSlices are read from the manager's cache,
// whose informers start with the first HealthCheck that fans out to
// endpoints, so a cluster without one never watches them. A target whose URL
// names no Service of the namespace, or whose Service is missing or has no
// ready endpoint, gets the problem in its FanOut: its check fails as
// NoBackends, saying why. Errors are for failed reads only.
func listEndpoints(ctx context.Context, cache client.Reader, namespace string, targets []resolve.Target) error {
	for i := range targets {
		t := &targets[i]
		if !t.Checkable() || t.FanOut == nil || t.FanOut.Mode != monitoringv1alpha1.FanOutEndpoints {
			continue
		}
		backends, problem, err := endpointsOf(ctx, cache, namespace, *t)
		if err != nil {
			return err
		}
		fan := *t.FanOut
		fan.Backends, fan.Problem = backends, problem
		t.FanOut = &fan
	}
	return nil
}

// endpointsOf lists one target's endpoints, or says why it has none.
func endpointsOf(ctx context.Context, cache client.Reader, namespace string, t resolve.Target) ([]discover.Backend, string, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, "the URL cannot be parsed", nil
	}
	name, ok := discover.ServiceOf(u.Hostname(), t.Source, namespace)
	if !ok {
		return nil, fmt.Sprintf("fanOut mode Endpoints needs a URL whose host is a Service of namespace %s, such as NAME.%s.svc", namespace, namespace), nil
	}
	svc := &corev1.Service{}
	if err := cache.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, svc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Sprintf("Service %s does not exist", name), nil
		}
		return nil, "", fmt.Errorf("reading Service %s: %w", name, err)
	}
	var slices discoveryv1.EndpointSliceList
	if err := cache.List(ctx, &slices, client.InNamespace(namespace), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err != nil {
		return nil, "", fmt.Errorf("listing the EndpointSlices of Service %s: %w", name, err)
	}
	backends, problem := discover.Endpoints(svc, slices.Items, discover.URLPort(u), monitoringv1alpha1.IPFamily(t.Check.IPFamily))
	return backends, problem, nil
}
