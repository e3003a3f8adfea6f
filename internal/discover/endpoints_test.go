package discover

import (
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func TestServiceOfNamesOnlyServicesOfTheNamespace(t *testing.T) {
	for _, tc := range []struct {
		host, source string
		want         string
		ok           bool
	}{
		{"web", "", "web", true},
		{"web.shop", "", "web", true},
		{"WEB.shop.svc", "", "web", true},
		{"web.shop.svc.cluster.local", "", "web", true},
		{"web.shop.svc.cluster.local.", "", "web", true},
		{"web.other", "", "", false},
		{"web.other.svc", "", "", false},
		{"web.shop.svc.example.com", "", "", false},
		{"shop.example.com", "", "", false},
		{"10.0.0.1", "", "", false},
		{"web.shop.svc", "Service/api", "api", true},
	} {
		got, ok := ServiceOf(tc.host, tc.source, "shop")
		if got != tc.want || ok != tc.ok {
			t.Errorf("ServiceOf(%q, %q): %q %v, want %q %v", tc.host, tc.source, got, ok, tc.want, tc.ok)
		}
	}
}

func endpointSlice(service string, addressType discoveryv1.AddressType, portName string, port int32, endpoints ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: service + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: service}},
		AddressType: addressType,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(port)}},
		Endpoints:   endpoints,
	}
}

func endpoint(address, pod, zone string, ready *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{address},
		Conditions: discoveryv1.EndpointConditions{Ready: ready},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod},
		Zone:       ptr.To(zone),
	}
}

func TestEndpointsAreTheReadyOnesAtTheTargetPortOfTheURLsPort(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "metrics", Port: 9090}, {Name: "http", Port: 80},
	}}}
	slices := []discoveryv1.EndpointSlice{
		endpointSlice("web", discoveryv1.AddressTypeIPv4, "http", 8080,
			endpoint("10.0.0.9", "web-c", "b", nil),
			endpoint("10.0.0.2", "web-a", "a", ptr.To(true)),
			endpoint("10.0.0.3", "web-b", "a", ptr.To(false))),
		endpointSlice("web", discoveryv1.AddressTypeIPv4, "metrics", 9090, endpoint("10.0.0.2", "web-a", "a", nil)),
		endpointSlice("web", discoveryv1.AddressTypeIPv6, "http", 8080, endpoint("2001:db8::2", "web-a", "a", nil)),
		endpointSlice("other", discoveryv1.AddressTypeIPv4, "http", 8080, endpoint("10.0.0.7", "other", "a", nil)),
		endpointSlice("web", discoveryv1.AddressTypeFQDN, "http", 8080, endpoint("web.example", "", "", nil)),
	}
	backends, problem := Endpoints(svc, slices, 80, monitoringv1alpha1.IPFamilyAny)
	if problem != "" {
		t.Fatal(problem)
	}
	var got []string
	for _, b := range backends {
		got = append(got, b.String())
		if b.Port != 8080 {
			t.Errorf("%s at port %d, want the target port 8080", b, b.Port)
		}
	}
	want := []string{"pod web-a (10.0.0.2, zone a)", "pod web-c (10.0.0.9, zone b)", "pod web-a (2001:db8::2, zone a)"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("backends %q, want %q", got, want)
	}
	if v4, _ := Endpoints(svc, slices, 80, monitoringv1alpha1.IPFamilyIPv4); len(v4) != 2 {
		t.Fatalf("IPv4 backends %v", v4)
	}
	if v6, _ := Endpoints(svc, slices, 80, monitoringv1alpha1.IPFamilyIPv6); len(v6) != 1 || v6[0].Address.String() != "2001:db8::2" {
		t.Fatalf("IPv6 backends %v", v6)
	}
	if _, problem := Endpoints(svc, slices, 8443, monitoringv1alpha1.IPFamilyAny); problem != "Service web has no port 8443" {
		t.Fatalf("problem %q", problem)
	}
	if _, problem := Endpoints(svc, slices[3:], 80, monitoringv1alpha1.IPFamilyAny); problem != "Service web has no ready endpoint for port 80" {
		t.Fatalf("problem %q", problem)
	}
}

func TestURLPortIsTheURLsOrItsSchemesDefault(t *testing.T) {
	for raw, want := range map[string]int{
		"http://web/": 80, "HTTPS://web/": 443, "http://web:8080/": 8080, "grpc://web:9090": 9090, "tcp://db:5432": 5432,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := URLPort(u); got != want {
			t.Errorf("%s: port %d, want %d", raw, got, want)
		}
	}
}
