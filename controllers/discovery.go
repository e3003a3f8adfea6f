package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;gateways,verbs=get;list;watch

// sourceKind is a kind of object spec.targetsFrom reads.
type sourceKind string

const (
	kindIngress   sourceKind = "Ingress"
	kindService   sourceKind = "Service"
	kindHTTPRoute sourceKind = "HTTPRoute"
	// kindGateway is read for the HTTPRoutes whose parent it is.
	kindGateway sourceKind = "Gateway"
)

// httpRouteKind is what the Gateway API CRDs serve, if installed.
var httpRouteKind = schema.GroupKind{Group: gatewayv1.GroupName, Kind: "HTTPRoute"}

// field is the field of spec.targetsFrom whose sources read objects of kind.
func (kind sourceKind) field() string {
	switch kind {
	case kindIngress:
		return discover.FieldIngresses
	case kindService:
		return discover.FieldServices
	}
	return discover.FieldHTTPRoutes // HTTPRoutes and their Gateways
}

// discovery lists what a HealthCheck's sources select, when a round starts.
//
// Objects are listed straight from the API server, in the HealthCheck's
// namespace and with the source's selector, so the operator caches no full
// Ingress, Service or HTTPRoute. What it does cache is their metadata, through
// watches whose events mark the HealthChecks that select the object as stale
// (and make their next round due at once); a HealthCheck's last answer is
// reused until then, so a steady cluster costs no list per round.
type discovery struct {
	reader client.Reader
	// gatewayAPI tells whether the cluster served HTTPRoutes when the operator
	// started; without it httpRoutes sources are unavailable.
	gatewayAPI bool

	mu   sync.Mutex
	last map[types.NamespacedName]discovered
	// listing are the HealthChecks whose discovery is in flight. A change of
	// a source's object that comes in meanwhile (markStale) may be missing
	// from what is being listed, so that discovery ends stale.
	listing map[types.NamespacedName]*listing
}

// listing is the discovery of one HealthCheck in flight (more than one when a
// round and the reconciler resolve it at once).
type listing struct {
	inFlight int
	// changes counts the source changes seen since the first began.
	changes uint64
}

// discovered is a HealthCheck's last discovery.
type discovered struct {
	generation int64
	stale      bool
	result     discover.Result
	// unavailable says which sources could not be read, one line each.
	unavailable []string
}

func newDiscovery(reader client.Reader, gatewayAPI bool) *discovery {
	return &discovery{reader: reader, gatewayAPI: gatewayAPI,
		last: map[types.NamespacedName]discovered{}, listing: map[types.NamespacedName]*listing{}}
}

// servesHTTPRoutes tells whether the cluster serves gateway.networking.k8s.io/v1 HTTPRoutes.
func servesHTTPRoutes(mapper meta.RESTMapper) (bool, error) {
	_, err := mapper.RESTMapping(httpRouteKind, gatewayv1.GroupVersion.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("looking up the Gateway API's HTTPRoute: %w", err)
}

// targets is hc's spec targets followed by what its sources discover, merged
// and bounded (discover.Merge), and the sources that could not be read. When
// listing fails, the last discovery of the same spec stands in, still stale.
func (d *discovery) targets(ctx context.Context, hc *monitoringv1alpha1.HealthCheck) (discovered, error) {
	if len(hc.Spec.TargetsFrom) == 0 {
		// Nothing to list: nothing kept either, since a copy of every
		// HealthCheck's targets would be most of its memory.
		return discovered{generation: hc.Generation, result: discover.Merge(hc.Spec.Targets, nil)}, nil
	}
	key := client.ObjectKeyFromObject(hc)
	d.mu.Lock()
	last, ok := d.last[key]
	if ok && !last.stale && last.generation == hc.Generation {
		d.mu.Unlock()
		return last, nil
	}
	l := d.listing[key]
	if l == nil {
		l = &listing{}
		d.listing[key] = l
	}
	l.inFlight++
	changes := l.changes
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if l.inFlight--; l.inFlight == 0 {
			delete(d.listing, key)
		}
		d.mu.Unlock()
	}()
	next := discovered{generation: hc.Generation}
	var found []discover.Target
	for i, src := range hc.Spec.TargetsFrom {
		targets, notes, unavailable, err := d.source(ctx, hc.Namespace, i, src)
		if err != nil && ok && last.generation == hc.Generation {
			// The API server is away: the round runs with what the sources
			// selected last, and they are listed again next round.
			ctrl.LoggerFrom(ctx).Error(err, "Listing a source failed; checking what it selected last")
			return last, nil
		}
		if err != nil {
			return discovered{}, err
		}
		found = append(found, targets...)
		next.result.Notes = append(next.result.Notes, notes...)
		if unavailable != "" {
			next.unavailable = append(next.unavailable, unavailable)
		}
	}
	merged := discover.Merge(hc.Spec.Targets, found)
	merged.Notes = append(next.result.Notes, merged.Notes...)
	next.result = merged
	d.mu.Lock()
	// A source's object that changed while it was listed is listed again
	// next round: the list may have been served before the change.
	next.stale = l.changes != changes
	d.last[key] = next
	d.mu.Unlock()
	return next, nil
}

