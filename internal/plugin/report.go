package plugin

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// row is one line of a report: the result of a check, or a target's status.
type row struct {
	// HealthCheck is namespace/name, empty for a plain URL list.
	HealthCheck string `json:"healthCheck,omitempty"`
	// URL is redacted with checker.RedactURL.
	URL        string                         `json:"url"`
	Name       string                         `json:"name"`
	StatusCode int                            `json:"statusCode"`
	LatencyMs  float64                        `json:"latencyMs"`
	State      monitoringv1alpha1.TargetState `json:"state"`
	Reason     string                         `json:"reason"`
	Message    string                         `json:"message"`
	// Seen is what a check without an HTTP status code saw: OPEN, TLS, or a
	// gRPC health status. Set by run only: status does not record it.
	Seen string `json:"seen,omitempty"`
	// Assertion is the assertion that failed the check, set by run only.
	Assertion *failedAssertion `json:"assertion,omitempty"`
	// Backends counts the backends of a fanned-out target (spec fanOut) by
	// state, and FailingBackends names those whose check failed, in address
	// order. Both are unset for other targets, and for a fanned-out target that
	// had no backend to check (reason NoBackends), as in status.
	Backends        *monitoringv1alpha1.BackendSummary `json:"backends,omitempty"`
	FailingBackends []failingBackend                   `json:"failingBackends,omitempty"`
	// Source is the object a discovered target comes from, such as Ingress/shop;
	// set by status only, as run discovers nothing.
	Source string `json:"source,omitempty"`
	// LastTransitionTime is set by status only.
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// failedAssertion is checker.FailedAssertion as the JSON report shows it.
type failedAssertion struct {
	Index      int    `json:"index"`
	Expression string `json:"expression"`
	Message    string `json:"message"`
}

// failingBackend is a backend whose check failed, as the JSON report shows
// it: monitoringv1alpha1.BackendStatus, with the latency to a tenth of a
// millisecond where run measured it, as in the row.
type failingBackend struct {
	Address    string  `json:"address"`
	Pod        string  `json:"pod,omitempty"`
	Zone       string  `json:"zone,omitempty"`
	Reason     string  `json:"reason"`
	StatusCode int     `json:"statusCode"`
	LatencyMs  float64 `json:"latencyMs"`
	Message    string  `json:"message"`
}

// summary counts the rows of one report, by state, as status does.
type summary struct {
	HealthCheck string
	monitoringv1alpha1.Summary
	// Duration is how long the round took; for status, the last round.
	Duration time.Duration
	// LastRunTime is when the last round started, for status only.
	LastRunTime *metav1.Time
}

// OK counts the targets that answered as expected: Up and Slow.
func (s summary) OK() int32 { return s.Up + s.Slow }

// reportHeader introduces one report.
type reportHeader struct {
	// healthCheck is namespace/name, empty for a plain URL list.
	healthCheck string
	// intro is the line before the table, such as "Checking 6 URLs with 6 workers...".
	intro string
	// statusWidth is the width of the table's Status column; 0 means the seed's.
	statusWidth int
}

// Widths of the table's Status column.
const (
	// seedStatusWidth is the seed script's, enough for codes, OPEN and TLS.
	seedStatusWidth = 8
	// grpcStatusWidth fits every gRPC health status, the longest being SERVICE_UNKNOWN.
	grpcStatusWidth = len("SERVICE_UNKNOWN")
)

// statusWidth is the Status column's width for a report of urls: the seed's,
// unless a gRPC target may show its health status there.
func statusWidth(urls []string) int {
	for _, u := range urls {
		scheme, _, _ := strings.Cut(u, "://")
		if scheme = strings.ToLower(scheme); scheme == "grpc" || scheme == "grpcs" {
			return grpcStatusWidth
		}
	}
	return seedStatusWidth
}

// reporter writes reports in one format. Rows arrive as checks complete.
type reporter interface {
	begin(h reportHeader) error
	add(r row) error
	end(s summary) error
}

// Output formats of -o.
const (
	outputTable = ""
	outputJSON  = "json"
	outputCSV   = "csv"
)

func checkOutput(format string) error {
	switch format {
	case outputTable, outputJSON, outputCSV:
		return nil
	}
	return usagef("unknown output format %q: use json or csv, or leave -o out for the table", format)
}

// newReporter returns the reporter of format; live selects the columns of
// status, which also show state, reason and last transition.
func newReporter(format string, w io.Writer, live bool, now time.Time) reporter {
	switch format {
	case outputJSON:
		return &jsonReporter{enc: json.NewEncoder(w)}
	case outputCSV:
		return &csvReporter{w: csv.NewWriter(w), live: live}
	}
	return &tableReporter{w: w, live: live, now: now}
}

// tableReporter prints the seed script's report:
//
//	Checking 6 URLs with 6 workers...
//
//	Status    Time (ms) URL
//	------------------------------------------------------------
//	200           312.4 https://httpbin.org/get
//	200          1203.8 https://httpbin.org/delay/1 [SLOW]
//
//	Done in 1.21s | OK: 5/6
type tableReporter struct {
	w       io.Writer
	live    bool
	now     time.Time
	reports int
	// width is the Status column's width in the current report.
	width int
	err   error
}

func (t *tableReporter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *tableReporter) begin(h reportHeader) error {
	if t.reports > 0 {
		t.printf("\n")
	}
	t.reports++
	if h.healthCheck != "" {
		t.printf("HealthCheck %s\n", h.healthCheck)
	}
	t.printf("%s\n\n", h.intro)
	t.width = max(h.statusWidth, seedStatusWidth)
	header := fmt.Sprintf("%-*s %10s %s", t.width, "Status", "Time (ms)", "URL")
	if t.live {
		header = fmt.Sprintf("%-*s %10s %-8s %-17s %-15s %s", t.width, "Status", "Time (ms)", "State", "Reason", "Last Transition", "URL")
	}
	t.printf("%s\n%s\n", header, strings.Repeat("-", max(60, len(header))))
	return t.err
}

func (t *tableReporter) add(r row) error {
	if t.live {
		since := "-"
		if r.LastTransitionTime != nil {
			since = duration.HumanDuration(t.now.Sub(r.LastTransitionTime.Time))
		}
		t.printf("%-*s %10s %-8s %-17s %-15s %s%s\n", t.width, status(r), latency(r), r.State, r.Reason, since, r.URL, flag(r))
		return t.err
	}
	t.printf("%-*s %10s %s%s\n", t.width, status(r), latency(r), r.URL, flag(r))
	return t.err
}

func (t *tableReporter) end(s summary) error {
	switch {
	case !t.live:
		t.printf("\nDone in %.2fs | OK: %d/%d\n", s.Duration.Seconds(), s.OK(), s.Total)
	case s.LastRunTime == nil:
		t.printf("\nNot checked yet | OK: %d/%d\n", s.OK(), s.Total)
	default:
		t.printf("\nDone in %.2fs, %s ago | OK: %d/%d\n", s.Duration.Seconds(), duration.HumanDuration(t.now.Sub(s.LastRunTime.Time)), s.OK(), s.Total)
	}
	return t.err
}

// status is the Status column: the HTTP code, else what a tcp, tls or gRPC
// check saw (OPEN, TLS, SERVING...), else 0 when nothing answered (as the seed
// prints it), and "-" for a target that was not checked.
func status(r row) string {
	switch {
	case unchecked(r):
		return "-"
	case r.StatusCode == 0 && r.Seen != "":
		return r.Seen
	}
	return strconv.Itoa(r.StatusCode)
}

// latency is the Time (ms) column, "-" for a target that was not checked.
func latency(r row) string {
	if unchecked(r) {
		return "-"
	}
	return strconv.FormatFloat(r.LatencyMs, 'f', 1, 64)
}

func unchecked(r row) bool {
	return r.State == monitoringv1alpha1.StatePending && r.StatusCode == 0 && r.LatencyMs == 0
}

// flag marks a row that is not Up. A failure without any answer is an ERROR, a
// wrong answer is DOWN.
func flag(r row) string {
	switch {
	case r.State == monitoringv1alpha1.StateDown && !answered(r):
		return " [ERROR]"
	case r.State == monitoringv1alpha1.StateDown:
		return " [DOWN]"
	case r.State == monitoringv1alpha1.StateSlow:
		return " [SLOW]"
	case r.State == monitoringv1alpha1.StatePending:
		return " [PENDING]"
	}
	return ""
}

// answered tells whether the target answered, rightly or wrongly: with an HTTP
// code, with what Seen records, or, in status, which has no Seen, as the reasons
// that follow an answer say.
func answered(r row) bool {
	switch monitoringv1alpha1.CheckReason(r.Reason) {
	case monitoringv1alpha1.CheckNotServing, monitoringv1alpha1.CheckAssertionFailed:
		return true
	}
	return r.StatusCode != 0 || r.Seen != ""
}

// jsonReporter writes one JSON object a line: a row per target, then a summary
// object per report, which carries a "summary" key.
type jsonReporter struct {
	enc *json.Encoder
}

type jsonSummary struct {
	HealthCheck string      `json:"healthCheck,omitempty"`
	Summary     jsonCounted `json:"summary"`
}

type jsonCounted struct {
	Total           int32        `json:"total"`
	OK              int32        `json:"ok"`
	Up              int32        `json:"up"`
	Slow            int32        `json:"slow"`
	Down            int32        `json:"down"`
	Pending         int32        `json:"pending"`
	LastRunTime     *metav1.Time `json:"lastRunTime,omitempty"`
	DurationSeconds float64      `json:"durationSeconds"`
}

func (j *jsonReporter) begin(reportHeader) error { return nil }

func (j *jsonReporter) add(r row) error { return j.enc.Encode(r) }

func (j *jsonReporter) end(s summary) error {
	return j.enc.Encode(jsonSummary{
		HealthCheck: s.HealthCheck,
		Summary: jsonCounted{
			Total: s.Total, OK: s.OK(), Up: s.Up, Slow: s.Slow, Down: s.Down, Pending: s.Pending,
			LastRunTime: s.LastRunTime, DurationSeconds: math.Round(s.Duration.Seconds()*100) / 100,
		},
	})
}

// csvReporter writes a header row, then a row per target of every report.
type csvReporter struct {
	w      *csv.Writer
	live   bool
	headed bool
}

func (c *csvReporter) begin(reportHeader) error {
	if c.headed {
		return nil
	}
	c.headed = true
	header := []string{"healthCheck", "url", "name", "statusCode", "latencyMs", "state", "reason", "message"}
	if c.live {
		header = append(header, "lastTransitionTime")
	} else {
		header = append(header, "seen")
	}
	return c.write(header)
}

func (c *csvReporter) add(r row) error {
	record := []string{r.HealthCheck, r.URL, r.Name, strconv.Itoa(r.StatusCode),
		strconv.FormatFloat(r.LatencyMs, 'f', 1, 64), string(r.State), r.Reason, r.Message}
	if c.live {
		last := ""
		if r.LastTransitionTime != nil {
			last = r.LastTransitionTime.UTC().Format(time.RFC3339)
		}
		record = append(record, last)
	} else {
		record = append(record, r.Seen)
	}
	return c.write(record)
}

func (c *csvReporter) end(summary) error { return nil }

// write writes and flushes a record, so rows appear as checks complete.
func (c *csvReporter) write(record []string) error {
	if err := c.w.Write(record); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// milliseconds is a latency as the report shows it, to a tenth of a millisecond.
func milliseconds(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}
