// Package v1alpha1 contains the v1alpha1 API of the monitoring.healthcheck.dev group.
// +kubebuilder:object:generate=true
// +groupName=monitoring.healthcheck.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "monitoring.healthcheck.dev", Version: "v1alpha1"}

	// SchemeBuilder adds the types of this group and version to a scheme. It uses
	// apimachinery only, so the API package stays light to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this group and version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &HealthCheck{}, &HealthCheckList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
