package maintenance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/healthcheck-operator/healthcheck-operator/config/crd"
)

// TestDurationBoundsMatchTheCRD holds minDuration and maxDuration to the CEL
// rule of spec.maintenance[].duration in the CRD the binaries embed.
func TestDurationBoundsMatchTheCRD(t *testing.T) {
	data, err := crd.Bases.ReadFile(crd.HealthCheckFile)
	if err != nil {
		t.Fatal(err)
	}
	var def apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &def); err != nil {
		t.Fatal(err)
	}
	duration := def.Spec.Versions[0].Schema.OpenAPIV3Schema.
		Properties["spec"].Properties["maintenance"].Items.Schema.Properties["duration"]
	want := fmt.Sprintf("duration(self) >= duration('%s') && duration(self) <= duration('%s')", short(minDuration), short(maxDuration))
	for _, rule := range duration.XValidations {
		if strings.Contains(rule.Rule, want) {
			return
		}
	}
	t.Errorf("no rule of spec.maintenance[].duration holds %q: %v", want, duration.XValidations)
}

// short spells a whole number of hours or minutes as the CRD does.
func short(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}
