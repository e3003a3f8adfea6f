package plugin_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

// targets is a loopback server with the paths the manifests in testdata call,
// and a loopback address where nothing listens.
type targets struct {
	url     string
	refused string
}

func newTargets(t *testing.T) targets {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/get", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/get", http.StatusFound) })
	mux.HandleFunc("/private", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return targets{url: srv.URL, refused: refused}
}

// fill puts the addresses in a testdata template.
func (tg targets) fill(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("SERVER", tg.url, "REFUSED", tg.refused).Replace(string(data))
}

// file writes a filled template to a temporary file and returns its path.
func (tg targets) file(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(tg.fill(t, name)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mask puts the placeholders back in place of the addresses, and sorts the
// rows of each report, which arrive in the order checks complete.
func (tg targets) mask(out string) string {
	out = strings.NewReplacer(tg.url, "http://SERVER", tg.refused, "REFUSED").Replace(out)
	return sortRuns(out)
}

// sortRuns sorts each run of result lines: table rows, JSON objects other than
// summaries, and CSV records.
func sortRuns(out string) string {
	lines := strings.Split(out, "\n")
	isRow := func(l string) bool {
		switch {
		case l == "", strings.HasPrefix(l, "HealthCheck "), strings.HasPrefix(l, "Checking "), strings.HasPrefix(l, "Status "),
			strings.HasPrefix(l, "---"), strings.HasPrefix(l, "Done in "), strings.Contains(l, `"summary":`), strings.HasPrefix(l, "healthCheck,"):
			return false
		}
		return true
	}
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && isRow(lines[j]) {
			j++
		}
		sort.Strings(lines[i:j])
		i = j + 1
	}
	return strings.Join(lines, "\n")
}

// clock1500 makes every check take 1.5s: Up under the default 2s threshold, Slow
// over a 1s one.
var clock1500 = &fixedClock{now: testNow, latency: 1500 * time.Millisecond}

func TestRunManifestPrintsTheSeedReportPerHealthCheck(t *testing.T) {
	tg := newTargets(t)
	file := tg.file(t, "run.yaml")
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"run", "-f", file}
			if format != "table" {
				args = append(args, "-o", format)
			}
			got := runPlugin(t, clock1500, "", args...)
			if got.code != plugin.ExitDown {
				t.Errorf("exit status = %d, want %d (targets are Down)", got.code, plugin.ExitDown)
			}
			wantNote := "note: " + file + ": HealthCheck shop/web: target " + tg.url + `/private is not checked: header Authorization comes from key "token" of Secret "api-token", which run cannot read` + "\n"
			if got.stderr != wantNote {
				t.Errorf("stderr = %q, want %q", got.stderr, wantNote)
			}
			assertGolden(t, "run_"+format+".golden", tg.mask(got.stdout))
		})
	}
}

func TestRunURLsFileSkipsCommentsAndBlankLines(t *testing.T) {
	tg := newTargets(t)
	got := runPlugin(t, clock1500, "", "run", "--urls-file", tg.file(t, "urls.txt"), "--workers", "2")
	if got.code != plugin.ExitDown || got.stderr != "" {
		t.Errorf("exit status %d, stderr %q; want %d and nothing", got.code, got.stderr, plugin.ExitDown)
	}
	assertGolden(t, "urls_table.golden", tg.mask(got.stdout))
}

func TestRunReadsManifestsAndURLsFromStdin(t *testing.T) {
	tg := newTargets(t)
	manifest := `apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: from-stdin, namespace: ci}
spec: {targets: [{url: "` + tg.url + `/get"}]}
`
	got := runPlugin(t, clock1500, manifest, "run", "-f", "-")
	want := `HealthCheck ci/from-stdin
Checking 1 URLs with 10 workers...

Status    Time (ms) URL
------------------------------------------------------------
200          1500.0 http://SERVER/get

Done in 1.50s | OK: 1/1
`
	if got.code != plugin.ExitOK || tg.mask(got.stdout) != want {
		t.Errorf("run -f -: exit status %d, stdout:\n%s\nwant 0 and:\n%s", got.code, tg.mask(got.stdout), want)
	}

	got = runPlugin(t, clock1500, "# one URL\n"+tg.url+"/status/500\n", "run", "--urls-file", "-", "-o", "csv")
	want = "healthCheck,url,name,statusCode,latencyMs,state,reason,message,seen\n" +
		",http://SERVER/status/500,http://SERVER/status/500,500,1500.0,Down,UnexpectedStatus,\"returned 500 in 1.5s, expected 200-299\",\n"
	if got.code != plugin.ExitDown || tg.mask(got.stdout) != want {
		t.Errorf("run --urls-file -: exit status %d, stdout:\n%s\nwant 1 and:\n%s", got.code, tg.mask(got.stdout), want)
	}
}

