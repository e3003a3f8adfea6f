// Package discover turns the Ingresses, HTTPRoutes and Services that a
// HealthCheck's spec.targetsFrom selects into targets, and merges them with the
// spec's own targets into the one bounded list the rest of the pipeline reads.
// It is pure: the controller lists the objects of the HealthCheck's namespace
// and passes them in; what is left out, and why, comes back as short notes for
// the Ready condition.
package discover

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Target is a discovered target: the spec's shape plus where it came from.
type Target struct {
	monitoringv1alpha1.Target
	// Source is the object the target comes from, such as Ingress/shop; empty
	// for the targets of spec.targets.
	Source string
}

// Result is one HealthCheck's targets: spec targets first, then discovered ones.
type Result struct {
	// Targets are the spec's targets, as they are, then the discovered ones
	// that are not among them, in a stable order and within the API's bounds.
	Targets []Target
	// Notes say what discovery left out and why, at most MaxNotes of them plus
	// one "and N more", each at most MaxNoteLength characters. Targets left out
	// for the bounds are not among them: LeftOut counts those.
	Notes []string
	// LeftOut is how many discovered targets were left out to keep the list
	// within MaxTargets targets and MaxTotalURLLength characters of URLs.
	LeftOut int
}

// Bounds of the notes one call returns, so that the Ready condition's message
// stays readable, and within its own bound, however many objects are broken.
const (
	// MaxNotes is the most notes one call keeps; the rest are counted in a last
	// note, "and N more".
	MaxNotes = 10
	// MaxNoteLength is the longest note, in characters; longer ones are cut
	// with monitoringv1alpha1.Truncate.
	MaxNoteLength = 200
)

// Kinds of source objects, as Target.Source names them.
const (
	kindIngress   = "Ingress"
	kindHTTPRoute = "HTTPRoute"
	kindService   = "Service"
)

// Fields of a source of spec.targetsFrom, as the API names them.
const (
	FieldIngresses  = "ingresses"
	FieldHTTPRoutes = "httpRoutes"
	FieldServices   = "services"
)

// Describe names the field a source sets (FieldIngresses, FieldHTTPRoutes or
// FieldServices; "" for none) and returns its label selector.
func Describe(src monitoringv1alpha1.TargetSource) (field string, selector monitoringv1alpha1.BoundedLabelSelector) {
	switch {
	case src.Ingresses != nil:
		return FieldIngresses, src.Ingresses.Selector
	case src.HTTPRoutes != nil:
		return FieldHTTPRoutes, src.HTTPRoutes.Selector
	case src.Services != nil:
		return FieldServices, src.Services.Selector
	}
	return "", monitoringv1alpha1.BoundedLabelSelector{}
}

