package discover

import (
	"net/url"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// FromHTTPRoutes gives the targets of the HTTPRoutes that src.HTTPRoutes
// selects among items, in the order of their names: one per hostname and
// PathPrefix or Exact path match, where a rule without matches, or a match
// without a path, means "/". RegularExpression matches, routes without
// hostnames and wildcard hostnames are left out and noted.
//
// The scheme and port are those of the listeners of the route's parent
// Gateways that serve the hostname (honouring a parentRef's sectionName and
// port): https when one of them is HTTPS, else http when one is HTTP. When
// none is, https if a parent is not a Gateway that gateway returns (nil means
// it cannot be read) or the route has no parents, else http. A port other
// than the scheme's own is written in the URL. items may hold objects the
// source does not select.
func FromHTTPRoutes(src monitoringv1alpha1.TargetSource, items []gatewayv1.HTTPRoute, gateway func(namespace, name string) *gatewayv1.Gateway) ([]Target, []string) {
	if src.HTTPRoutes == nil {
		return nil, nil
	}
	var n notes
	sel, err := Selector(src.HTTPRoutes.Selector)
	if err != nil {
		n.add("httpRoutes.selector: %v", err)
		return nil, n.list()
	}
	var f found
	for _, route := range byName(items) {
		s := sourceOf(kindHTTPRoute, &route.ObjectMeta)
		if !s.selected(sel) {
			continue
		}
		override, set := s.pathOverride(&n)
		if set && override == nil {
			continue
		}
		if len(route.Spec.Hostnames) == 0 {
			n.add("%s: no hostnames, left out", s.name)
			continue
		}
		refs := []*url.URL{override}
		if override == nil {
			refs = routePaths(s, route.Spec.Rules, &n)
		}
		parents := parentsOf(route, gateway)
		for _, h := range route.Spec.Hostnames {
			host := string(h)
			if wildcard(host) {
				n.add("%s: wildcard hostname %s, left out", s.name, host)
				continue
			}
			scheme, port := parents.endpoint(host)
			for _, ref := range refs {
				f.add(s.target(targetURL(scheme, host, port, ref), src.Template))
			}
		}
	}
	return f.targets, n.list()
}

// routePaths are the paths of a route's PathPrefix and Exact matches, in
// order; a route without rules, as the API server defaults it, matches "/".
func routePaths(s source, rules []gatewayv1.HTTPRouteRule, n *notes) []*url.URL {
	if len(rules) == 0 {
		return []*url.URL{objectPath("/")}
	}
	var refs []*url.URL
	for i, rule := range rules {
		if len(rule.Matches) == 0 {
			refs = append(refs, objectPath("/"))
		}
		for j, m := range rule.Matches {
			if m.Path == nil {
				refs = append(refs, objectPath("/"))
				continue
			}
			kind := gatewayv1.PathMatchPathPrefix
			if m.Path.Type != nil {
				kind = *m.Path.Type
			}
			if kind != gatewayv1.PathMatchPathPrefix && kind != gatewayv1.PathMatchExact {
				n.add("%s: rule %d match %d has a %s path, left out", s.name, i+1, j+1, kind)
				continue
			}
			value := "/"
			if m.Path.Value != nil {
				value = *m.Path.Value
			}
			refs = append(refs, objectPath(value))
		}
	}
	return refs
}

// parents are the Gateways a route is attached to, as far as they can be read.
type parents struct {
	read []parent
	// unread tells whether a parent is not a Gateway that could be read, or
	// whether the route has no parent at all.
	unread bool
}

// parent is a Gateway and the part of it that a parentRef names.
type parent struct {
	gateway *gatewayv1.Gateway
	section gatewayv1.SectionName
	port    gatewayv1.PortNumber
}

func parentsOf(route *gatewayv1.HTTPRoute, gateway func(namespace, name string) *gatewayv1.Gateway) parents {
	p := parents{unread: len(route.Spec.ParentRefs) == 0}
	for _, ref := range route.Spec.ParentRefs {
		if (ref.Group != nil && *ref.Group != gatewayv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
			p.unread = true
			continue
		}
		namespace := route.Namespace
		if ref.Namespace != nil {
			namespace = string(*ref.Namespace)
		}
		var gw *gatewayv1.Gateway
		if gateway != nil {
			gw = gateway(namespace, string(ref.Name))
		}
		if gw == nil {
			p.unread = true
			continue
		}
		next := parent{gateway: gw}
		if ref.SectionName != nil {
			next.section = *ref.SectionName
		}
		if ref.Port != nil {
			next.port = *ref.Port
		}
		p.read = append(p.read, next)
	}
	return p
}

// endpoint is the scheme, and the port when not the scheme's own, at which
// the parents serve host (see FromHTTPRoutes). Among the listeners that serve
// it, HTTPS wins over HTTP, then the scheme's own port, then the first.
func (p parents) endpoint(host string) (scheme string, port int32) {
	rank := func(scheme string, port int32) int {
		r := 0
		if scheme == "https" {
			r += 2
		}
		if port == defaultPort[scheme] {
			r++
		}
		return r
	}
	best := -1
	for _, parent := range p.read {
		for _, l := range parent.gateway.Spec.Listeners {
			if (parent.section != "" && l.Name != parent.section) || (parent.port != 0 && l.Port != parent.port) {
				continue
			}
			var s string
			switch l.Protocol {
			case gatewayv1.HTTPSProtocolType:
				s = "https"
			case gatewayv1.HTTPProtocolType:
				s = "http"
			default:
				continue
			}
			if !listenerServes(l.Hostname, host) {
				continue
			}
			if r := rank(s, l.Port); r > best {
				best, scheme, port = r, s, l.Port
			}
		}
	}
	switch {
	case best >= 0:
		if port == defaultPort[scheme] {
			port = 0
		}
		return scheme, port
	case p.unread:
		return "https", 0
	}
	return "http", 0
}

// defaultPort is the port of a URL of each scheme that names none; tcp, tls,
// grpc and grpcs URLs must name one.
var defaultPort = map[string]int32{"http": 80, "https": 443}

// listenerServes tells whether a listener's hostname admits host: any host
// when it has none; else the same host, or, for a wildcard such as
// *.example.com, any host under it (the Gateway API's suffix match:
// a.example.com and a.b.example.com, not example.com).
func listenerServes(listener *gatewayv1.Hostname, host string) bool {
	if listener == nil || *listener == "" {
		return true
	}
	l := string(*listener)
	if suffix, ok := strings.CutPrefix(l, "*"); ok {
		return len(host) > len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix)
	}
	return strings.EqualFold(l, host)
}
