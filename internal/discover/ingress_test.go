package discover_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

func ingress(m metav1.ObjectMeta, tlsHosts []string, rules ...networkingv1.IngressRule) networkingv1.Ingress {
	ing := networkingv1.Ingress{ObjectMeta: m, Spec: networkingv1.IngressSpec{Rules: rules}}
	if tlsHosts != nil {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: tlsHosts, SecretName: "cert"}}
	}
	return ing
}

// rule is a rule for host with paths, or without http at all when none is given.
func rule(host string, paths ...string) networkingv1.IngressRule {
	r := networkingv1.IngressRule{Host: host}
	if len(paths) == 0 {
		return r
	}
	r.HTTP = &networkingv1.HTTPIngressRuleValue{}
	for _, p := range paths {
		r.HTTP.Paths = append(r.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p})
	}
	return r
}

func TestFromIngresses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		selector  monitoringv1alpha1.BoundedLabelSelector
		ingresses []networkingv1.Ingress
		want      []string
		notes     []string
	}{{
		name: "a host among the tls hosts is https, another http, one target per path",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), []string{"shop.example.com"},
			rule("shop.example.com", "/", "/api"), rule("blog.example.com", "/blog"))},
		want: []string{
			"https://shop.example.com/ from Ingress/shop",
			"https://shop.example.com/api from Ingress/shop",
			"http://blog.example.com/blog from Ingress/shop",
		},
	}, {
		name:      "a tls wildcard covers the hosts one label under it",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), []string{"*.example.com"}, rule("a.example.com"), rule("a.b.example.com"), rule("example.com"))},
		want:      []string{"https://a.example.com/ from Ingress/shop", "http://a.b.example.com/ from Ingress/shop", "http://example.com/ from Ingress/shop"},
	}, {
		name: "a rule without http, without paths or with an empty path checks /",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), nil,
			rule("a.example.com"),
			networkingv1.IngressRule{Host: "b.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}},
			rule("c.example.com", ""))},
		want: []string{"http://a.example.com/ from Ingress/shop", "http://b.example.com/ from Ingress/shop", "http://c.example.com/ from Ingress/shop"},
	}, {
		name:      "wildcard hosts and rules without a host are left out and said so",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), nil, rule("shop.example.com", "/"), rule("*.example.com", "/"), rule("", "/"))},
		want:      []string{"http://shop.example.com/ from Ingress/shop"},
		notes: []string{
			"Ingress/shop: rule 2 has wildcard host *.example.com, left out",
			"Ingress/shop: rule 3 has no host, left out",
		},
	}, {
		name:      "an Ingress with only a default backend is said so",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), nil)},
		notes:     []string{"Ingress/shop: no rules, only a default backend, left out"},
	}, {
		name: "the path annotation replaces every path of every host, with its query",
		ingresses: []networkingv1.Ingress{ingress(annotated(object("shop"), monitoringv1alpha1.PathAnnotation, "/healthz?full=1"), []string{"shop.example.com"},
			rule("shop.example.com", "/", "/api"), rule("blog.example.com", "/blog"))},
		want: []string{
			"https://shop.example.com/healthz?full=1 from Ingress/shop",
			"http://blog.example.com/healthz?full=1 from Ingress/shop",
		},
	}, {
		name: "a path annotation that is not a path leaves the object out and says so",
		ingresses: []networkingv1.Ingress{
			ingress(annotated(object("relative"), monitoringv1alpha1.PathAnnotation, "healthz"), nil, rule("a.example.com", "/")),
			ingress(annotated(object("elsewhere"), monitoringv1alpha1.PathAnnotation, "//other.example/healthz"), nil, rule("b.example.com", "/")),
		},
		notes: []string{
			`Ingress/elsewhere: annotation monitoring.healthcheck.dev/path "//other.example/healthz" is not a path starting with "/", left out`,
			`Ingress/relative: annotation monitoring.healthcheck.dev/path "healthz" is not a path starting with "/", left out`,
		},
	}, {
		name: "an ignored Ingress is left out silently",
		ingresses: []networkingv1.Ingress{
			ingress(annotated(object("ignored"), monitoringv1alpha1.IgnoreAnnotation, "true"), nil, rule("*.example.com", "/")),
			ingress(annotated(object("kept"), monitoringv1alpha1.IgnoreAnnotation, "false"), nil, rule("kept.example.com", "/")),
		},
		want: []string{"http://kept.example.com/ from Ingress/kept"},
	}, {
		name:     "only Ingresses the selector matches",
		selector: expr("tier", metav1.LabelSelectorOpIn, "web"),
		ingresses: []networkingv1.Ingress{
			ingress(metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "web"}}, nil, rule("web.example.com", "/")),
			ingress(metav1.ObjectMeta{Name: "db", Labels: map[string]string{"tier": "db"}}, nil, rule("*.example.com", "/")),
			ingress(metav1.ObjectMeta{Name: "bare"}, nil, rule("bare.example.com", "/")),
		},
		want: []string{"http://web.example.com/ from Ingress/web"},
	}, {
		name:      "paths are escaped, escaped paths kept",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), nil, rule("shop.example.com", "/a b", "/caf%C3%A9", "/what?", "/100%"))},
		want: []string{
			"http://shop.example.com/a%20b from Ingress/shop",
			"http://shop.example.com/caf%C3%A9 from Ingress/shop",
			"http://shop.example.com/what%3F from Ingress/shop",
			"http://shop.example.com/100%25 from Ingress/shop",
		},
	}, {
		name:      "the same URL twice is one target",
		ingresses: []networkingv1.Ingress{ingress(object("shop"), nil, rule("shop.example.com", "/"), rule("shop.example.com", "/", ""))},
		want:      []string{"http://shop.example.com/ from Ingress/shop"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			sel := tc.selector
			if sel.MatchLabels == nil && sel.MatchExpressions == nil {
				sel = selected
			}
			targets, notes := discover.FromIngresses(monitoringv1alpha1.TargetSource{Ingresses: &monitoringv1alpha1.ObjectSelector{Selector: sel}}, tc.ingresses)
			expect(t, "targets", listed(targets), tc.want)
			expect(t, "notes", notes, tc.notes)
		})
	}
}
