package devenv

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
)

// runOperator runs the HealthCheck operator in this process until ctx ends,
// built by internal/operator from opts as cmd/manager builds it from its flags.
func runOperator(ctx context.Context, cfg *rest.Config, opts operator.Options) error {
	mgr, err := operator.New(cfg, opts)
	if err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("Starting the operator", "maxConcurrentChecks", opts.MaxConcurrentChecks,
		"allowCIDRs", opts.AllowCIDRs, "denyCIDRs", opts.DenyCIDRs)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the operator: %w", err)
	}
	return nil
}
