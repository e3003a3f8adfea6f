package discover

import (
	"net/url"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// FromIngresses gives the targets of the Ingresses that src.Ingresses selects
// among items, in the order of their names: one per rule host and path,
// https://HOST/PATH when the host is among the Ingress's tls hosts (or under
// one of its wildcards, such as *.example.com), else http://HOST/PATH. A rule
// without paths has the path "/". Rules without a host, and with a wildcard
// host, are left out and noted. items may hold objects the source does not
// select.
func FromIngresses(src monitoringv1alpha1.TargetSource, items []networkingv1.Ingress) ([]Target, []string) {
	if src.Ingresses == nil {
		return nil, nil
	}
	var n notes
	sel, err := Selector(src.Ingresses.Selector)
	if err != nil {
		n.add("ingresses.selector: %v", err)
		return nil, n.list()
	}
	var f found
	for _, ing := range byName(items) {
		s := sourceOf(kindIngress, &ing.ObjectMeta)
		if !s.selected(sel) {
			continue
		}
		override, set := s.pathOverride(&n)
		if set && override == nil {
			continue
		}
		if len(ing.Spec.Rules) == 0 {
			n.add("%s: no rules, only a default backend, left out", s.name)
			continue
		}
		for i, rule := range ing.Spec.Rules {
			switch {
			case rule.Host == "":
				n.add("%s: rule %d has no host, left out", s.name, i+1)
				continue
			case wildcard(rule.Host):
				n.add("%s: rule %d has wildcard host %s, left out", s.name, i+1, rule.Host)
				continue
			}
			scheme := "http"
			if tlsCovers(ing.Spec.TLS, rule.Host) {
				scheme = "https"
			}
			for _, ref := range rulePaths(rule, override) {
				f.add(s.target(targetURL(scheme, rule.Host, 0, ref), src.Template))
			}
		}
	}
	return f.targets, n.list()
}

// rulePaths are the paths of a rule, "/" when it has none, or the override alone.
func rulePaths(rule networkingv1.IngressRule, override *url.URL) []*url.URL {
	if override != nil {
		return []*url.URL{override}
	}
	if rule.HTTP == nil || len(rule.HTTP.Paths) == 0 {
		return []*url.URL{objectPath("/")}
	}
	refs := make([]*url.URL, 0, len(rule.HTTP.Paths))
	for _, p := range rule.HTTP.Paths {
		refs = append(refs, objectPath(p.Path))
	}
	return refs
}

// tlsCovers tells whether host is among the tls hosts, or under one of their
// wildcards: *.example.com covers shop.example.com, as a certificate would,
// but neither example.com nor a.shop.example.com.
func tlsCovers(tls []networkingv1.IngressTLS, host string) bool {
	for _, t := range tls {
		for _, h := range t.Hosts {
			if strings.EqualFold(h, host) {
				return true
			}
			if suffix, ok := strings.CutPrefix(h, "*"); ok && strings.HasPrefix(suffix, ".") {
				label, rest, found := strings.Cut(host, ".")
				if found && label != "" && strings.EqualFold("."+rest, suffix) {
					return true
				}
			}
		}
	}
	return false
}