func TestRunExitStatus(t *testing.T) {
	tg := newTargets(t)
	noHealthCheck := filepath.Join(t.TempDir(), "configmap.yaml")
	if err := os.WriteFile(noHealthCheck, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want int
		// stderr is a line the error stream must hold, when set.
		stderr string
	}{
		{"every target Up", []string{"run", "--url", tg.url + "/get", "--url", tg.url + "/status/204"}, plugin.ExitOK, ""},
		{"a Slow target is not Down", []string{"run", "--url", tg.url + "/get", "--slow-threshold", "1s"}, plugin.ExitOK, ""},
		{"an unexpected status", []string{"run", "--url", tg.url + "/get", "--url", tg.url + "/status/500"}, plugin.ExitDown, ""},
		{"no answer", []string{"run", "--url", "http://" + tg.refused + "/"}, plugin.ExitDown, ""},
		{"nothing to check", []string{"run"}, plugin.ExitError,
			"error: nothing to check: give -f FILE, --url URL or --urls-file FILE"},
		{"an unknown flag", []string{"run", "--url", tg.url, "--retries", "3"}, plugin.ExitError,
			"error: unknown flag: --retries"},
		{"a file without -f", []string{"run", "hc.yaml"}, plugin.ExitError,
			`error: kubectl healthcheck run takes no arguments, got ["hc.yaml"]: give files with -f`},
		{"an unknown command", []string{"check"}, plugin.ExitError,
			`error: unknown command "check" for "kubectl healthcheck"`},
		{"-f and --url", []string{"run", "-f", "x.yaml", "--url", tg.url}, plugin.ExitError,
			"error: -f cannot be combined with --url or --urls-file"},
		{"--workers with a manifest", []string{"run", "-f", "testdata/run.yaml", "--workers", "5"}, plugin.ExitError,
			"error: --workers applies to --url and --urls-file: a manifest sets spec.workers"},
		{"an unknown output format", []string{"run", "--url", tg.url, "-o", "yaml"}, plugin.ExitError,
			`error: unknown output format "yaml": use json or csv, or leave -o out for the table`},
		{"no workers", []string{"run", "--url", tg.url, "--workers", "0"}, plugin.ExitError,
			"error: --workers must be between 1 and 100, got 0"},
		{"a slow threshold at the timeout", []string{"run", "--url", tg.url, "--timeout", "2s", "--slow-threshold", "2s"}, plugin.ExitError,
			"error: --slow-threshold (2s) must be below --timeout (2s)"},
		{"stdin twice", []string{"run", "-f", "-", "-f", "-"}, plugin.ExitError,
			"error: standard input (-) can be read only once"},
		{"a missing file", []string{"run", "-f", "testdata/missing.yaml"}, plugin.ExitError,
			"error: open testdata/missing.yaml: no such file or directory"},
		{"a file without HealthCheck", []string{"run", "-f", noHealthCheck}, plugin.ExitError,
			"error: " + noHealthCheck + ": no HealthCheck (monitoring.healthcheck.dev/v1alpha1) found"},
		{"a URL the API server would reject", []string{"run", "--url", "ftp://example.com/", "--url", "https://user:pw@example.com/"}, plugin.ExitError,
			`error: --url: url: Invalid value: "ftp://example.com/": url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL`},
		{"credentials in a URL, redacted", []string{"run", "--url", "https://user:pw@example.com/"}, plugin.ExitError,
			`error: --url: url: Invalid value: "https://REDACTED@example.com/": url must not contain credentials (user:password@); use a header with valueFrom.secretKeyRef`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runPlugin(t, clock1500, "", tc.args...)
			if got.code != tc.want {
				t.Errorf("exit status = %d, want %d; stderr:\n%s", got.code, tc.want, got.stderr)
			}
			if tc.stderr != "" && !containsLine(got.stderr, tc.stderr) {
				t.Errorf("stderr lacks the line %q:\n%s", tc.stderr, got.stderr)
			}
			if tc.want == plugin.ExitError && got.stdout != "" {
				t.Errorf("bad input printed a report:\n%s", got.stdout)
			}
		})
	}
}

