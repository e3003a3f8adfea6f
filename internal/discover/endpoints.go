package discover

import (
	"cmp"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// Backend is one backend of a fanned-out target: an address the checker dials
// instead of the URL's host, and, for the endpoint of a Service, the port it
// listens on and the pod and zone it belongs to.
type Backend struct {
	// Address is the backend's IP address.
	Address netip.Addr
	// Port is the port to dial instead of the URL's; 0 keeps the URL's.
	Port int
	// Pod is the name of the endpoint's pod, if its targetRef names one.
	Pod string
	// Zone is the endpoint's zone, if it has one.
	Zone string
}

// String names the backend in messages (see BackendName).
func (b Backend) String() string { return BackendName(b.Address.String(), b.Pod, b.Zone) }

// BackendName names a backend in messages and events: "pod web-1 (10.0.0.5,
// zone b)", or its address, with its zone if it has one, when it has no pod.
func BackendName(address, pod, zone string) string {
	switch {
	case pod != "" && zone != "":
		return "pod " + pod + " (" + address + ", zone " + zone + ")"
	case pod != "":
		return "pod " + pod + " (" + address + ")"
	case zone != "":
		return address + " (zone " + zone + ")"
	}
	return address
}

// ServiceOf names the Service of namespace that a fanned-out target's URL
// host denotes: NAME, NAME.NAMESPACE, NAME.NAMESPACE.svc or
// NAME.NAMESPACE.svc.cluster.local, or the Service a services source found
// it from (source "Service/NAME"). It returns false for any other host, a
// Service of another namespace among them: only the HealthCheck's own
// namespace is ever read.
func ServiceOf(host, source, namespace string) (string, bool) {
	if name, ok := strings.CutPrefix(source, kindService+"/"); ok {
		return name, true
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	labels := strings.Split(host, ".")
	switch {
	case len(labels) == 1:
	case len(labels) == 2 && labels[1] == namespace:
	case len(labels) == 3 && labels[1] == namespace && labels[2] == "svc":
	case len(labels) == 5 && labels[1] == namespace && strings.Join(labels[2:], ".") == "svc.cluster.local":
	default:
		return "", false
	}
	if _, err := netip.ParseAddr(labels[0]); err == nil || labels[0] == "" {
		return "", false
	}
	return labels[0], true
}

// Endpoints lists the backends of svc for a URL port: every ready endpoint
// of its EndpointSlices of family (monitoringv1alpha1.IPFamilyAny for both),
// at the target port of the Service port whose port is urlPort, sorted by
// address and without duplicates. An endpoint whose ready condition is unset
// counts as ready, as the EndpointSlice API says. When there is nothing to
// check, problem says why in a few words ("Service web has no port 8080").
func Endpoints(svc *corev1.Service, endpointSlices []discoveryv1.EndpointSlice, urlPort int, family monitoringv1alpha1.IPFamily) (backends []Backend, problem string) {
	var portName string
	found := false
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == urlPort {
			portName, found = p.Name, true
			break
		}
	}
	if !found {
		return nil, fmt.Sprintf("Service %s has no port %d", svc.Name, urlPort)
	}
	for _, slice := range endpointSlices {
		if slice.Labels[discoveryv1.LabelServiceName] != svc.Name || !familyAllows(family, slice.AddressType) {
			continue
		}
		port := 0
		for _, p := range slice.Ports {
			if p.Port != nil && ptr.Deref(p.Name, "") == portName {
				port = int(*p.Port)
				break
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range slice.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			b := Backend{Port: port, Zone: ptr.Deref(ep.Zone, "")}
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" {
				b.Pod = ep.TargetRef.Name
			}
			for _, a := range ep.Addresses {
				addr, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				b.Address = addr.Unmap()
				backends = append(backends, b)
			}
		}
	}
	if len(backends) == 0 {
		return nil, fmt.Sprintf("Service %s has no ready endpoint for port %d", svc.Name, urlPort)
	}
	slices.SortFunc(backends, func(a, b Backend) int {
		return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
	})
	return slices.CompactFunc(backends, func(a, b Backend) bool { return a.Address == b.Address && a.Port == b.Port }), ""
}

// URLPort is u's port, else its scheme's default (80 for http, 443 for
// https), the port a Service must serve for an Endpoints fan-out.
func URLPort(u *url.URL) int {
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	return int(defaultPort[strings.ToLower(u.Scheme)])
}

// familyAllows tells whether a slice of addressType holds addresses of
// family; FQDN slices hold none.
func familyAllows(family monitoringv1alpha1.IPFamily, addressType discoveryv1.AddressType) bool {
	switch addressType {
	case discoveryv1.AddressTypeIPv4:
		return family != monitoringv1alpha1.IPFamilyIPv6
	case discoveryv1.AddressTypeIPv6:
		return family != monitoringv1alpha1.IPFamilyIPv4
	}
	return false
}
