package devenv

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/demo"
)

// fieldOwner is the field manager of what the embedded mode applies.
const fieldOwner = "make-run"

// loadDemoSample reads the HealthCheck of the demo targets, written for
// demo.DefaultAddr, and points its targets at addr, where the demo server listens.
func loadDemoSample(path, addr string) (*unstructured.Unstructured, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the demo sample: %w", err)
	}
	doc, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing the demo sample %s: %w", path, err)
	}
	hc := &unstructured.Unstructured{}
	if err := hc.UnmarshalJSON(doc); err != nil {
		return nil, fmt.Errorf("parsing the demo sample %s: %w", path, err)
	}
	if err := pointTargetsAt(hc, addr); err != nil {
		return nil, fmt.Errorf("pointing the demo sample %s at %s: %w", path, addr, err)
	}
	if hc.GetNamespace() == "" {
		hc.SetNamespace(metav1.NamespaceDefault)
	}
	return hc, nil
}

// pointTargetsAt moves every target on demo.DefaultAddr to addr, leaving the others
// (such as the closed port) alone.
func pointTargetsAt(hc *unstructured.Unstructured, addr string) error {
	targets, _, err := unstructured.NestedSlice(hc.Object, "spec", "targets")
	if err != nil {
		return err
	}
	for _, t := range targets {
		target, ok := t.(map[string]any)
		if !ok {
			return fmt.Errorf("a target is a %T, not an object", t)
		}
		raw, _ := target["url"].(string)
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("parsing target URL %q: %w", raw, err)
		}
		if u.Host == demo.DefaultAddr {
			u.Host = addr
			target["url"] = u.String()
		}
	}
	return unstructured.SetNestedSlice(hc.Object, targets, "spec", "targets")
}

// applyDemoSample applies the demo HealthCheck server-side.
func applyDemoSample(ctx context.Context, c client.Client, hc *unstructured.Unstructured) error {
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(hc), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying the demo HealthCheck %s/%s: %w", hc.GetNamespace(), hc.GetName(), err)
	}
	return nil
}

// reportFirstRound prints the demo HealthCheck's summary once every target has
// been judged, so the user sees it work without typing anything. It gives up
// quietly when ctx ends first.
func reportFirstRound(ctx context.Context, c client.Client, key client.ObjectKey, out io.Writer) {
	var hc monitoringv1alpha1.HealthCheck
	judged := func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, key, &hc); err != nil {
			return false, nil //nolint:nilerr // not there yet, or the API server is busy: ask again
		}
		s := hc.Status.Summary
		return s != nil && s.Total > 0 && s.Pending == 0, nil
	}
	if err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, judged); err != nil {
		return
	}
	s := hc.Status.Summary
	_, _ = fmt.Fprintf(out, "First round of HealthCheck %s: %d Up, %d Slow, %d Down of %d targets.\n",
		key.Name, s.Up, s.Slow, s.Down, s.Total)
}