// source lists what one source selects. unavailable, when set, says why the
// source cannot be read; an error is a failed API call, retried.
func (d *discovery) source(ctx context.Context, namespace string, i int, src monitoringv1alpha1.TargetSource) (targets []discover.Target, notes []string, unavailable string, err error) {
	field := fmt.Sprintf("targetsFrom[%d]", i)
	list := func(list client.ObjectList, sel monitoringv1alpha1.BoundedLabelSelector, what string) (bool, error) {
		selector, err := discover.Selector(sel)
		if err != nil {
			unavailable = fmt.Sprintf("%s.%s.selector: %v", field, what, err)
			return false, nil
		}
		if err := d.reader.List(ctx, list, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
			if apierrors.IsForbidden(err) || meta.IsNoMatchError(err) {
				unavailable = fmt.Sprintf("%s.%s: %v", field, what, err)
				return false, nil
			}
			return false, fmt.Errorf("listing %s of %s: %w", what, field, err)
		}
		return true, nil
	}
	what, sel := discover.Describe(src)
	switch what {
	case discover.FieldIngresses:
		var items networkingv1.IngressList
		if ok, err := list(&items, sel, what); !ok {
			return nil, nil, unavailable, err
		}
		targets, notes = discover.FromIngresses(src, items.Items)
	case discover.FieldServices:
		var items corev1.ServiceList
		if ok, err := list(&items, sel, what); !ok {
			return nil, nil, unavailable, err
		}
		targets, notes = discover.FromServices(src, items.Items)
	case discover.FieldHTTPRoutes:
		if !d.gatewayAPI {
			return nil, nil, field + ".httpRoutes: the Gateway API CRDs (gateway.networking.k8s.io/v1 HTTPRoute) are not installed", nil
		}
		var items gatewayv1.HTTPRouteList
		if ok, err := list(&items, sel, what); !ok {
			return nil, nil, unavailable, err
		}
		targets, notes = discover.FromHTTPRoutes(src, items.Items, d.gatewayOf(ctx, namespace))
	}
	return targets, notes, "", nil
}

// gatewayOf reads the parent Gateways of HTTPRoutes, each once; nil for one
// that cannot be read, and for one in another namespace, which is never read.
func (d *discovery) gatewayOf(ctx context.Context, namespace string) func(ns, name string) *gatewayv1.Gateway {
	read := map[string]*gatewayv1.Gateway{}
	return func(ns, name string) *gatewayv1.Gateway {
		if ns != namespace {
			return nil
		}
		if gw, ok := read[name]; ok {
			return gw
		}
		gw := &gatewayv1.Gateway{}
		if err := d.reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, gw); err != nil {
			gw = nil
		}
		read[name] = gw
		return gw
	}
}

// lastOf is a HealthCheck's last discovery, without discovering.
func (d *discovery) lastOf(key types.NamespacedName) discovered {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last[key]
}

