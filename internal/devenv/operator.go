package devenv

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

// newScheme knows the built-in kinds and HealthCheck.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering the built-in kinds: %w", err)
	}
	if err := monitoringv1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering HealthCheck: %w", err)
	}
	return scheme, nil
}

// runOperator runs the HealthCheck controller in this process until ctx ends, as
// cmd/manager does with its default flags, minus what a developer's machine does
// not need: no metrics or probe endpoints (no ports to collide), no leader election.
func runOperator(ctx context.Context, cfg *rest.Config) error {
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  controllers.Shard{}.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := (&controllers.HealthCheckReconciler{MaxConcurrentReconciles: 4}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the HealthCheck controller: %w", err)
	}
	ctrl.LoggerFrom(ctx).Info("Starting the operator")
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the operator: %w", err)
	}
	return nil
}
