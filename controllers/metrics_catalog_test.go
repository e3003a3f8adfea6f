package controllers_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/controllers"
)

func TestMetricCatalogListsEveryMetricWithItsLabels(t *testing.T) {
	target := []string{"healthcheck", "namespace", "target"}
	healthCheck := []string{"healthcheck", "namespace"}
	want := map[string][]string{
		"healthcheck_target_up":                                   target,
		"healthcheck_target_slow":                                 target,
		"healthcheck_target_last_latency_seconds":                 target,
		"healthcheck_target_latency_seconds_bucket":               {"healthcheck", "le", "namespace", "target"},
		"healthcheck_target_latency_seconds_sum":                  target,
		"healthcheck_target_latency_seconds_count":                target,
		"healthcheck_target_certificate_expiry_timestamp_seconds": target,
		"healthcheck_target_backends":                             {"healthcheck", "namespace", "state", "target"},
		"healthcheck_availability_ratio":                          healthCheck,
		"healthcheck_error_budget_remaining_ratio":                healthCheck,
		"healthcheck_objective_ratio":                             healthCheck,
		"healthcheck_checks_total":                                {"healthcheck", "namespace", "reason", "result"},
		"healthcheck_round_duration_seconds_bucket":               {"healthcheck", "le", "namespace"},
		"healthcheck_round_duration_seconds_sum":                  healthCheck,
		"healthcheck_round_duration_seconds_count":                healthCheck,
		"healthcheck_schedule_lag_seconds_bucket":                 {"le"},
		"healthcheck_schedule_lag_seconds_sum":                    {},
		"healthcheck_schedule_lag_seconds_count":                  {},
		"healthcheck_notifications_dropped_total":                 {"reason"},
	}
	got := controllers.MetricCatalog()
	for name, labels := range want {
		if have, ok := got[name]; !ok {
			t.Errorf("the catalog lacks %s", name)
		} else if !slices.Equal(have, labels) {
			t.Errorf("the catalog gives %s the labels %q, want %q", name, have, labels)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			t.Errorf("the catalog lists %s%q, which this test does not know: add it here", name, got[name])
		}
	}
}

func TestMetricCatalogReturnsACopyEachTime(t *testing.T) {
	first := controllers.MetricCatalog()
	first["healthcheck_target_up"][0] = "changed"
	delete(first, "healthcheck_checks_total")
	second := controllers.MetricCatalog()
	if second["healthcheck_target_up"][0] != "healthcheck" {
		t.Errorf("changing one catalog changed the next: %q", second["healthcheck_target_up"])
	}
	if _, ok := second["healthcheck_checks_total"]; !ok {
		t.Error("deleting from one catalog deleted from the next")
	}
}