// forget drops a HealthCheck's last discovery.
func (d *discovery) forget(key types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.last, key)
}

// markStale makes the next round of key discover again, and a discovery of
// key in flight, whose lists may predate the change, stale when it ends.
func (d *discovery) markStale(key types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l := d.listing[key]; l != nil {
		l.changes++
	}
	if last, ok := d.last[key]; ok {
		last.stale = true
		d.last[key] = last
	}
}

// readiness is what the Ready condition says of discovery: False with
// SourceUnavailable when a source cannot be read, else a note to append to
// the Running message (what was left out), which may be empty.
func (d discovered) readiness() (unavailable bool, message string) {
	var parts []string
	parts = append(parts, d.unavailable...)
	if d.result.LeftOut > 0 {
		parts = append(parts, fmt.Sprintf("%d discovered targets left out, past the bound of %d targets (or of %d characters of URLs)",
			d.result.LeftOut, monitoringv1alpha1.MaxTargets, monitoringv1alpha1.MaxTotalURLLength))
	}
	parts = append(parts, d.result.Notes...)
	return len(d.unavailable) > 0, strings.Join(parts, "; ")
}

// sourceHandler maps an event on an object that sources may read to the
// HealthChecks of its namespace whose sources of that kind select it (before
// or after a relabelling): their discovery is stale and their next round due
// at once, so a new target is checked, and a removed one leaves status, within
// seconds.
func (r *HealthCheckReconciler) sourceHandler(kind sourceKind) handler.EventHandler {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		for _, req := range r.healthChecksSelecting(ctx, kind, objs...) {
			q.Add(req)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
	}
}

// healthChecksSelecting lists the HealthChecks this shard owns in the objects'
// namespace with a source of kind that selects one of objs (a Gateway counts
// for every httpRoutes source), marks their discovery stale and their next
// round due.
func (r *HealthCheckReconciler) healthChecksSelecting(ctx context.Context, kind sourceKind, objs ...client.Object) []reconcile.Request {
	if len(objs) == 0 {
		return nil
	}
	var list monitoringv1alpha1.HealthCheckList
	if err := r.List(ctx, &list, client.InNamespace(objs[0].GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing HealthChecks for a change of a source object", "kind", kind)
		return nil
	}
	var requests []reconcile.Request
	for i := range list.Items {
		hc := &list.Items[i]
		if !r.Shard.Owns(hc.Namespace, hc.Name) || !selectsAny(hc.Spec.TargetsFrom, kind, objs) {
			continue
		}
		key := client.ObjectKeyFromObject(hc)
		r.discovery.markStale(key)
		r.rounds.requestNow(key)
		requests = append(requests, reconcile.Request{NamespacedName: key})
	}
	return requests
}

// selectsAny tells whether a source of kind selects one of objs by its labels.
func selectsAny(sources []monitoringv1alpha1.TargetSource, kind sourceKind, objs []client.Object) bool {
	for _, src := range sources {
		field, selector := discover.Describe(src)
		if field != kind.field() {
			continue
		}
		if kind == kindGateway {
			return true
		}
		sel, err := discover.Selector(selector)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(objs, func(o client.Object) bool { return sel.Matches(labels.Set(o.GetLabels())) }) {
			return true
		}
	}
	return false
}

// metadataOf is an empty object of kind for a metadata-only watch.
func metadataOf(kind sourceKind) *metav1.PartialObjectMetadata {
	gvk := map[sourceKind]schema.GroupVersionKind{
		kindIngress:   networkingv1.SchemeGroupVersion.WithKind("Ingress"),
		kindService:   corev1.SchemeGroupVersion.WithKind("Service"),
		kindHTTPRoute: schema.GroupVersion(gatewayv1.GroupVersion).WithKind("HTTPRoute"),
		kindGateway:   schema.GroupVersion(gatewayv1.GroupVersion).WithKind("Gateway"),
	}[kind]
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(gvk)
	return obj
}
