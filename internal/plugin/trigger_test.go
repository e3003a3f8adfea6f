package plugin_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

func TestTriggerSetsTheRequestedAtAnnotationAndNothingElse(t *testing.T) {
	c := startCluster(t)
	ns := c.newNamespace(t)
	hc := webHealthCheck(ns)
	c.createWithStatus(t, hc)
	before := &monitoringv1alpha1.HealthCheck{}
	if err := c.client.Get(context.Background(), client.ObjectKeyFromObject(hc), before); err != nil {
		t.Fatal(err)
	}

	got := runPlugin(t, &fixedClock{now: testNow}, "", "trigger", "web", "-n", ns, "--kubeconfig", c.kubeconfig)
	if got.code != plugin.ExitOK || got.stderr != "" {
		t.Fatalf("exit status %d, stderr %q", got.code, got.stderr)
	}
	want := "healthcheck.monitoring.healthcheck.dev/web triggered (requested-at " + testNow.UTC().Format("2006-01-02T15:04:05.999999999Z07:00") + ")\n"
	if got.stdout != want {
		t.Fatalf("stdout %q, want %q", got.stdout, want)
	}
	after := &monitoringv1alpha1.HealthCheck{}
	if err := c.client.Get(context.Background(), client.ObjectKeyFromObject(hc), after); err != nil {
		t.Fatal(err)
	}
	if v := after.Annotations[monitoringv1alpha1.RequestedAtAnnotation]; v != testNow.UTC().Format("2006-01-02T15:04:05.999999999Z07:00") {
		t.Fatalf("annotation %q", v)
	}
	if after.Generation != before.Generation {
		t.Fatalf("the spec changed: generation %d -> %d", before.Generation, after.Generation)
	}

	missing := runPlugin(t, &fixedClock{now: testNow}, "", "trigger", "nope", "-n", ns, "--kubeconfig", c.kubeconfig)
	if missing.code != plugin.ExitError || missing.stderr != `error: HealthCheck "nope" in namespace "`+ns+`" not found`+"\n" {
		t.Fatalf("exit status %d, stderr %q", missing.code, missing.stderr)
	}
}
