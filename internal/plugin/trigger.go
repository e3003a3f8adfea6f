package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func (p *Plugin) triggerCommand() *cobra.Command {
	config := newKubeFlags()
	cmd := &cobra.Command{
		Use:   "trigger NAME",
		Short: "Ask the operator to check a HealthCheck's targets now",
		Long: `Set the ` + monitoringv1alpha1.RequestedAtAnnotation + ` annotation of a
HealthCheck to the current time, so the operator runs a round at once instead of
waiting for the interval; status.lastHandledRequestedAt shows when it has. Use it
in maintenance and deploy pipelines, followed by
'kubectl wait --for=condition=Healthy healthcheck/NAME'.`,
		Example: `  # Check the storefront's targets now
  kubectl healthcheck trigger storefront -n shop`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s takes exactly one NAME, got %q", cmd.CommandPath(), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return p.trigger(cmd.Context(), config, args[0])
		},
	}
	config.addFlags(cmd.Flags())
	return cmd
}

// trigger patches the requested-at annotation with a merge patch, touching
// nothing else of the object.
func (p *Plugin) trigger(ctx context.Context, config *kubeFlags, name string) error {
	c, err := config.connect()
	if err != nil {
		return failed(err)
	}
	requestedAt := p.Clock.Now().UTC().Format(time.RFC3339Nano)
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, monitoringv1alpha1.RequestedAtAnnotation, requestedAt)
	if err := c.mergePatch(ctx, name, patch); err != nil {
		return failed(readError(err, fmt.Sprintf("HealthCheck %q in namespace %q", name, c.namespace)))
	}
	_, _ = fmt.Fprintf(p.Streams.Out, "healthcheck.monitoring.healthcheck.dev/%s triggered (requested-at %s)\n", name, requestedAt)
	return nil
}
