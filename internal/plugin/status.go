package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

type statusOptions struct {
	config        *kubeFlags
	allNamespaces bool
	output        string
}

func (p *Plugin) statusCommand() *cobra.Command {
	o := statusOptions{config: newKubeFlags()}
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Print the targets of HealthChecks in the cluster, as the operator last checked them",
		Long: `Print the targets of a HealthCheck, or of every HealthCheck in the namespace,
from its status in the cluster of the kubeconfig: each target's status code,
latency, state, reason and last transition, then the summary of the last round.
With -o json, a fanned-out target (spec fanOut) also carries "backends" (its
backends counted by state) and "failingBackends" (the failing ones that status
names: at most 16 per target, 256 per HealthCheck).

Exit status: 0 when no target is Down, 1 when any is, 2 for bad usage or when
the cluster cannot be read.`,
		Example: `  # One HealthCheck in the current namespace
  kubectl healthcheck status public-sites

  # Every HealthCheck in every namespace, as JSON lines
  kubectl healthcheck status -A -o json

  # Another cluster and namespace
  kubectl healthcheck status --context staging -n monitoring public-sites`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one NAME, got %q", cmd.CommandPath(), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return p.status(cmd.Context(), o, args)
		},
	}
	o.config.addFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the HealthChecks of every namespace")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "output format: json (one object a line) or csv; the table when unset")
	return cmd
}

func (p *Plugin) status(ctx context.Context, o statusOptions, args []string) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	if o.allNamespaces && len(args) > 0 {
		return usagef("a NAME cannot be combined with --all-namespaces")
	}
	items, err := o.fetch(ctx, args)
	if err != nil {
		return failed(err)
	}
	if len(items) == 0 {
		_, _ = fmt.Fprintln(p.Streams.ErrOut, "No HealthChecks found.")
		return nil
	}

	now := p.Clock.Now()
	out := newReporter(o.output, p.Streams.Out, true, now)
	down := false
	for i := range items {
		rows, s := statusReport(&items[i])
		down = down || s.Down > 0
		if err := writeReport(out, reportHeader{healthCheck: s.HealthCheck, intro: statusIntro(&items[i], s)}, rows, s); err != nil {
			return failed(fmt.Errorf("writing the report: %w", err))
		}
	}
	if down {
		return errDown
	}
	return nil
}

// fetch reads the named HealthCheck, or lists them.
func (o statusOptions) fetch(ctx context.Context, args []string) ([]monitoringv1alpha1.HealthCheck, error) {
	c, err := o.config.connect()
	if err != nil {
		return nil, err
	}

	if len(args) == 1 {
		hc, err := c.get(ctx, args[0])
		if err != nil {
			return nil, readError(err, fmt.Sprintf("HealthCheck %q in namespace %q", args[0], c.namespace))
		}
		return []monitoringv1alpha1.HealthCheck{*hc}, nil
	}
	where := "every namespace"
	if !o.allNamespaces {
		where = fmt.Sprintf("namespace %q", c.namespace)
	}
	items, err := c.list(ctx, o.allNamespaces)
	if err != nil {
		return nil, readError(err, "HealthChecks in "+where)
	}
	return items, nil
}

// readError explains the errors a user can act on.
func readError(err error, what string) error {
	switch {
	case errors.Is(err, errNotServed):
		return fmt.Errorf("the cluster does not serve HealthChecks (%s): is the CRD installed?", monitoringv1alpha1.GroupVersion)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s not found", what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// statusReport turns a HealthCheck's status into rows: its targets as the
// operator wrote them, then any target of the spec it has not checked yet.
func statusReport(hc *monitoringv1alpha1.HealthCheck) ([]row, summary) {
	s := summary{HealthCheck: hc.Namespace + "/" + hc.Name, LastRunTime: hc.Status.LastRunTime}
	if hc.Status.LastRunDuration != nil {
		s.Duration = hc.Status.LastRunDuration.Duration
	}
	rows := make([]row, 0, len(hc.Status.Targets))
	seen := make(map[string]bool, len(hc.Status.Targets))
	for _, t := range hc.Status.Targets {
		seen[t.URL] = true
		name := t.Name
		if name == "" {
			name = checker.RedactURL(t.URL)
		}
		rows = append(rows, row{
			HealthCheck:        s.HealthCheck,
			URL:                checker.RedactURL(t.URL),
			Name:               name,
			StatusCode:         int(t.StatusCode),
			LatencyMs:          float64(t.LatencyMs),
			State:              t.State,
			Reason:             string(t.Reason),
			Message:            t.Message,
			Backends:           t.Backends,
			FailingBackends:    failingBackendsIn(t.FailingBackends),
			Source:             t.Source,
			LastTransitionTime: t.LastTransitionTime,
		})
	}
	for _, t := range hc.Spec.Targets {
		if !seen[t.URL] {
			rows = append(rows, row{HealthCheck: s.HealthCheck, URL: checker.RedactURL(t.URL), Name: resolve.DisplayName(t), State: monitoringv1alpha1.StatePending})
		}
	}
	for _, r := range rows {
		s.Count(r.State)
	}
	return rows, s
}

// failingBackendsIn is the failing backends that status names, as the JSON
// report shows them; nil for none.
func failingBackendsIn(backends []monitoringv1alpha1.BackendStatus) []failingBackend {
	if len(backends) == 0 {
		return nil
	}
	failing := make([]failingBackend, len(backends))
	for i, b := range backends {
		failing[i] = failingBackend{
			Address:    b.Address,
			Pod:        b.Pod,
			Zone:       b.Zone,
			Reason:     string(b.Reason),
			StatusCode: int(b.StatusCode),
			LatencyMs:  float64(b.LatencyMs),
			Message:    b.Message,
		}
	}
	return failing
}

// statusIntro is the line above a status table: what is checked, and how
// available it was once the operator has counted anything.
func statusIntro(hc *monitoringv1alpha1.HealthCheck, s summary) string {
	intro := fmt.Sprintf("Status of %d URLs, checked every %s", s.Total, shortDuration(resolve.Interval(hc.Spec)))
	if hc.Spec.Suspend {
		intro = fmt.Sprintf("Status of %d URLs, suspended", s.Total)
	}
	return intro + availabilityOf(hc.Status.Availability)
}

// availabilityOf words status.availability for the intro, such as "; 99.9731%
// available over 720h, 73.5% of the error budget left"; "" before anything
// was counted.
func availabilityOf(a *monitoringv1alpha1.AvailabilityStatus) string {
	if a == nil || a.Ratio == "" {
		return ""
	}
	text := "; " + a.Ratio + "% available"
	switch {
	case a.Since != nil:
		text += " since " + a.Since.UTC().Format(time.RFC3339)
	case a.Window != nil:
		text += " over " + shortDuration(a.Window.Duration)
	}
	if a.ErrorBudgetRemaining != "" {
		text += ", " + a.ErrorBudgetRemaining + "% of the error budget left"
	}
	return text
}

// shortDuration prints 30s as "30s" and 1m as "1m", not "1m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	for _, unit := range []string{"h0m0s", "m0s"} {
		if len(s) > len(unit) && s[len(s)-len(unit):] == unit {
			return s[:len(s)-len(unit)] + unit[:1]
		}
	}
	return s
}

func writeReport(out reporter, h reportHeader, rows []row, s summary) error {
	if err := out.begin(h); err != nil {
		return err
	}
	for _, r := range rows {
		if err := out.add(r); err != nil {
			return err
		}
	}
	return out.end(s)
}
