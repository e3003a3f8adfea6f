package discover

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// FromServices gives the targets of the Services that src.Services selects
// among items, in the order of their names: SCHEME://NAME.NAMESPACE.svc:PORT/PATH.
// A port name is looked up in the Service's ports (a Service without it is
// left out and noted); a number is used as is. tcp and tls URLs have no path,
// whatever the source or the path annotation says, and a grpc or grpcs URL
// has none for "/", the whole server. items may hold objects the source does
// not select.
func FromServices(src monitoringv1alpha1.TargetSource, items []corev1.Service) ([]Target, []string) {
	if src.Services == nil {
		return nil, nil
	}
	var n notes
	sel, err := Selector(src.Services.Selector)
	if err != nil {
		n.add("services.selector: %v", err)
		return nil, n.list()
	}
	scheme := src.Services.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path := src.Services.Path
	if path == "" {
		path = "/"
	}
	var f found
	for _, svc := range byName(items) {
		s := sourceOf(kindService, &svc.ObjectMeta)
		if !s.selected(sel) {
			continue
		}
		ref, set := s.pathOverride(&n)
		switch {
		case set && ref == nil:
			continue
		case !set:
			if ref, _ = userPath(path); ref == nil {
				n.add("%s: path %q is not a path starting with \"/\", left out", s.name, monitoringv1alpha1.Truncate(path, 64))
				continue
			}
		}
		port, ok := servicePort(svc, src.Services.Port)
		if !ok {
			n.add("%s: no port named %s, left out", s.name, src.Services.Port.StrVal)
			continue
		}
		switch {
		case scheme == "tcp" || scheme == "tls":
			ref = nil
		case (scheme == "grpc" || scheme == "grpcs") && ref.Path == "/" && ref.RawQuery == "":
			ref = nil
		}
		f.add(s.target(targetURL(scheme, svc.Name+"."+svc.Namespace+".svc", port, ref), src.Template))
	}
	return f.targets, n.list()
}

// servicePort is the number of port on svc: a number as is, a name looked up.
func servicePort(svc *corev1.Service, port intstr.IntOrString) (int32, bool) {
	if port.Type == intstr.Int {
		return port.IntVal, true
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == port.StrVal {
			return p.Port, true
		}
	}
	return 0, false
}
