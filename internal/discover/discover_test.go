package discover_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

// selected is the label the sources of these tests select.
var selected = monitoringv1alpha1.BoundedLabelSelector{MatchLabels: map[string]string{"monitor": "yes"}}

// object is the metadata of an object in namespace ns that the tests' sources select.
func object(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"monitor": "yes"}}
}

// annotated is m with an annotation added.
func annotated(m metav1.ObjectMeta, key, value string) metav1.ObjectMeta {
	m.Annotations = map[string]string{key: value}
	return m
}

// listed is what a test compares: each target as "URL from Source".
func listed(targets []discover.Target) []string {
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		out = append(out, t.URL+" from "+t.Source)
	}
	return out
}

func expect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestSelectorConvertsAndNamesTheInvalidField(t *testing.T) {
	set := labels.Set{"app": "shop", "tier": "web"}
	for _, tc := range []struct {
		name    string
		sel     monitoringv1alpha1.BoundedLabelSelector
		matches bool
		err     string
	}{
		{name: "{} selects everything", matches: true},
		{name: "matchLabels", sel: monitoringv1alpha1.BoundedLabelSelector{MatchLabels: map[string]string{"app": "shop"}}, matches: true},
		{name: "matchLabels of another value", sel: monitoringv1alpha1.BoundedLabelSelector{MatchLabels: map[string]string{"app": "blog"}}},
		{name: "In", sel: expr("tier", metav1.LabelSelectorOpIn, "web", "api"), matches: true},
		{name: "NotIn", sel: expr("tier", metav1.LabelSelectorOpNotIn, "web")},
		{name: "Exists", sel: expr("app", metav1.LabelSelectorOpExists), matches: true},
		{name: "DoesNotExist", sel: expr("app", metav1.LabelSelectorOpDoesNotExist)},
		{name: "invalid label key", sel: monitoringv1alpha1.BoundedLabelSelector{MatchLabels: map[string]string{"a b": "x"}}, err: `matchLabels: Invalid value: "a b"`},
		{name: "In without values", sel: expr("tier", metav1.LabelSelectorOpIn), err: "matchExpressions[0].values: Required value"},
		{name: "Exists with values", sel: expr("tier", metav1.LabelSelectorOpExists, "web"), err: "matchExpressions[0].values: Forbidden"},
		{name: "unknown operator", sel: expr("tier", "Like", "web"), err: "matchExpressions[0].operator: Invalid value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := discover.Selector(tc.sel)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.Matches(set); got != tc.matches {
				t.Errorf("%s matches %v: %v, want %v", sel, set, got, tc.matches)
			}
		})
	}
}

