package dashboard

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// testCatalog is a small catalog in the shape of controllers.MetricCatalog, so
// the checker's own tests do not change with the operator's metrics.
var testCatalog = map[string][]string{
	"hc_target_up":              {"healthcheck", "namespace", "target"},
	"hc_objective_ratio":        {"healthcheck", "namespace"},
	"hc_checks_total":           {"healthcheck", "namespace", "reason", "result"},
	"hc_latency_seconds_bucket": {"healthcheck", "le", "namespace", "target"},
	"hc_lag_seconds_bucket":     {"le"},
}

func TestCheckerAcceptsExportedMetricsAndLabels(t *testing.T) {
	c := newChecker(testCatalog)
	for _, expr := range []string{
		`hc_target_up == 0`,
		`{__name__="hc_target_up", target="a"}`,
		`sum by (namespace, healthcheck) (hc_target_up{namespace=~"a|b", target!="c"})`,
		`sum without (target) (hc_target_up)`,
		`histogram_quantile(0.99, sum by (le) (rate(hc_lag_seconds_bucket[5m])))`,
		`histogram_quantile(0.5, sum by (target, le) (rate(hc_latency_seconds_bucket[5m]))) > 1`,
		`sum by (namespace, healthcheck) (rate(hc_checks_total{result="failure"}[1h])) / sum by (namespace, healthcheck) (rate(hc_checks_total[1h])) > on (namespace, healthcheck) 14.4 * (1 - hc_objective_ratio)`,
		`hc_target_up * on (namespace, healthcheck) group_left () hc_objective_ratio`,
		`hc_target_up and ignoring (target) hc_objective_ratio`,
		`count(hc_target_up == 0) or vector(0)`,
		`max_over_time(hc_target_up[1h:5m])`,
		`sum by (dst) (label_replace(hc_target_up, "dst", "$1", "target", "(.*)"))`,
		`sum by (value) (count_values("value", hc_target_up))`,
	} {
		if problems := c.problems(expr); len(problems) > 0 {
			t.Errorf("%s: %q, want no problems", expr, problems)
		}
	}
}

func TestCheckerRejectsWhatTheOperatorDoesNotExport(t *testing.T) {
	c := newChecker(testCatalog)
	for expr, want := range map[string]string{
		`hc_target_up{`:                                                     "is not valid PromQL",
		`up == 0`:                                                           "uses up, which the operator does not export",
		`rate(hc_latency_seconds_count[5m])`:                                "uses hc_latency_seconds_count",
		`{target="a"}`:                                                      "without naming a metric",
		`hc_target_up{pod="a"}`:                                             `matches label "pod" of hc_target_up`,
		`hc_objective_ratio{target="a"}`:                                    `matches label "target" of hc_objective_ratio`,
		`sum by (target) (rate(hc_checks_total[5m]))`:                       `by (target) uses label "target"`,
		`sum without (instance) (hc_target_up)`:                             `without (instance) uses label "instance"`,
		`sum by (target) (sum by (namespace) (hc_target_up))`:               `by (target) uses label "target"`,
		`histogram_quantile(0.9, sum by (le) (hc_target_up))`:               `by (le) uses label "le"`,
		`hc_target_up > on (target) hc_objective_ratio`:                     `on (target) uses label "target", which its right-hand side does not carry`,
		`hc_objective_ratio and on (target) hc_target_up`:                   `on (target) uses label "target", which its left-hand side does not carry`,
		`hc_target_up / ignoring (pod) hc_objective_ratio`:                  `ignoring (pod) uses label "pod"`,
		`hc_target_up * on (namespace) group_left (job) hc_objective_ratio`: `group_left (job) uses label "job"`,
	} {
		problems := c.problems(expr)
		if !strings.Contains(strings.Join(problems, "\n"), want) {
			t.Errorf("%s: %q, want a problem saying %q", expr, problems, want)
		}
	}
}

func TestCheckerKeepsTheLabelsPrometheusKeeps(t *testing.T) {
	c := newChecker(testCatalog)
	for expr, want := range map[string]string{
		`hc_target_up`:                        "healthcheck namespace target",
		`sum by (namespace) (hc_target_up)`:   "namespace",
		`sum without (target) (hc_target_up)`: "healthcheck namespace",
		`topk(3, hc_target_up)`:               "healthcheck namespace target",
		`histogram_quantile(0.9, sum by (target, le) (rate(hc_latency_seconds_bucket[5m])))`: "target",
		`hc_target_up / on (namespace, healthcheck) hc_objective_ratio`:                      "healthcheck namespace",
		`hc_target_up / on (namespace, healthcheck) group_left hc_objective_ratio`:           "healthcheck namespace target",
		`hc_objective_ratio / on (namespace) group_right hc_target_up`:                       "healthcheck namespace target",
		`hc_target_up and on (namespace) hc_objective_ratio`:                                 "healthcheck namespace target",
		`hc_objective_ratio or hc_checks_total`:                                              "healthcheck namespace reason result",
		`14.4 * (1 - hc_objective_ratio)`:                                                    "healthcheck namespace",
		`hc_target_up - ignoring (target) hc_objective_ratio`:                                "healthcheck namespace",
		`vector(0)`: "",
	} {
		ast, err := c.parser.ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		got := strings.Join(slices.Sorted(maps.Keys(c.labelsOf(ast))), " ")
		if got != want {
			t.Errorf("%s keeps %q, want %q", expr, got, want)
		}
	}
}

func TestGrafanaVariablesGetStandInsPromQLAccepts(t *testing.T) {
	defined := map[string]bool{"namespace": true, "healthcheck": true}
	for expr, want := range map[string]string{
		`rate(x[$__rate_interval])`: `rate(x[5m])`,
		`rate(x[${__interval}])`:    `rate(x[1m])`,
		`x{namespace=~"$namespace", healthcheck="${healthcheck:regex}"}`: `x{namespace=~"stand_in", healthcheck="stand_in"}`,
		`x{namespace="[[namespace]]"} / $__range_s`:                      `x{namespace="stand_in"} / 3600`,
	} {
		got, undefined := withStandIns(expr, defined)
		if got != want || len(undefined) > 0 {
			t.Errorf("%s became %s (undefined %q), want %s", expr, got, undefined, want)
		}
	}
	if _, undefined := withStandIns(`x{target="$target"}`, defined); len(undefined) != 1 || undefined[0] != "$target" {
		t.Errorf("an undefined $target was reported as %q", undefined)
	}
}
