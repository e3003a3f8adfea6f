package availability

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Status returns status.availability at now: the figures over the window, the
// error budget left when there is an objective (o is nil without one), and the
// ledger's counts.
func (l *Ledger) Status(now time.Time, o *Objective) *monitoringv1alpha1.AvailabilityStatus {
	f := l.Figures(now)
	st := &monitoringv1alpha1.AvailabilityStatus{
		Window:      &metav1.Duration{Duration: f.Window},
		Ratio:       f.Ratio(),
		GoodChecks:  f.Good,
		TotalChecks: f.Total,
		Counts:      l.Encode(),
	}
	if f.Since != nil {
		st.Since = &metav1.Time{Time: *f.Since}
	}
	if o != nil {
		st.ErrorBudgetRemaining = f.BudgetRemaining(*o)
	}
	return st
}