func expr(key string, op metav1.LabelSelectorOperator, values ...string) monitoringv1alpha1.BoundedLabelSelector {
	return monitoringv1alpha1.BoundedLabelSelector{MatchExpressions: []monitoringv1alpha1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func TestDiscoveredTargetsComeInNameOrderWhateverTheListsOrder(t *testing.T) {
	names := []string{"c", "a", "d", "b"}
	var ingresses []networkingv1.Ingress
	var routes []gatewayv1.HTTPRoute
	var services []corev1.Service
	for _, n := range names {
		ingresses = append(ingresses, ingress(object(n), nil, rule(n+".example.com")))
		routes = append(routes, route(object(n), []string{n + ".example.com"}, nil))
		services = append(services, service(object(n)))
	}
	discoverAll := func() []string {
		i, _ := discover.FromIngresses(monitoringv1alpha1.TargetSource{Ingresses: &monitoringv1alpha1.ObjectSelector{Selector: selected}}, ingresses)
		r, _ := discover.FromHTTPRoutes(monitoringv1alpha1.TargetSource{HTTPRoutes: &monitoringv1alpha1.ObjectSelector{Selector: selected}}, routes, nil)
		s, _ := discover.FromServices(monitoringv1alpha1.TargetSource{Services: &monitoringv1alpha1.ServiceSource{Selector: selected, Port: intstr.FromInt32(80)}}, services)
		return listed(slices.Concat(i, r, s))
	}
	want := []string{
		"http://a.example.com/ from Ingress/a", "http://b.example.com/ from Ingress/b", "http://c.example.com/ from Ingress/c", "http://d.example.com/ from Ingress/d",
		"https://a.example.com/ from HTTPRoute/a", "https://b.example.com/ from HTTPRoute/b", "https://c.example.com/ from HTTPRoute/c", "https://d.example.com/ from HTTPRoute/d",
		"http://a.ns.svc:80/ from Service/a", "http://b.ns.svc:80/ from Service/b", "http://c.ns.svc:80/ from Service/c", "http://d.ns.svc:80/ from Service/d",
	}
	expect(t, "as listed", discoverAll(), want)
	slices.Reverse(ingresses)
	slices.Reverse(routes)
	slices.Reverse(services)
	expect(t, "reversed", discoverAll(), want)
	if ingresses[0].Name != "b" {
		t.Errorf("the caller's list was reordered: %s first", ingresses[0].Name)
	}
}

func TestTheTemplateIsCarriedByEveryDiscoveredTarget(t *testing.T) {
	template := &monitoringv1alpha1.TargetSettings{
		Timeout:             &metav1.Duration{Duration: 3 * time.Second},
		ExpectedStatusCodes: []string{"200", "204"},
		Assertions:          []monitoringv1alpha1.Assertion{{Expression: `response.json.status == "UP"`, Message: "actuator reports UP"}},
	}
	src := monitoringv1alpha1.TargetSource{
		Ingresses: &monitoringv1alpha1.ObjectSelector{Selector: selected},
		Template:  template,
	}
	targets, _ := discover.FromIngresses(src, []networkingv1.Ingress{ingress(object("shop"), nil, rule("shop.example.com", "/", "/api"))})
	if len(targets) != 2 {
		t.Fatalf("targets %q, want two", listed(targets))
	}
	for _, got := range targets {
		if got.Name != "" {
			t.Errorf("%s: name %q, want none (the display name is the URL)", got.URL, got.Name)
		}
		if got.Timeout.Duration != 3*time.Second || !slices.Equal(got.ExpectedStatusCodes, template.ExpectedStatusCodes) ||
			len(got.Assertions) != 1 || got.Assertions[0] != template.Assertions[0] {
			t.Errorf("%s: settings %+v, want the template's %+v", got.URL, got.TargetSettings, *template)
		}
	}
	targets[0].Assertions[0].Message = "changed"
	if targets[1].Assertions[0].Message != "actuator reports UP" || template.Assertions[0].Message != "actuator reports UP" {
		t.Error("targets share their template's lists: changing one changed another")
	}
}

func TestNotesAreFewAndShort(t *testing.T) {
	var services []corev1.Service
	for i := range 15 {
		services = append(services, service(object(fmt.Sprintf("svc-%02d", i))))
	}
	long := strings.Repeat("x", 253)
	services = append(services, service(object(long)))
	src := monitoringv1alpha1.TargetSource{Services: &monitoringv1alpha1.ServiceSource{Selector: selected, Port: intstr.FromString("metrics")}}

	_, notes := discover.FromServices(src, services)
	if len(notes) != discover.MaxNotes+1 || notes[discover.MaxNotes] != "and 6 more" {
		t.Fatalf("notes %q, want %d and then %q", notes, discover.MaxNotes, "and 6 more")
	}
	if notes[0] != "Service/svc-00: no port named metrics, left out" {
		t.Errorf("first note %q", notes[0])
	}

	// The same object selected twice says so once.
	_, notes = discover.FromServices(src, []corev1.Service{service(object(long)), service(object(long))})
	if len(notes) != 1 || utf8.RuneCountInString(notes[0]) != discover.MaxNoteLength || !strings.HasSuffix(notes[0], monitoringv1alpha1.Ellipsis) {
		t.Errorf("notes %q: want one, cut to %d characters", notes, discover.MaxNoteLength)
	}
}
