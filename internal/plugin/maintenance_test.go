package plugin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

// TestRunRejectsAnInvalidMaintenanceWindow holds run -f to what the operator
// refuses with InvalidSpec although the schema admits it: a schedule robfig's
// parser cannot read, and a time zone that does not exist.
func TestRunRejectsAnInvalidMaintenanceWindow(t *testing.T) {
	cases := []struct {
		name, window, problem string
	}{
		{"an hour out of range", `{schedule: "0 25 * * *", duration: 2h}`,
			`spec.maintenance[1].schedule: "0 25 * * *" is not a valid cron expression: end of range (25) above maximum (23): 25`},
		{"a zone in the schedule", `{schedule: "CRON_TZ=Europe/Berlin 0 2 * * *", duration: 2h}`,
			`spec.maintenance[1].schedule: "CRON_TZ=Europe/Berlin 0 2 * * *" is not a valid cron expression: a time zone prefix is not allowed: set timeZone`},
		{"an unknown zone", `{schedule: "0 2 * * SUN", duration: 2h, timeZone: Mars/Olympus}`,
			`spec.maintenance[1].timeZone: unknown time zone "Mars/Olympus"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			manifest := `apiVersion: v1
kind: ConfigMap
metadata: {name: other}
---
apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: nightly, namespace: ci}
spec:
  targets:
  - url: http://127.0.0.1:1/health
  maintenance:
  - {schedule: "0 2 * * *", duration: 1h, timeZone: Europe/Berlin}
  - ` + tc.window + "\n"
			file := filepath.Join(t.TempDir(), "nightly.yaml")
			if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
				t.Fatal(err)
			}
			got := runPlugin(t, nil, "", "run", "-f", file)
			want := "error: " + file + ": document 2: HealthCheck ci/nightly: " + tc.problem + "\n"
			if got.code != plugin.ExitError || got.stderr != want || got.stdout != "" {
				t.Errorf("exit status %d, stdout %q, stderr:\n%s\nwant %d, nothing, and:\n%s", got.code, got.stdout, got.stderr, plugin.ExitError, want)
			}
		})
	}
}

// TestRunChecksInsideAMaintenanceWindow shows that run applies no window: one
// open all the time changes nothing.
func TestRunChecksInsideAMaintenanceWindow(t *testing.T) {
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: always, namespace: ci}
spec:
  targets:
  - url: tcp://127.0.0.1:1
  maintenance:
  - {schedule: "* * * * *", duration: 168h}
`
	got := runPlugin(t, clock1500, manifest, "run", "-f", "-")
	const row = "0            1500.0 tcp://127.0.0.1:1 [ERROR]"
	if got.code != plugin.ExitDown || got.stderr != "" || !containsLine(got.stdout, row) {
		t.Errorf("exit status %d, stderr %q, stdout:\n%s\nwant %d (the target is Down), nothing, and the row %q", got.code, got.stderr, got.stdout, plugin.ExitDown, row)
	}
}
