package discover_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

// service is a Service with ports named http (8080), grpc (50051) and postgres (5432).
func service(m metav1.ObjectMeta) corev1.Service {
	return corev1.Service{ObjectMeta: m, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "http", Port: 8080}, {Name: "grpc", Port: 50051}, {Name: "postgres", Port: 5432},
	}}}
}

func TestFromServices(t *testing.T) {
	web, db := service(object("web")), service(object("db"))
	db.Spec.Ports = db.Spec.Ports[2:]
	for _, tc := range []struct {
		name     string
		source   monitoringv1alpha1.ServiceSource
		services []corev1.Service
		want     []string
		notes    []string
	}{{
		name:     "a port name is looked up; a Service without it is left out and said so",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromString("http"), Path: "/healthz", Scheme: "http"},
		services: []corev1.Service{web, db},
		want:     []string{"http://web.ns.svc:8080/healthz from Service/web"},
		notes:    []string{"Service/db: no port named http, left out"},
	}, {
		name:     "a port number is used as is",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromInt32(9090), Path: "/metrics", Scheme: "https"},
		services: []corev1.Service{web},
		want:     []string{"https://web.ns.svc:9090/metrics from Service/web"},
	}, {
		name:     "an unset scheme and path are http and /",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromInt32(80)},
		services: []corev1.Service{web},
		want:     []string{"http://web.ns.svc:80/ from Service/web"},
	}, {
		name:     "tcp and tls URLs have no path, whatever path says",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromString("postgres"), Path: "/healthz", Scheme: "tcp"},
		services: []corev1.Service{db, service(annotated(object("pg"), monitoringv1alpha1.PathAnnotation, "/ready"))},
		want:     []string{"tcp://db.ns.svc:5432 from Service/db", "tcp://pg.ns.svc:5432 from Service/pg"},
	}, {
		name:     "a grpc URL names the service of its path, none for /",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromString("grpc"), Path: "/", Scheme: "grpc"},
		services: []corev1.Service{web, service(annotated(object("orders"), monitoringv1alpha1.PathAnnotation, "/shop.Orders"))},
		want:     []string{"grpc://orders.ns.svc:50051/shop.Orders from Service/orders", "grpc://web.ns.svc:50051 from Service/web"},
	}, {
		name:   "the path annotation overrides path; ignored and unselected Services are left out",
		source: monitoringv1alpha1.ServiceSource{Port: intstr.FromString("http"), Path: "/", Scheme: "http"},
		services: []corev1.Service{
			service(annotated(object("api"), monitoringv1alpha1.PathAnnotation, "/actuator/health")),
			service(annotated(object("old"), monitoringv1alpha1.IgnoreAnnotation, "true")),
			service(metav1.ObjectMeta{Name: "unselected", Namespace: "ns"}),
		},
		want: []string{"http://api.ns.svc:8080/actuator/health from Service/api"},
	}, {
		name:     "a path and query with spaces are escaped",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromString("http"), Path: "/my health?q=a b", Scheme: "http"},
		services: []corev1.Service{web},
		want:     []string{"http://web.ns.svc:8080/my%20health?q=a%20b from Service/web"},
	}, {
		name:     "a bad path annotation is said so",
		source:   monitoringv1alpha1.ServiceSource{Port: intstr.FromString("http"), Path: "/", Scheme: "http"},
		services: []corev1.Service{service(annotated(object("api"), monitoringv1alpha1.PathAnnotation, "health"))},
		notes:    []string{`Service/api: annotation monitoring.healthcheck.dev/path "health" is not a path starting with "/", left out`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.source.Selector = selected
			targets, notes := discover.FromServices(monitoringv1alpha1.TargetSource{Services: &tc.source}, tc.services)
			expect(t, "targets", listed(targets), tc.want)
			expect(t, "notes", notes, tc.notes)
		})
	}
}
