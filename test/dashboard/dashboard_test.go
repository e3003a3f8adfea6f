// Package dashboard checks the PromQL the project ships, in the Grafana
// dashboard of config/grafana and the alerts of config/prometheus, against the
// metrics the operator exports (controllers.MetricCatalog): every expression
// must parse, and use only those metrics and their labels.
package dashboard

import (
	"encoding/json"
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

const (
	dashboardPath = "../../config/grafana/healthcheck-dashboard.json"
	alertsPath    = "../../config/prometheus/alerts.yaml"
	// datasourceVariable is the template variable every panel queries, so the
	// dashboard works with whatever Prometheus data source Grafana has.
	datasourceVariable = "datasource"
)

func TestDashboardIsJSONWithAnExpressionInEveryPanel(t *testing.T) {
	d := mustReadDashboard(t)
	panels := d.allPanels()
	if len(panels) == 0 {
		t.Fatalf("%s has no panels", dashboardPath)
	}
	for _, p := range panels {
		if len(p.Targets) == 0 {
			t.Errorf("%s has no query", p.describe())
		}
		for _, target := range p.Targets {
			if target.Expr == "" {
				t.Errorf("%s: query %s has no expression", p.describe(), target.RefID)
			}
		}
	}
}

func TestDashboardQueriesUseOnlyMetricsAndLabelsTheOperatorExports(t *testing.T) {
	d := mustReadDashboard(t)
	c := newChecker(controllers.MetricCatalog())
	defined := d.variables()
	for _, p := range d.allPanels() {
		for _, target := range p.Targets {
			expr, _ := withStandIns(target.Expr, defined)
			for _, problem := range c.problems(expr) {
				t.Errorf("%s, query %s %s\n  %s", p.describe(), target.RefID, problem, target.Expr)
			}
		}
	}
}

func TestDashboardVariablesQueryLabelsTheOperatorExports(t *testing.T) {
	d := mustReadDashboard(t)
	c := newChecker(controllers.MetricCatalog())
	defined := d.variables()
	queries := 0
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		queries++
		query, err := v.query()
		if err != nil {
			t.Error(err)
			continue
		}
		query, _ = withStandIns(query, defined)
		for _, problem := range c.variableQueryProblems(query) {
			t.Errorf("variable %s %s\n  %s", v.Name, problem, query)
		}
	}
	if queries == 0 {
		t.Errorf("%s has no query variables; want namespace and healthcheck", dashboardPath)
	}
}

func TestDashboardQueriesUseOnlyVariablesItDefines(t *testing.T) {
	d := mustReadDashboard(t)
	defined := d.variables()
	for _, want := range []string{datasourceVariable, "namespace", "healthcheck"} {
		if !defined[want] {
			t.Errorf("%s does not define the variable %s", dashboardPath, want)
		}
	}
	for _, p := range d.allPanels() {
		for _, target := range p.Targets {
			if _, undefined := withStandIns(target.Expr, defined); len(undefined) > 0 {
				t.Errorf("%s, query %s uses %q, which the dashboard does not define", p.describe(), target.RefID, undefined)
			}
		}
	}
	for _, v := range d.Templating.List {
		query, err := v.query()
		if err != nil || v.Type != "query" {
			continue
		}
		if _, undefined := withStandIns(query, defined); len(undefined) > 0 {
			t.Errorf("variable %s uses %q, which the dashboard does not define", v.Name, undefined)
		}
	}
}

func TestDashboardPanelsQueryTheDatasourceVariable(t *testing.T) {
	d := mustReadDashboard(t)
	for _, v := range d.Templating.List {
		if v.Name == datasourceVariable {
			var kind string
			if err := json.Unmarshal(v.Query, &kind); err != nil || v.Type != "datasource" || kind != "prometheus" {
				t.Errorf("variable %s is of type %q for %s, want a datasource variable for prometheus", v.Name, v.Type, v.Query)
			}
		} else if v.Type == "query" && !usesDatasourceVariable(v.Datasource, datasourceVariable) {
			t.Errorf("variable %s queries the datasource %s, want ${%s}", v.Name, v.Datasource, datasourceVariable)
		}
	}
	for _, p := range d.allPanels() {
		if !usesDatasourceVariable(p.Datasource, datasourceVariable) {
			t.Errorf("%s queries the datasource %s, want ${%s}", p.describe(), p.Datasource, datasourceVariable)
		}
		for _, target := range p.Targets {
			if target.Datasource != nil && !usesDatasourceVariable(target.Datasource, datasourceVariable) {
				t.Errorf("%s, query %s queries the datasource %s, want ${%s}", p.describe(), target.RefID, target.Datasource, datasourceVariable)
			}
		}
	}
}

func TestDashboardPanelIDsAreUnique(t *testing.T) {
	d := mustReadDashboard(t)
	seen := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if other, ok := seen[p.ID]; ok {
				t.Errorf("%s has the id of %s", p.describe(), other)
			}
			seen[p.ID] = p.describe()
			walk(p.Panels)
		}
	}
	walk(d.Panels)
}

// variables returns the names of the dashboard's template variables.
func (d dashboard) variables() map[string]bool {
	names := map[string]bool{}
	for _, v := range d.Templating.List {
		names[v.Name] = true
	}
	return names
}
