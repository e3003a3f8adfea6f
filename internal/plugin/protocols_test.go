package plugin_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testservers"
)

// jsonRows decodes the rows of a JSON report, leaving out the summaries.
func jsonRows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if _, ok := m["summary"]; !ok {
			rows = append(rows, m)
		}
	}
	return rows
}

func TestRunTCPURLShowsOpen(t *testing.T) {
	open, closed := testservers.Listen(t, nil), testservers.ClosedPort(t)
	mask := strings.NewReplacer(open, "OPEN_ADDR", closed, "CLOSED_ADDR").Replace

	got := runPlugin(t, clock1500, "", "run", "--url", "tcp://"+open)
	want := `Checking 1 URLs with 10 workers...

Status    Time (ms) URL
------------------------------------------------------------
OPEN         1500.0 tcp://OPEN_ADDR

Done in 1.50s | OK: 1/1
`
	if got.code != plugin.ExitOK || mask(got.stdout) != want || got.stderr != "" {
		t.Errorf("open port: exit status %d, stderr %q, stdout:\n%s\nwant %d, nothing, and:\n%s", got.code, got.stderr, mask(got.stdout), plugin.ExitOK, want)
	}

	got = runPlugin(t, clock1500, "", "run", "--url", "tcp://"+closed)
	want = `Checking 1 URLs with 10 workers...

Status    Time (ms) URL
------------------------------------------------------------
0            1500.0 tcp://CLOSED_ADDR [ERROR]

Done in 1.50s | OK: 0/1
`
	if got.code != plugin.ExitDown || mask(got.stdout) != want {
		t.Errorf("closed port: exit status %d, stdout:\n%s\nwant %d and:\n%s", got.code, mask(got.stdout), plugin.ExitDown, want)
	}

	got = runPlugin(t, clock1500, "tcp://"+open+"\ntcp://"+closed+"\n", "run", "--urls-file", "-", "-o", "json")
	rows := jsonRows(t, got.stdout)
	if got.code != plugin.ExitDown || len(rows) != 2 {
		t.Fatalf("--urls-file: exit status %d, stdout:\n%s\nwant %d and two rows", got.code, got.stdout, plugin.ExitDown)
	}
	for _, r := range rows {
		want := map[string]any{"seen": "OPEN", "state": "Up", "reason": "OK"}
		if r["url"] == "tcp://"+closed {
			want = map[string]any{"seen": nil, "state": "Down", "reason": "ConnectionRefused"}
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s: %s = %v, want %v", r["url"], k, r[k], v)
			}
		}
		if r["statusCode"] != 0.0 {
			t.Errorf("%s: statusCode = %v, want 0", r["url"], r["statusCode"])
		}
	}
}

func TestRunGRPCURLShowsTheHealthStatus(t *testing.T) {
	addr, hs := testservers.GRPCHealth(t, nil)
	mask := strings.NewReplacer(addr, "ADDR").Replace
	url := "grpc://" + addr

	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	got := runPlugin(t, clock1500, "", "run", "--url", url)
	want := `Checking 1 URLs with 10 workers...

Status           Time (ms) URL
------------------------------------------------------------
NOT_SERVING         1500.0 grpc://ADDR [DOWN]

Done in 1.50s | OK: 0/1
`
	if got.code != plugin.ExitDown || mask(got.stdout) != want {
		t.Errorf("NOT_SERVING: exit status %d, stderr %q, stdout:\n%s\nwant %d and:\n%s", got.code, got.stderr, mask(got.stdout), plugin.ExitDown, want)
	}
	got = runPlugin(t, clock1500, "", "run", "--url", url, "-o", "json")
	if rows := jsonRows(t, got.stdout); got.code != plugin.ExitDown || len(rows) != 1 ||
		rows[0]["seen"] != "NOT_SERVING" || rows[0]["reason"] != "NotServing" || rows[0]["state"] != "Down" {
		t.Errorf("NOT_SERVING as JSON: exit status %d, stdout:\n%s", got.code, got.stdout)
	}

	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	got = runPlugin(t, clock1500, "", "run", "--url", url)
	want = `Checking 1 URLs with 10 workers...

Status           Time (ms) URL
------------------------------------------------------------
SERVING             1500.0 grpc://ADDR

Done in 1.50s | OK: 1/1
`
	if got.code != plugin.ExitOK || mask(got.stdout) != want || got.stderr != "" {
		t.Errorf("SERVING: exit status %d, stderr %q, stdout:\n%s\nwant %d, nothing, and:\n%s", got.code, got.stderr, mask(got.stdout), plugin.ExitOK, want)
	}

	// A service named in the path is asked about by name.
	hs.SetServingStatus("shop.Cart", healthpb.HealthCheckResponse_NOT_SERVING)
	got = runPlugin(t, clock1500, "", "run", "--url", url, "--url", url+"/shop.Cart", "-o", "csv")
	records, err := csv.NewReader(strings.NewReader(got.stdout)).ReadAll()
	if err != nil || got.code != plugin.ExitDown || len(records) != 3 {
		t.Fatalf("a named service: exit status %d, stdout:\n%s\nwant %d and three records (%v)", got.code, got.stdout, plugin.ExitDown, err)
	}
	if want := "healthCheck,url,name,statusCode,latencyMs,state,reason,message,seen"; strings.Join(records[0], ",") != want {
		t.Errorf("header %q, want %q", strings.Join(records[0], ","), want)
	}
	for _, r := range records[1:] {
		// statusCode, state, reason and seen; the message is the checker's.
		got := strings.Join([]string{r[3], r[5], r[6], r[8]}, ",")
		want := "0,Up,OK,SERVING"
		if r[1] == url+"/shop.Cart" {
			want = "0,Down,NotServing,NOT_SERVING"
		}
		if got != want {
			t.Errorf("%s: %s, want %s", r[1], got, want)
		}
	}
}

