package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// A Grafana dashboard, as far as its queries go.
type dashboard struct {
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

// panel is a dashboard panel; a row holds the panels it collapses.
type panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		RefID      string          `json:"refId"`
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// variable is a template variable. A query variable's query is a string in
// older dashboards and an object in newer ones.
type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource json.RawMessage `json:"datasource"`
}

// query returns a query variable's query.
func (v variable) query() (string, error) {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var o struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &o); err != nil {
		return "", fmt.Errorf("variable %s has a query that is neither a string nor an object with a query: %s", v.Name, v.Query)
	}
	return o.Query, nil
}

// readDashboard reads and decodes a dashboard, with the line of a syntax error.
func readDashboard(path string) (dashboard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return dashboard{}, err
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		if syntax, ok := errors.AsType[*json.SyntaxError](err); ok {
			line := 1 + bytes.Count(data[:syntax.Offset], []byte("\n"))
			return dashboard{}, fmt.Errorf("%s is not valid JSON: line %d: %w", path, line, err)
		}
		return dashboard{}, fmt.Errorf("%s is not a Grafana dashboard: %w", path, err)
	}
	return d, nil
}

// allPanels returns the dashboard's panels, rows' collapsed panels included,
// rows themselves not.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// grafanaVariable matches a variable reference in Grafana's three syntaxes:
// $name, ${name} or ${name:format}, and [[name]].
var grafanaVariable = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]`)

// builtinStandIns are values of Grafana's global variables that keep the
// PromQL around them valid: a duration in a range, a number in arithmetic.
var builtinStandIns = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__range":         "1h",
	"__interval_ms":   "60000",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

// withStandIns replaces the Grafana variables in expr with values PromQL
// accepts: a builtin's stand-in, or for a dashboard variable (its values are
// label values, used inside matchers' strings) a plain word. It also returns
// the variables used that are neither.
func withStandIns(expr string, defined map[string]bool) (string, []string) {
	var undefined []string
	out := grafanaVariable.ReplaceAllStringFunc(expr, func(ref string) string {
		m := grafanaVariable.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := builtinStandIns[name]; ok {
			return v
		}
		if !defined[name] {
			undefined = append(undefined, ref)
		}
		return "stand_in"
	})
	return out, undefined
}

// labelValuesQuery matches Grafana's label_values(selector, label) and
// label_values(label) variable queries.
var (
	labelValuesOfSelector = regexp.MustCompile(`^\s*label_values\(\s*(.+)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*$`)
	labelValuesOfAll      = regexp.MustCompile(`^\s*label_values\(\s*([a-zA-Z_]\w*)\s*\)\s*$`)
	queryResult           = regexp.MustCompile(`^\s*query_result\((.+)\)\s*$`)
)

// variableQueryProblems checks a query variable's query: Grafana's
// label_values() and query_result() are not PromQL, but what they take is.
func (c *checker) variableQueryProblems(query string) []string {
	if m := labelValuesOfSelector.FindStringSubmatch(query); m != nil {
		selector, label := m[1], m[2]
		problems := c.problems(selector)
		if ast, err := c.parser.ParseExpr(selector); err == nil && !c.labelsOf(ast)[label] {
			problems = append(problems, fmt.Sprintf("asks for the values of label %q, which %s does not carry", label, selector))
		}
		return problems
	}
	if m := labelValuesOfAll.FindStringSubmatch(query); m != nil {
		for _, labels := range c.catalog {
			for _, l := range labels {
				if l == m[1] {
					return nil
				}
			}
		}
		return []string{fmt.Sprintf("asks for the values of label %q, which no metric of the operator carries", m[1])}
	}
	if m := queryResult.FindStringSubmatch(query); m != nil {
		return c.problems(m[1])
	}
	return []string{"is not label_values(selector, label), label_values(label) or query_result(expr), the queries this test knows"}
}

// usesDatasourceVariable tells whether a panel's or target's datasource is the
// dashboard's datasource variable, in the object or the old string form.
func usesDatasourceVariable(raw json.RawMessage, variable string) bool {
	var ref struct {
		UID string `json:"uid"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		_ = json.Unmarshal(raw, &ref.UID)
	}
	return ref.UID == "$"+variable || ref.UID == "${"+variable+"}"
}

// describe names a panel in test failures.
func (p panel) describe() string {
	return fmt.Sprintf("panel %d %q", p.ID, strings.TrimSpace(p.Title))
}

// mustReadDashboard reads the dashboard or fails the test, saying why.
func mustReadDashboard(t *testing.T) dashboard {
	t.Helper()
	d, err := readDashboard(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