// TestRunChecksNothingWhenAURLIsRefused: most URLs of a list are admitted
// without the CRD's validators, but one refused URL, however late in the list,
// still stops the run before any check, with nothing on stdout and the same
// error as before.
func TestRunChecksNothingWhenAURLIsRefused(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	t.Cleanup(srv.Close)
	var list strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&list, "%s/target/%d\n", srv.URL, i)
	}
	list.WriteString("tcp://db.example\n")
	file := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(file, []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got := runPlugin(t, clock1500, "", "run", "--urls-file", file, "--workers", "50")
	want := "error: " + file + ":3001: url: Invalid value: a tcp:// URL needs a port, such as tcp://db.example:5432\n"
	if got.code != plugin.ExitError || got.stderr != want || got.stdout != "" || requests.Load() != 0 {
		t.Errorf("exit status %d, %d requests, stdout:\n%s\nstderr:\n%s\nwant %d, no request, no stdout and the stderr:\n%s",
			got.code, requests.Load(), got.stdout, got.stderr, plugin.ExitError, want)
	}
}

func TestRunRejectsAnInvalidManifestNamingFileObjectAndField(t *testing.T) {
	got := runPlugin(t, nil, "", "run", "-f", "testdata/bad.yaml")
	want := `error: testdata/bad.yaml: document 2: HealthCheck default/web: spec.interval: Invalid value: "1d": must be a duration such as 30s, 1m or 1h30m (units h, m, s, ms)
error: testdata/bad.yaml: document 2: HealthCheck default/web: spec.targets[0].url: Invalid value: "https://REDACTED@example.com/": url must not contain credentials (user:password@); use a header with valueFrom.secretKeyRef
`
	if got.code != plugin.ExitError || got.stderr != want || got.stdout != "" {
		t.Errorf("exit status %d, stdout %q, stderr:\n%s\nwant %d, nothing, and:\n%s", got.code, got.stdout, got.stderr, plugin.ExitError, want)
	}

	// The same from stdin names stdin.
	data, err := os.ReadFile("testdata/bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got = runPlugin(t, nil, string(data), "run", "-f", "-")
	if !strings.HasPrefix(got.stderr, "error: <stdin>: document 2: HealthCheck default/web: spec.interval: ") {
		t.Errorf("stderr for stdin:\n%s", got.stderr)
	}
}

func TestHelpShowsExamples(t *testing.T) {
	got := runPlugin(t, nil, "", "run", "--help")
	if got.code != plugin.ExitOK || !strings.Contains(got.stdout, "kubectl healthcheck run -f config/samples/") {
		t.Errorf("run --help: exit status %d, stdout:\n%s", got.code, got.stdout)
	}
	got = runPlugin(t, nil, "", "status", "--help")
	for _, flag := range []string{"--kubeconfig", "--context", "-n, --namespace", "-A, --all-namespaces", "kubectl healthcheck status -A -o json"} {
		if !strings.Contains(got.stdout, flag) {
			t.Errorf("status --help lacks %q", flag)
		}
	}
}

func containsLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func TestRunSaysItSkipsSourcesAndChecksTheRest(t *testing.T) {
	tg := newTargets(t)
	manifest := `
apiVersion: monitoring.healthcheck.dev/v1alpha1
kind: HealthCheck
metadata: {name: web, namespace: shop}
spec:
  targets:
  - url: ` + tg.url + `/status/200
  targetsFrom:
  - ingresses: {selector: {matchLabels: {app: shop}}}
  - services: {selector: {}, port: http}
`
	got := runPlugin(t, clock1500, manifest, "run", "-f", "-", "-o", "json")
	if got.code != plugin.ExitOK {
		t.Errorf("exit status = %d, want %d; stderr:\n%s", got.code, plugin.ExitOK, got.stderr)
	}
	want := "note: <stdin>: HealthCheck shop/web: targetsFrom[0] (ingresses) is skipped: run reads no cluster, so it discovers nothing\n" +
		"note: <stdin>: HealthCheck shop/web: targetsFrom[1] (services) is skipped: run reads no cluster, so it discovers nothing\n"
	if got.stderr != want {
		t.Errorf("stderr = %q, want %q", got.stderr, want)
	}
	if !strings.Contains(got.stdout, `/status/200"`) {
		t.Errorf("the spec's target was not checked:\n%s", got.stdout)
	}
}