// Selector converts a source's selector to a labels.Selector; {} selects
// everything. An invalid selector's error names the field within it, such as
// matchExpressions[0].values; the caller prefixes where the selector is.
func Selector(s monitoringv1alpha1.BoundedLabelSelector) (labels.Selector, error) {
	ls := &metav1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: e.Operator, Values: e.Values,
		})
	}
	if errs := metav1validation.ValidateLabelSelector(ls, metav1validation.LabelSelectorValidationOptions{}, nil); len(errs) > 0 {
		// matchLabels is a map: sort, so that the message does not change from
		// one round to the next.
		slices.SortFunc(errs, func(a, b *field.Error) int { return cmp.Compare(a.Error(), b.Error()) })
		return nil, errs.ToAggregate()
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// notes collects what a call left out, bounded by MaxNotes and MaxNoteLength,
// each distinct note once.
type notes struct {
	kept []string
	more int
	seen map[string]bool
}

func (n *notes) add(format string, args ...any) {
	note := monitoringv1alpha1.Truncate(fmt.Sprintf(format, args...), MaxNoteLength)
	if n.seen[note] {
		return
	}
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	n.seen[note] = true
	if len(n.kept) == MaxNotes {
		n.more++
		return
	}
	n.kept = append(n.kept, note)
}

// list is the notes kept, then how many more there were.
func (n *notes) list() []string {
	if n.more == 0 {
		return n.kept
	}
	return append(n.kept, fmt.Sprintf("and %d more", n.more))
}

// source is what discovery needs of one object: its name for notes and
// Target.Source, whether the source selects it, and its path override.
type source struct {
	name string // such as Ingress/shop
	meta *metav1.ObjectMeta
}

func sourceOf(kind string, meta *metav1.ObjectMeta) source {
	return source{name: monitoringv1alpha1.Truncate(kind+"/"+meta.Name, monitoringv1alpha1.MaxSourceLength), meta: meta}
}

// selected tells whether sel selects the object and it does not ask to be
// ignored. Being ignored is what the user asked for, so it is not noted.
func (s source) selected(sel labels.Selector) bool {
	return sel.Matches(labels.Set(s.meta.Labels)) && s.meta.Annotations[monitoringv1alpha1.IgnoreAnnotation] != "true"
}

// pathOverride is the object's path annotation, when it has one: set tells
// whether it does, and a nil ref with set true that it is not a path (noted).
func (s source) pathOverride(n *notes) (ref *url.URL, set bool) {
	value, set := s.meta.Annotations[monitoringv1alpha1.PathAnnotation]
	if !set {
		return nil, false
	}
	ref, ok := userPath(value)
	if !ok {
		n.add("%s: annotation %s %q is not a path starting with \"/\", left out",
			s.name, monitoringv1alpha1.PathAnnotation, monitoringv1alpha1.Truncate(value, 64))
	}
	return ref, true
}

// target is a discovered target of s at u with the source's template.
func (s source) target(u string, template *monitoringv1alpha1.TargetSettings) Target {
	t := Target{Target: monitoringv1alpha1.Target{URL: u}, Source: s.name}
	// Name stays empty: the display name is then the URL, one per target,
	// which events and metrics key on; Source says where it came from.
	if template != nil {
		t.TargetSettings = *template.DeepCopy()
	}
	return t
}

// byName sorts objects by namespace and name, so that targets come out in the
// same order whatever order the lister gave. items is not changed.
func byName[T any, PT interface {
	*T
	metav1.Object
}](items []T) []PT {
	sorted := make([]PT, len(items))
	for i := range items {
		sorted[i] = &items[i]
	}
	slices.SortStableFunc(sorted, func(a, b PT) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
	})
	return sorted
}

// objectPath is a path as an Ingress or HTTPRoute writes it: all path, where
// '?' and '#' are characters of the path, maybe already percent-encoded.
func objectPath(p string) *url.URL {
	if p == "" {
		p = "/"
	}
	ref := &url.URL{Path: p}
	if unescaped, err := url.PathUnescape(p); err == nil {
		ref.Path, ref.RawPath = unescaped, p
	}
	return ref
}

// userPath parses a path that a user wrote in an annotation or a source, such
// as /healthz?full=1: a path starting with "/" and an optional query. It
// refuses anything else, such as //other.example/, which would name a host.
func userPath(p string) (*url.URL, bool) {
	ref, err := url.Parse(p)
	if err != nil || ref.Scheme != "" || ref.Host != "" || ref.User != nil || ref.Opaque != "" || !strings.HasPrefix(ref.Path, "/") {
		return nil, false
	}
	ref.Fragment, ref.RawFragment = "", ""
	return ref, true
}

// targetURL is scheme://host[:port] followed by ref's path and query; port 0
// and a nil ref are left out.
func targetURL(scheme, host string, port int32, ref *url.URL) string {
	u := url.URL{Scheme: scheme, Host: host}
	if port != 0 {
		u.Host = net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	if ref != nil {
		u.Path, u.RawPath, u.RawQuery = ref.Path, ref.RawPath, escapeQuery(ref.RawQuery)
	}
	return u.String()
}

// escapeQuery percent-encodes what may not appear as such in a query, such as
// spaces, which url.Parse lets through but a request line cannot carry.
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// wildcard tells whether a host is a wildcard such as *.example.com.
func wildcard(host string) bool { return strings.Contains(host, "*") }

// found collects one call's targets, each URL once: an override of the path
// makes all paths of a host one URL.
type found struct {
	targets []Target
	seen    map[string]bool
}

func (f *found) add(t Target) {
	if f.seen[t.URL] {
		return
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	f.seen[t.URL] = true
	f.targets = append(f.targets, t)
}
