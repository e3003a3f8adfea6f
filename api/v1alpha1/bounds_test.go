package v1alpha1_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/config/crd"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// schemaOf reads the HealthCheck CRD the binaries embed and returns its schema.
func schemaOf(t *testing.T) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	data, err := crd.Bases.ReadFile("bases/monitoring.healthcheck.dev_healthchecks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var def apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &def); err != nil {
		t.Fatal(err)
	}
	return *def.Spec.Versions[0].Schema.OpenAPIV3Schema
}

// at walks the schema along a path of property names; "[]" steps into a list's items.
func at(t *testing.T, s apiextensionsv1.JSONSchemaProps, path string) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	for _, step := range strings.Split(path, ".") {
		if step == "[]" {
			if s.Items == nil || s.Items.Schema == nil {
				t.Fatalf("%s: no items at %q", path, step)
			}
			s = *s.Items.Schema
			continue
		}
		next, ok := s.Properties[step]
		if !ok {
			t.Fatalf("%s: no property %q", path, step)
		}
		s = next
	}
	return s
}

func TestBoundsMatchTheCRD(t *testing.T) {
	root := schemaOf(t)
	for _, tc := range []struct {
		path  string
		items bool // maxItems, else maxLength
		want  int
	}{
		{"spec.targets", true, monitoringv1alpha1.MaxTargets},
		{"status.targets", true, monitoringv1alpha1.MaxTargets},
		{"spec.targets.[].url", false, monitoringv1alpha1.MaxURLLength},
		{"status.targets.[].url", false, monitoringv1alpha1.MaxURLLength},
		{"spec.targets.[].name", false, monitoringv1alpha1.MaxNameLength},
		{"status.targets.[].name", false, monitoringv1alpha1.MaxNameLength},
		{"status.targets.[].message", false, monitoringv1alpha1.MaxMessageLength},
		{"status.lastHandledRequestedAt", false, monitoringv1alpha1.MaxRequestedAtLength},
		{"status.targets.[].failingBackends", true, monitoringv1alpha1.MaxFailingBackends},
		{"status.targets.[].failingBackends.[].address", false, monitoringv1alpha1.MaxBackendAddressLength},
		{"status.targets.[].failingBackends.[].pod", false, monitoringv1alpha1.MaxBackendPodLength},
		{"status.targets.[].failingBackends.[].zone", false, monitoringv1alpha1.MaxBackendZoneLength},
		{"status.targets.[].failingBackends.[].message", false, monitoringv1alpha1.MaxBackendMessageLength},
		{"spec.maintenance", true, monitoringv1alpha1.MaxMaintenanceWindows},
		{"spec.notify.dependsOn", true, monitoringv1alpha1.MaxDependsOn},
		{"status.availability.ratio", false, monitoringv1alpha1.MaxRatioLength},
		{"status.targets.[].availability", false, monitoringv1alpha1.MaxRatioLength},
		{"status.availability.errorBudgetRemaining", false, monitoringv1alpha1.MaxBudgetLength},
		{"status.availability.counts", false, monitoringv1alpha1.MaxCountsLength},
		{"status.targets.[].availabilityCounts", false, monitoringv1alpha1.MaxTargetCountsLength},
		{"status.conditions", true, monitoringv1alpha1.MaxConditions},
		{"status.conditions.[].message", false, monitoringv1alpha1.MaxConditionMessageLength},
	} {
		s := at(t, root, tc.path)
		got := s.MaxLength
		if tc.items {
			got = s.MaxItems
		}
		if got == nil || *got != int64(tc.want) {
			t.Errorf("%s: the CRD bounds it at %v, the Go constant at %d", tc.path, deref(got), tc.want)
		}
	}

	total := strconv.Itoa(monitoringv1alpha1.MaxTotalURLLength)
	found := false
	for _, rule := range at(t, root, "spec").XValidations {
		found = found || strings.Contains(rule.Rule, "size(t.url)).sum() <= "+total)
	}
	if !found {
		t.Errorf("spec: no rule bounds the URLs together at MaxTotalURLLength (%s)", total)
	}
}

func deref(p *int64) any {
	if p == nil {
		return "nothing"
	}
	return *p
}

func TestCheckReasonsMatchTheCRDAndTheChecker(t *testing.T) {
	var enum []monitoringv1alpha1.CheckReason
	for _, v := range at(t, schemaOf(t), "status.targets.[].reason").Enum {
		var s string
		if err := yaml.Unmarshal(v.Raw, &s); err != nil {
			t.Fatal(err)
		}
		enum = append(enum, monitoringv1alpha1.CheckReason(s))
	}
	if !slices.Equal(enum, monitoringv1alpha1.AllCheckReasons) {
		t.Errorf("the CRD's reason enum is %v, AllCheckReasons %v", enum, monitoringv1alpha1.AllCheckReasons)
	}
	for _, r := range checker.AllReasons {
		if !slices.Contains(monitoringv1alpha1.AllCheckReasons, monitoringv1alpha1.CheckReason(r)) {
			t.Errorf("the checker's reason %q is not in the status enum: a status write with it would be refused", r)
		}
	}
	if checker.MaxMessageLength > monitoringv1alpha1.MaxMessageLength {
		t.Errorf("the checker's messages may be %d characters, status holds %d", checker.MaxMessageLength, monitoringv1alpha1.MaxMessageLength)
	}
}

func TestTruncateFitsTheLimitAndShowsTheCut(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"ééééééé", 4, "ééé…"},
		{"abc", 0, ""},
	} {
		got := monitoringv1alpha1.Truncate(tc.in, tc.limit)
		if got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > tc.limit {
			t.Errorf("Truncate(%q, %d) has %d characters", tc.in, tc.limit, n)
		}
	}
}

func TestRequestedAtTokenIsBoundedAndTellsLongValuesApart(t *testing.T) {
	short := "2026-11-30T10:00:00Z"
	if got := monitoringv1alpha1.RequestedAtToken(short); got != short {
		t.Errorf("a value that fits is recorded as is: got %q", got)
	}
	seen := map[string]string{}
	for _, n := range []int{256, 257, 300, 100000} {
		for _, last := range []string{"a", "b"} {
			value := strings.Repeat("x", n-1) + last
			token := monitoringv1alpha1.RequestedAtToken(value)
			if c := utf8.RuneCountInString(token); c > monitoringv1alpha1.MaxRequestedAtLength {
				t.Errorf("%d characters: the token has %d", n, c)
			}
			if other, dup := seen[token]; dup {
				t.Errorf("two values share the token %q: %s and %d characters ending %q", token, other, n, last)
			}
			seen[token] = fmt.Sprintf("%d characters ending %q", n, last)
			if again := monitoringv1alpha1.RequestedAtToken(value); again != token {
				t.Errorf("the token of one value changed: %q then %q", token, again)
			}
		}
	}
}
