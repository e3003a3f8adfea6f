package controllers

import (
	"fmt"
	"strings"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// backendsDown is what a HealthCheck's last round found of its fanned-out
// targets' backends: by target URL, the addresses of the backends that were
// Down. Status names at most MaxFailingBackends of them per target, so the
// reconciler keeps the whole set to tell which backends enter or leave Down;
// after a restart it starts again from status (see downBefore).
type backendsDown map[string]map[string]bool

// downBefore is the set of target's backends that were Down before this
// round: what the last round in this process found, else what prev, its
// status, names. When status could not name them all, a backend that is
// Down now and not named counts as Down before too, so that a restart never
// announces an old failure as new. complete is false in that case.
func (d backendsDown) downBefore(url string, prev monitoringv1alpha1.TargetStatus) (down map[string]bool, complete bool) {
	if known, ok := d[url]; ok {
		return known, true
	}
	down = map[string]bool{}
	for _, b := range prev.FailingBackends {
		down[b.Address] = true
	}
	return down, prev.Backends == nil || int(prev.Backends.Down) <= len(prev.FailingBackends)
}

// backendChanges are the backends of one target that entered or left Down in
// a round, in address order.
type backendChanges struct {
	down, recovered []monitoringv1alpha1.BackendStatus
}

// recordBackends records a fanned-out target's backends in its status: the
// counts by state, and every failing backend in address order (status keeps
// only a share of them, see shareFailingBackends). It returns the failing
// backends, and the backends that entered or left Down since before, which
// it updates to this round's set. A target that is not fanned out, or that
// had no backend to check, has no backends in status.
func recordBackends(next *monitoringv1alpha1.TargetStatus, res resolve.Result, before map[string]bool, complete bool) (failing []monitoringv1alpha1.BackendStatus, changes backendChanges, after map[string]bool) {
	next.Backends, next.FailingBackends = nil, nil
	if len(res.Backends) == 0 {
		return nil, backendChanges{}, nil
	}
	after = map[string]bool{}
	for _, b := range res.Backends {
		status := backendStatus(b)
		switch {
		case !b.Healthy():
			failing = append(failing, status)
			after[status.Address] = true
			if !before[status.Address] && complete {
				changes.down = append(changes.down, status)
			}
		case before[status.Address]:
			changes.recovered = append(changes.recovered, status)
		}
	}
	next.Backends = res.BackendCounts()
	return failing, changes, after
}

// backendStatus is a backend's check as status records it, each field cut to
// its bound.
func backendStatus(b resolve.BackendResult) monitoringv1alpha1.BackendStatus {
	return monitoringv1alpha1.BackendStatus{
		Address:    monitoringv1alpha1.Truncate(b.Backend.Address.String(), monitoringv1alpha1.MaxBackendAddressLength),
		Pod:        monitoringv1alpha1.Truncate(b.Backend.Pod, monitoringv1alpha1.MaxBackendPodLength),
		Zone:       monitoringv1alpha1.Truncate(b.Backend.Zone, monitoringv1alpha1.MaxBackendZoneLength),
		Reason:     monitoringv1alpha1.CheckReason(b.Result.Reason),
		StatusCode: int32(b.Result.StatusCode),
		LatencyMs:  b.Result.Latency.Milliseconds(),
		Message:    monitoringv1alpha1.Truncate(b.Result.Message, monitoringv1alpha1.MaxBackendMessageLength),
	}
}

// shareFailingBackends decides how many failing backends each target's
// status names: as many as fit MaxFailingBackendsTotal across the
// HealthCheck, and at most MaxFailingBackends per target, shared out level by
// level (one for every target that has one, then a second, ...) so that a
// few targets with many failing backends never crowd the others out. Where
// a level does not fit whole, the targets earlier in failing's order get
// their share. It returns the number for each target, aligned with failing.
func shareFailingBackends(failing [][]monitoringv1alpha1.BackendStatus) []int {
	shares := make([]int, len(failing))
	room := monitoringv1alpha1.MaxFailingBackendsTotal
	for level := 1; level <= monitoringv1alpha1.MaxFailingBackends && room > 0; level++ {
		for i, f := range failing {
			if len(f) >= level && room > 0 {
				shares[i] = level
				room--
			}
		}
	}
	return shares
}

// backendNames names backends in an event's note, each with its evidence,
// "pod web-1 (10.0.0.5, zone b): returned 503 in 3ms", at most
// maxNamedBackends of them, then how many more.
func backendNames(backends []monitoringv1alpha1.BackendStatus) string {
	const maxNamedBackends = 5
	named := make([]string, 0, min(len(backends), maxNamedBackends)+1)
	for _, b := range backends[:min(len(backends), maxNamedBackends)] {
		named = append(named, backendName(b)+": "+b.Message)
	}
	if more := len(backends) - maxNamedBackends; more > 0 {
		named = append(named, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(named, "; ")
}

// backendName names one backend by its pod (or address) and zone.
func backendName(b monitoringv1alpha1.BackendStatus) string {
	return discover.BackendName(b.Address, b.Pod, b.Zone)
}

// backendsNote is the note of a BackendDown or BackendRecovered event: the
// target, then each backend with its evidence, "web: backend pod web-1
// (10.0.0.5, zone b) went Down: returned 503 in 3ms".
func backendsNote(target string, backends []monitoringv1alpha1.BackendStatus, what string) string {
	if len(backends) == 1 {
		b := backends[0]
		return fmt.Sprintf("%s: backend %s %s: %s", target, backendName(b), what, b.Message)
	}
	return fmt.Sprintf("%s: %d backends %s: %s", target, len(backends), what, backendNames(backends))
}
