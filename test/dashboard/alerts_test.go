package dashboard

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

// rule is an alerting or recording rule of a PrometheusRule.
type rule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	Annotations map[string]string `json:"annotations"`
}

func (r rule) name() string { return r.Alert + r.Record }

// readRules reads the rules of a PrometheusRule manifest.
func readRules(path string) ([]rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Spec struct {
			Groups []struct {
				Rules []rule `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("%s is not a PrometheusRule: %w", path, err)
	}
	var rules []rule
	for _, g := range manifest.Spec.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s has no rules", path)
	}
	return rules, nil
}

func mustReadRules(t *testing.T) []rule {
	t.Helper()
	rules, err := readRules(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func TestAlertsUseOnlyMetricsAndLabelsTheOperatorExports(t *testing.T) {
	c := newChecker(controllers.MetricCatalog())
	for _, r := range mustReadRules(t) {
		if r.Expr == "" {
			t.Errorf("rule %s has no expression", r.name())
			continue
		}
		for _, problem := range c.problems(r.Expr) {
			t.Errorf("rule %s %s\n  %s", r.name(), problem, r.Expr)
		}
	}
}

// labelReference matches $labels.NAME in an alert's templates.
var labelReference = regexp.MustCompile(`\$labels\.([a-zA-Z_]\w*)`)

func TestAlertAnnotationsUseOnlyLabelsTheirExpressionKeeps(t *testing.T) {
	c := newChecker(controllers.MetricCatalog())
	for _, r := range mustReadRules(t) {
		ast, err := c.parser.ParseExpr(r.Expr)
		if err != nil {
			continue // reported by TestAlertsUseOnlyMetricsAndLabelsTheOperatorExports
		}
		kept := c.labelsOf(ast)
		for key, text := range r.Annotations {
			for _, m := range labelReference.FindAllStringSubmatch(text, -1) {
				if !kept[m[1]] {
					t.Errorf("alert %s: annotation %s uses $labels.%s, which its expression drops (it keeps %q)", r.name(), key, m[1], slices.Sorted(maps.Keys(kept)))
				}
			}
		}
	}
}