// assertionServer answers /health with {"status":"DOWN"} and /ready with
// {"status":"UP"}, as JSON.
func assertionServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	for path, status := range map[string]string{"/health": "DOWN", "/ready": "UP"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"` + status + `"}`))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRunReportsTheFailedAssertion(t *testing.T) {
	server := assertionServer(t)
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: actuator, namespace: ci}
spec:
  targets:
  - url: ` + server + `/health
    name: health
    assertions:
    - expression: response.code == 200
    - expression: response.json.status == "UP"
      message: actuator reports UP
  - url: ` + server + `/ready
    name: ready
    assertions:
    - expression: response.json.status == "UP"
`
	got := runPlugin(t, clock1500, manifest, "run", "-f", "-", "-o", "json")
	if got.code != plugin.ExitDown {
		t.Errorf("exit status = %d, want %d; stderr:\n%s", got.code, plugin.ExitDown, got.stderr)
	}
	rows := jsonRows(t, got.stdout)
	if len(rows) != 2 {
		t.Fatalf("want two rows, got:\n%s", got.stdout)
	}
	for _, r := range rows {
		switch r["name"] {
		case "health":
			if r["state"] != "Down" || r["reason"] != "AssertionFailed" || r["statusCode"] != 200.0 {
				t.Errorf("health: state %v, reason %v, statusCode %v; want Down, AssertionFailed, 200", r["state"], r["reason"], r["statusCode"])
			}
			a, ok := r["assertion"].(map[string]any)
			if !ok {
				t.Fatalf("health: no assertion in %v", r)
			}
			if a["index"] != 1.0 || a["expression"] != `response.json.status == "UP"` {
				t.Errorf("health: assertion %v, want index 1 and its expression", a)
			}
			if msg, _ := a["message"].(string); !strings.Contains(msg, "actuator reports UP") {
				t.Errorf("health: assertion message %q does not say the assertion's message", msg)
			}
		case "ready":
			if r["state"] != "Up" {
				t.Errorf("ready: state %v, want Up", r["state"])
			}
			if _, present := r["assertion"]; present {
				t.Errorf("ready: an assertion in a row that passed: %v", r)
			}
		default:
			t.Errorf("unexpected row %v", r)
		}
	}

	got = runPlugin(t, clock1500, manifest, "run", "-f", "-")
	if !containsLine(got.stdout, "200          1500.0 "+server+"/health [DOWN]") {
		t.Errorf("table lacks the failed target as DOWN:\n%s", got.stdout)
	}
}

func TestRunRejectsAnExpressionThatDoesNotCompile(t *testing.T) {
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: bad-expression, namespace: ci}
spec:
  targets:
  - url: http://127.0.0.1:1/health
    name: health
    assertions:
    - expression: response.json.status ==
`
	got := runPlugin(t, nil, manifest, "run", "-f", "-")
	if got.code != plugin.ExitError || got.stdout != "" {
		t.Errorf("exit status %d, stdout %q; want %d and nothing", got.code, got.stdout, plugin.ExitError)
	}
	const prefix = "error: <stdin>: HealthCheck ci/bad-expression: target health: assertions[0].expression: "
	if !strings.HasPrefix(got.stderr, prefix) {
		t.Errorf("stderr:\n%s\nwant it to start with %q", got.stderr, prefix)
	}
}

func TestRunRejectsHTTPFieldsOnOtherSchemes(t *testing.T) {
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: db, namespace: ci}
spec:
  targets:
  - url: tcp://127.0.0.1:5432
    method: HEAD
`
	got := runPlugin(t, nil, manifest, "run", "-f", "-")
	want := "error: <stdin>: document 1: HealthCheck ci/db: spec.targets[0].method: Invalid value: method applies only to http:// and https:// URLs, not to tcp://\n"
	if got.code != plugin.ExitError || got.stderr != want || got.stdout != "" {
		t.Errorf("exit status %d, stdout %q, stderr:\n%s\nwant %d, nothing, and:\n%s", got.code, got.stdout, got.stderr, plugin.ExitError, want)
	}
}

// TestRunURLsFollowTheCRDRules holds --url to the url rules of a HealthCheck's
// targets: every scheme it accepts, and its messages for the URLs it refuses.
func TestRunURLsFollowTheCRDRules(t *testing.T) {
	cases := []struct {
		url string
		// problem is the error line, empty for a URL that is accepted.
		problem string
	}{
		{"tcp://127.0.0.1:1", ""},
		{"TLS://127.0.0.1:1", ""},
		{"grpc://127.0.0.1:1", ""},
		{"grpcs://127.0.0.1:1/shop.Cart", ""},
		{"tcp://db.example", `error: --url: url: Invalid value: a tcp:// URL needs a port, such as tcp://db.example:5432`},
		{"tls://db.example:443/path", `error: --url: url: Invalid value: a tls:// URL has no path`},
		{"grpc://:9090", `error: --url: url: Invalid value: "grpc://:9090": url must have a host`},
		{"udp://db.example:53", `error: --url: url: Invalid value: "udp://db.example:53": url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL`},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			got := runPlugin(t, clock1500, "", "run", "--url", tc.url, "--timeout", "1s", "--slow-threshold", "500ms")
			if tc.problem == "" {
				if got.code == plugin.ExitError {
					t.Errorf("refused:\n%s", got.stderr)
				}
				return
			}
			if got.code != plugin.ExitError || !containsLine(got.stderr, tc.problem) {
				t.Errorf("exit status %d, stderr:\n%s\nwant %d and the line %q", got.code, got.stderr, plugin.ExitError, tc.problem)
			}
		})
	}
}
