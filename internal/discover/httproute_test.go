package discover_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

// route is an HTTPRoute for hostnames, attached to parents, with rules.
func route(m metav1.ObjectMeta, hostnames []string, parents []gatewayv1.ParentReference, rules ...gatewayv1.HTTPRouteRule) gatewayv1.HTTPRoute {
	r := gatewayv1.HTTPRoute{ObjectMeta: m}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(h))
	}
	r.Spec.ParentRefs = parents
	r.Spec.Rules = rules
	return r
}

// to is a parentRef to the Gateway name; section, when given, names its listener.
func to(name string, section ...string) []gatewayv1.ParentReference {
	ref := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(name)}
	if len(section) > 0 {
		ref.SectionName = ptr.To(gatewayv1.SectionName(section[0]))
	}
	return []gatewayv1.ParentReference{ref}
}

func gateway(name string, listeners ...gatewayv1.Listener) *gatewayv1.Gateway {
	return &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: gatewayv1.GatewaySpec{Listeners: listeners}}
}

// listener is a listener for hostname ("" for any).
func listener(name string, protocol gatewayv1.ProtocolType, port int32, hostname string) gatewayv1.Listener {
	l := gatewayv1.Listener{Name: gatewayv1.SectionName(name), Protocol: protocol, Port: port}
	if hostname != "" {
		l.Hostname = ptr.To(gatewayv1.Hostname(hostname))
	}
	return l
}

var (
	httpAny  = listener("web", gatewayv1.HTTPProtocolType, 80, "")
	httpsAny = listener("websecure", gatewayv1.HTTPSProtocolType, 443, "")
)

func match(kind gatewayv1.PathMatchType, value string) gatewayv1.HTTPRouteMatch {
	return gatewayv1.HTTPRouteMatch{Path: &gatewayv1.HTTPPathMatch{Type: ptr.To(kind), Value: ptr.To(value)}}
}

