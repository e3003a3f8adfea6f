package controllers

import (
	"context"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// A source's object that changes while a discovery lists it (the list may
// have been served before the change) is listed again at the next round: the
// change is not lost under the discovery that was in flight. Without it, a
// steady cluster never lists again, and the changed object's targets never
// come (or never go).
func TestASourceChangeWhileDiscoveryListsIsListedAgain(t *testing.T) {
	ctx := context.Background()
	listing, release := make(chan struct{}), make(chan struct{})
	var lists atomic.Int32
	reader := interceptor.NewClient(fake.NewClientBuilder().Build(), interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if lists.Add(1) == 1 {
				listing <- struct{}{}
				<-release
			}
			return c.List(ctx, list, opts...)
		},
	})
	d := newDiscovery(reader, false)
	hc := &monitoringv1alpha1.HealthCheck{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "shop", Generation: 1},
		Spec: monitoringv1alpha1.HealthCheckSpec{TargetsFrom: []monitoringv1alpha1.TargetSource{
			{Ingresses: &monitoringv1alpha1.ObjectSelector{}},
		}},
	}
	key := client.ObjectKeyFromObject(hc)

	first := make(chan error)
	go func() {
		_, err := d.targets(ctx, hc)
		first <- err
	}()
	<-listing
	d.markStale(key) // an Ingress changed while the first discovery listed
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	if _, err := d.targets(ctx, hc); err != nil {
		t.Fatal(err)
	}
	if n := lists.Load(); n != 2 {
		t.Fatalf("the next round listed %d times in all, want 2: the change during the first list was lost", n)
	}
	// Listed after the change, the discovery is fresh: the round after lists nothing.
	if _, err := d.targets(ctx, hc); err != nil {
		t.Fatal(err)
	}
	if n := lists.Load(); n != 2 {
		t.Fatalf("a steady source was listed again: %d lists", n)
	}
	if len(d.listing) != 0 {
		t.Fatalf("%d discoveries still counted in flight", len(d.listing))
	}
}
