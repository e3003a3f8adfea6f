package bench

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// BenchmarkStatusWrite measures what one status heartbeat of a HealthCheck of
// ten targets costs the API server and etcd: the CPU of the two processes per
// write, and the size of the object they store, decode, validate and send to
// every watcher, with its managedFields. Each write is a JSON merge patch of
// status as the manager sends one on its heartbeat: every target's check time,
// latency and message new, the round's times new. What the two use meanwhile
// when nobody writes is measured after, over as long, and not counted. With
// -scale.apiserver-profile, the API server is profiled over the first 10 s of
// the writes (make them last longer: -benchtime=2000x).
//
//	KUBEBUILDER_ASSETS=$PWD/bin/k8s go test -run='^$' -bench=BenchmarkStatusWrite -benchtime=500x ./test/bench/
func BenchmarkStatusWrite(b *testing.B) {
	ctx := b.Context()
	env := startEnv(b)
	k8s := env.Client

	hc := &monitoringv1alpha1.HealthCheck{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "shop"},
		Spec: monitoringv1alpha1.HealthCheckSpec{Suspend: true}}
	for i := range 10 {
		hc.Spec.Targets = append(hc.Spec.Targets, monitoringv1alpha1.Target{URL: fmt.Sprintf("http://shop-%d.team-a.svc:8080/healthz", i)})
	}
	must(b, k8s.Create(ctx, hc))

	// status is the status after round n: the round's times and each target's
	// check time, latency and message new; states, and when they began, kept.
	start := time.Now()
	since := metav1.NewTime(start.Add(-time.Hour))
	status := func(n int) monitoringv1alpha1.HealthCheckStatus {
		now := metav1.NewTime(start.Add(time.Duration(n) * 10 * time.Second))
		s := monitoringv1alpha1.HealthCheckStatus{
			ObservedGeneration: hc.Generation, LastRunTime: &now, NextRunTime: &now,
			LastRunDuration: &metav1.Duration{Duration: 20 * time.Millisecond},
			Summary:         &monitoringv1alpha1.Summary{Total: 10, Up: 10},
			Conditions: []metav1.Condition{{Type: monitoringv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
				Reason: "Running", Message: "Checking 10 targets every 10s", LastTransitionTime: since}},
		}
		for i, t := range hc.Spec.Targets {
			latency := int64((n+i)%50 + 1)
			s.Targets = append(s.Targets, monitoringv1alpha1.TargetStatus{
				URL: t.URL, State: monitoringv1alpha1.StateUp, StatusCode: 200, Reason: monitoringv1alpha1.CheckOK,
				LatencyMs: latency, Message: fmt.Sprintf("returned 200 in %dms", latency),
				ConsecutiveSuccesses: 3, LastCheckTime: &now, LastTransitionTime: &since,
				Availability: "100", AvailabilityCounts: "AVQIhMEBAQEBAQEBAQEB",
			})
		}
		return s
	}
	write := func(n int) {
		base := hc.DeepCopy()
		hc.Status = status(n)
		must(b, k8s.Status().Patch(ctx, hc, client.MergeFrom(base)))
	}
	write(0)

	apiserver := findProcess("kube-apiserver", "--secure-port="+env.ControlPlane.APIServer.Port)
	etcd := findProcess("etcd", env.ControlPlane.Etcd.URL.String())
	cpu := func() time.Duration {
		var sum time.Duration
		for _, pid := range []int{apiserver, etcd} {
			st, err := readProc(pid)
			must(b, err)
			sum += st.cpu
		}
		return sum
	}
	before, began := cpu(), time.Now()
	b.ResetTimer()
	profiled := profileAPIServer(b, env.Config, *apiProfile, 10*time.Second)
	for i := range b.N {
		write(i + 1)
	}
	b.StopTimer()
	<-profiled
	used, took := cpu()-before, time.Since(began)
	// What the two use when nobody writes (leases, compaction, the API
	// server's own controllers), over as long, is not the writes'.
	before = cpu()
	sleep(ctx, took)
	idle := cpu() - before

	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(monitoringv1alpha1.GroupVersion.WithKind("HealthCheck"))
	must(b, k8s.Get(ctx, types.NamespacedName{Namespace: "default", Name: "shop"}, stored))
	whole, err := json.Marshal(stored.Object)
	must(b, err)
	managed, err := json.Marshal(stored.GetManagedFields())
	must(b, err)
	b.ReportMetric(float64((used-idle).Microseconds())/1000/float64(b.N), "apiserver+etcd-ms/write")
	b.ReportMetric(float64(idle.Microseconds())/1000/took.Seconds(), "idle-apiserver+etcd-ms/s")
	b.ReportMetric(float64(len(whole)), "object-bytes")
	b.ReportMetric(float64(len(managed)), "managedFields-bytes")
	b.ReportMetric(0, "ns/op")
}