func TestFromHTTPRoutes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		routes   []gatewayv1.HTTPRoute
		gateways []*gatewayv1.Gateway
		want     []string
		notes    []string
	}{{
		name:     "an HTTPS listener gives https",
		routes:   []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("public"))},
		gateways: []*gatewayv1.Gateway{gateway("public", httpsAny)},
		want:     []string{"https://api.example.com/ from HTTPRoute/api"},
	}, {
		name:     "an HTTP listener gives http",
		routes:   []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("public"))},
		gateways: []*gatewayv1.Gateway{gateway("public", httpAny)},
		want:     []string{"http://api.example.com/ from HTTPRoute/api"},
	}, {
		name:     "HTTPS wins over HTTP on one Gateway",
		routes:   []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("public"))},
		gateways: []*gatewayv1.Gateway{gateway("public", httpAny, httpsAny)},
		want:     []string{"https://api.example.com/ from HTTPRoute/api"},
	}, {
		name:     "sectionName picks the listener",
		routes:   []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("public", "web"))},
		gateways: []*gatewayv1.Gateway{gateway("public", httpAny, httpsAny)},
		want:     []string{"http://api.example.com/ from HTTPRoute/api"},
	}, {
		name:   "the listener's hostname must admit the route's: equal, under its wildcard, or none",
		routes: []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com", "a.b.example.com", "example.com", "shop.example.org"}, to("public"))},
		gateways: []*gatewayv1.Gateway{gateway("public",
			listener("l1", gatewayv1.HTTPSProtocolType, 443, "*.example.com"),
			listener("l2", gatewayv1.HTTPSProtocolType, 443, "shop.example.org"),
			listener("l3", gatewayv1.HTTPSProtocolType, 443, "other.example.net"),
			httpAny)},
		want: []string{
			"https://api.example.com/ from HTTPRoute/api",
			"https://a.b.example.com/ from HTTPRoute/api",
			"http://example.com/ from HTTPRoute/api",
			"https://shop.example.org/ from HTTPRoute/api",
		},
	}, {
		name:   "a Gateway that cannot be read means https",
		routes: []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("missing"))},
		want:   []string{"https://api.example.com/ from HTTPRoute/api"},
	}, {
		name:     "a read Gateway with no listener for the host means http",
		routes:   []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("public"))},
		gateways: []*gatewayv1.Gateway{gateway("public", listener("l4", gatewayv1.HTTPSProtocolType, 443, "shop.example.com"))},
		want:     []string{"http://api.example.com/ from HTTPRoute/api"},
	}, {
		name: "the Gateway is looked up in the parentRef's namespace: infra/public is missing, so https",
		routes: []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"},
			[]gatewayv1.ParentReference{{Name: "public", Namespace: ptr.To(gatewayv1.Namespace("infra"))}})},
		gateways: []*gatewayv1.Gateway{gateway("public", httpAny)},
		want:     []string{"https://api.example.com/ from HTTPRoute/api"},
	}, {
		name:     "a listener's port other than the scheme's is in the URL",
		routes:   []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com"}, to("public"))},
		gateways: []*gatewayv1.Gateway{gateway("public", listener("l5", gatewayv1.HTTPSProtocolType, 8443, ""))},
		want:     []string{"https://api.example.com:8443/ from HTTPRoute/api"},
	}, {
		name: "one target per hostname and PathPrefix or Exact match; no matches or no path is /",
		routes: []gatewayv1.HTTPRoute{route(object("api"), []string{"api.example.com", "www.example.com"}, to("public"),
			gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{
				match(gatewayv1.PathMatchPathPrefix, "/v1"),
				match(gatewayv1.PathMatchExact, "/v1/health"),
				match(gatewayv1.PathMatchRegularExpression, "/v[0-9]+"),
				{Path: &gatewayv1.HTTPPathMatch{Value: ptr.To("/default-type")}},
			}},
			gatewayv1.HTTPRouteRule{},
			gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{{Method: ptr.To(gatewayv1.HTTPMethodGet)}}})},
		gateways: []*gatewayv1.Gateway{gateway("public", httpsAny)},
		want: []string{
			"https://api.example.com/v1 from HTTPRoute/api",
			"https://api.example.com/v1/health from HTTPRoute/api",
			"https://api.example.com/default-type from HTTPRoute/api",
			"https://api.example.com/ from HTTPRoute/api",
			"https://www.example.com/v1 from HTTPRoute/api",
			"https://www.example.com/v1/health from HTTPRoute/api",
			"https://www.example.com/default-type from HTTPRoute/api",
			"https://www.example.com/ from HTTPRoute/api",
		},
		notes: []string{"HTTPRoute/api: rule 1 match 3 has a RegularExpression path, left out"},
	}, {
		name: "routes without hostnames, and wildcard hostnames, are left out and said so",
		routes: []gatewayv1.HTTPRoute{
			route(object("any"), nil, to("public")),
			route(object("api"), []string{"*.example.com", "api.example.com"}, to("public")),
		},
		gateways: []*gatewayv1.Gateway{gateway("public", httpsAny)},
		want:     []string{"https://api.example.com/ from HTTPRoute/api"},
		notes: []string{
			"HTTPRoute/any: no hostnames, left out",
			"HTTPRoute/api: wildcard hostname *.example.com, left out",
		},
	}, {
		name: "the path annotation replaces the matches; ignored routes are left out",
		routes: []gatewayv1.HTTPRoute{
			route(annotated(object("api"), monitoringv1alpha1.PathAnnotation, "/healthz"), []string{"api.example.com"}, to("public"),
				gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{match(gatewayv1.PathMatchPathPrefix, "/v1"), match(gatewayv1.PathMatchRegularExpression, ".*")}}),
			route(annotated(object("old"), monitoringv1alpha1.IgnoreAnnotation, "true"), []string{"old.example.com"}, to("public")),
			route(metav1.ObjectMeta{Name: "unselected", Namespace: "ns"}, []string{"other.example.com"}, to("public")),
		},
		gateways: []*gatewayv1.Gateway{gateway("public", httpsAny)},
		want:     []string{"https://api.example.com/healthz from HTTPRoute/api"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(namespace, name string) *gatewayv1.Gateway {
				for _, gw := range tc.gateways {
					if gw.Namespace == namespace && gw.Name == name {
						return gw
					}
				}
				return nil
			}
			src := monitoringv1alpha1.TargetSource{HTTPRoutes: &monitoringv1alpha1.ObjectSelector{Selector: selected}}
			targets, notes := discover.FromHTTPRoutes(src, tc.routes, lookup)
			expect(t, "targets", listed(targets), tc.want)
			expect(t, "notes", notes, tc.notes)
		})
	}
}
