package maintenance_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/maintenance"
)

// win is a window of spec.maintenance; duration is in time.ParseDuration's form.
func win(schedule, duration, zone string) monitoringv1alpha1.MaintenanceWindow {
	d, err := time.ParseDuration(duration)
	if err != nil {
		panic(err)
	}
	return monitoringv1alpha1.MaintenanceWindow{Schedule: schedule, Duration: metav1.Duration{Duration: d}, TimeZone: zone}
}

// at is an RFC 3339 time; "" is the zero time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustParse(t testing.TB, windows ...monitoringv1alpha1.MaintenanceWindow) *maintenance.Schedule {
	t.Helper()
	s, err := maintenance.Parse(windows)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		windows []monitoringv1alpha1.MaintenanceWindow
		err     string // empty when valid
	}{
		{"no windows", nil, ""},
		{"UTC by default", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * SUN", "2h", "")}, ""},
		{"named zone", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "1m", "Europe/Berlin")}, ""},
		{"UTC named", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "168h", "UTC")}, ""},
		{"ranges, steps, lists and names", []monitoringv1alpha1.MaintenanceWindow{win("*/15 9-17 1,15 JAN-MAR mon-fri", "10m", "America/New_York")}, ""},
		{"surrounding spaces", []monitoringv1alpha1.MaintenanceWindow{win("  0  2 * * *  ", "1h", "")}, ""},
		{"February 29", []monitoringv1alpha1.MaintenanceWindow{win("0 0 29 2 *", "1h", "")}, ""},
		{"eight windows", []monitoringv1alpha1.MaintenanceWindow{
			win("0 0 * * *", "1h", ""), win("0 1 * * *", "1h", ""), win("0 2 * * *", "1h", ""), win("0 3 * * *", "1h", ""),
			win("0 4 * * *", "1h", ""), win("0 5 * * *", "1h", ""), win("0 6 * * *", "1h", ""), win("0 7 * * *", "1h", ""),
		}, ""},

		{"an hour out of range, in the second window",
			[]monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "1h", ""), win("0 25 * * *", "1h", "")},
			`spec.maintenance[1].schedule: "0 25 * * *" is not a valid cron expression: end of range (25) above maximum (23): 25`},
		{"six fields", []monitoringv1alpha1.MaintenanceWindow{win("0 0 2 * * *", "1h", "")},
			`spec.maintenance[0].schedule: "0 0 2 * * *" is not a valid cron expression: expected exactly 5 fields, found 6: [0 0 2 * * *]`},
		{"four fields", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * *", "1h", "")},
			`spec.maintenance[0].schedule: "0 2 * *" is not a valid cron expression: expected exactly 5 fields, found 4: [0 2 * *]`},
		{"an unknown day name", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * SUNDAY", "1h", "")},
			`spec.maintenance[0].schedule: "0 2 * * SUNDAY" is not a valid cron expression: failed to parse int from SUNDAY: strconv.Atoi: parsing "SUNDAY": invalid syntax`},
		{"an empty schedule", []monitoringv1alpha1.MaintenanceWindow{win("", "1h", "")},
			`spec.maintenance[0].schedule: "" is not a valid cron expression: empty spec string`},
		{"a CRON_TZ prefix", []monitoringv1alpha1.MaintenanceWindow{win("CRON_TZ=Europe/Berlin 0 2 * * *", "1h", "")},
			`spec.maintenance[0].schedule: "CRON_TZ=Europe/Berlin 0 2 * * *" is not a valid cron expression: a time zone prefix is not allowed: set timeZone`},
		{"a TZ prefix alone", []monitoringv1alpha1.MaintenanceWindow{win("TZ=UTC", "1h", "")},
			`spec.maintenance[0].schedule: "TZ=UTC" is not a valid cron expression: a time zone prefix is not allowed: set timeZone`},
		{"a descriptor", []monitoringv1alpha1.MaintenanceWindow{win("@midnight", "1h", "")},
			`spec.maintenance[0].schedule: "@midnight" is not a valid cron expression: descriptors such as @daily are not allowed: write the 5 fields, such as "0 0 * * *"`},
		{"@every", []monitoringv1alpha1.MaintenanceWindow{win("@every 24h", "1h", "")},
			`spec.maintenance[0].schedule: "@every 24h" is not a valid cron expression: descriptors such as @daily are not allowed: write the 5 fields, such as "0 0 * * *"`},
		{"no such date", []monitoringv1alpha1.MaintenanceWindow{win("0 0 30 2 *", "1h", "")},
			`spec.maintenance[0].schedule: "0 0 30 2 *" is not a valid cron expression: it matches no date`},
		{"a duration below 1m", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "59s", "")},
			`spec.maintenance[0].duration: 59s is not from 1m to 168h`},
		{"a duration above 168h", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "168h1m", "")},
			`spec.maintenance[0].duration: 168h1m0s is not from 1m to 168h`},
		{"an unknown zone", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "1h", "Mars/Olympus")},
			`spec.maintenance[0].timeZone: unknown time zone "Mars/Olympus"`},
		{"the machine's zone", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "1h", "Local")},
			`spec.maintenance[0].timeZone: unknown time zone "Local"`},
		{"a path for a zone", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "1h", "../etc/passwd")},
			`spec.maintenance[0].timeZone: unknown time zone "../etc/passwd"`},
		{"the first problem of a window", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "1h", ""), win("61 * * * *", "0s", "Mars/Olympus")},
			`spec.maintenance[1].schedule: "61 * * * *" is not a valid cron expression: end of range (61) above maximum (59): 61`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := maintenance.Parse(tc.windows)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("Parse accepted it, want %s", tc.err)
			case tc.err != "" && err.Error() != tc.err:
				t.Fatalf("Parse:\n got %s\nwant %s", err, tc.err)
			case tc.err != "" && s != nil:
				t.Errorf("Parse returned a schedule with its error")
			case tc.err == "" && (s == nil) != (len(tc.windows) == 0):
				t.Errorf("Parse = %v, want nil only for no windows", s)
			}
		})
	}
}

func TestAt(t *testing.T) {
	type want struct {
		active    bool
		end, next string
	}
	// closed and open build the expectations; an open window's next is its end.
	closed := func(next string) want { return want{next: next} }
	open := func(end string) want { return want{active: true, end: end, next: end} }

	daily := []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "2h", "")}
	// Friday 22:00 to Monday 06:00 in Berlin (CET, UTC+1, in December).
	weekend := []monitoringv1alpha1.MaintenanceWindow{win("0 22 * * FRI", "56h", "Europe/Berlin")}
	cases := []struct {
		name    string
		windows []monitoringv1alpha1.MaintenanceWindow
		now     string
		want    want
	}{
		{"before", daily, "2026-12-06T01:59:59Z", closed("2026-12-06T02:00:00Z")},
		{"at the exact start", daily, "2026-12-06T02:00:00Z", open("2026-12-06T04:00:00Z")},
		{"inside", daily, "2026-12-06T03:00:00Z", open("2026-12-06T04:00:00Z")},
		{"a nanosecond before the end", daily, "2026-12-06T03:59:59.999999999Z", open("2026-12-06T04:00:00Z")},
		{"at the exact end", daily, "2026-12-06T04:00:00Z", closed("2026-12-07T02:00:00Z")},
		{"after", daily, "2026-12-06T12:00:00Z", closed("2026-12-07T02:00:00Z")},
		{"now in another zone", daily, "2026-12-06T04:00:00+01:00", open("2026-12-06T04:00:00Z")},

		{"weekly, before", weekend, "2026-12-04T20:59:00Z", closed("2026-12-04T21:00:00Z")},
		{"weekly, on Sunday", weekend, "2026-12-06T12:00:00Z", open("2026-12-07T05:00:00Z")},
		{"weekly, on Monday after the end", weekend, "2026-12-07T05:00:00Z", closed("2026-12-11T21:00:00Z")},
		{"weekly, midweek", weekend, "2026-12-09T12:00:00Z", closed("2026-12-11T21:00:00Z")},
		{"weekdays, on Saturday", []monitoringv1alpha1.MaintenanceWindow{win("0 9 * * MON-FRI", "8h", "")},
			"2026-12-05T10:00:00Z", closed("2026-12-07T09:00:00Z")},

		{"the next of two", []monitoringv1alpha1.MaintenanceWindow{win("0 4 * * *", "1h", ""), win("0 3 * * *", "1h", "")},
			"2026-12-06T00:00:00Z", closed("2026-12-06T03:00:00Z")},
		{"overlapping, the longer one ends last", []monitoringv1alpha1.MaintenanceWindow{win("0 1 * * *", "3h", ""), win("0 2 * * *", "1h", "")},
			"2026-12-06T02:30:00Z", open("2026-12-06T04:00:00Z")},
		{"overlapping, the later one ends last", []monitoringv1alpha1.MaintenanceWindow{win("0 1 * * *", "2h", ""), win("30 2 * * *", "2h", "")},
			"2026-12-06T01:30:00Z", open("2026-12-06T04:30:00Z")},
		{"overlapping, each open", []monitoringv1alpha1.MaintenanceWindow{win("0 1 * * *", "2h", ""), win("30 2 * * *", "2h", "")},
			"2026-12-06T02:45:00Z", open("2026-12-06T04:30:00Z")},
		{"chained back to back", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "2h", ""), win("0 4 * * *", "1h", "")},
			"2026-12-06T03:00:00Z", open("2026-12-06T05:00:00Z")},
		{"chained, in the second", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "2h", ""), win("0 4 * * *", "1h", "")},
			"2026-12-06T04:00:00Z", open("2026-12-06T05:00:00Z")},
		{"chained, after the chain", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "2h", ""), win("0 4 * * *", "1h", "")},
			"2026-12-06T05:00:00Z", closed("2026-12-07T02:00:00Z")},
		{"a minute apart is not a chain", []monitoringv1alpha1.MaintenanceWindow{win("0 2 * * *", "2h", ""), win("1 4 * * *", "1h", "")},
			"2026-12-06T03:00:00Z", open("2026-12-06T04:00:00Z")},
		{"a schedule chained to itself", []monitoringv1alpha1.MaintenanceWindow{win("0 */6 * * *", "6h", "")},
			"2026-12-06T03:00:00Z", open("2026-12-13T06:00:00Z")}, // followed to 168h past now
		{"always open, followed to 168h", []monitoringv1alpha1.MaintenanceWindow{win("0 0 * * *", "24h", "")},
			"2026-12-06T12:00:00Z", open("2026-12-14T00:00:00Z")},
		{"always open, followed for 64 windows", []monitoringv1alpha1.MaintenanceWindow{win("* * * * *", "1m", "")},
			"2026-12-06T12:00:30Z", open("2026-12-06T13:05:00Z")},
		{"every minute for a week", []monitoringv1alpha1.MaintenanceWindow{win("* * * * *", "168h", "")},
			"2026-12-06T12:00:00Z", open("2026-12-13T12:00:00Z")},
		{"every minute for a week, between minutes", []monitoringv1alpha1.MaintenanceWindow{win("* * * * *", "168h", "")},
			"2026-12-06T12:00:30Z", open("2026-12-20T12:00:00Z")},
		{"the latest of many starts", []monitoringv1alpha1.MaintenanceWindow{win("*/10 * * * *", "25m", "")},
			"2026-12-06T12:34:00Z", open("2026-12-07T10:15:00Z")}, // 12:55, then 64 links of 20m
		{"the latest of many starts, not chained", []monitoringv1alpha1.MaintenanceWindow{win("*/10 * * * *", "5m", "")},
			"2026-12-06T12:37:00Z", closed("2026-12-06T12:40:00Z")},
		{"the latest of many starts, open", []monitoringv1alpha1.MaintenanceWindow{win("*/10 * * * *", "5m", "")},
			"2026-12-06T12:43:00Z", open("2026-12-06T12:45:00Z")},
		{"a start every minute of an hour", []monitoringv1alpha1.MaintenanceWindow{win("* 2 * * *", "90m", "")},
			"2026-12-06T03:15:00Z", open("2026-12-06T04:29:00Z")},
		{"a leap day", []monitoringv1alpha1.MaintenanceWindow{win("0 0 29 2 *", "24h", "")},
			"2026-12-06T00:00:00Z", closed("2028-02-29T00:00:00Z")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			active, end, next := mustParse(t, tc.windows...).At(at(t, tc.now))
			if active != tc.want.active || !end.Equal(at(t, tc.want.end)) || !next.Equal(at(t, tc.want.next)) {
				t.Errorf("At(%s) = %v, %s, %s; want %v, %q, %q", tc.now, active, fmtTime(end), fmtTime(next),
					tc.want.active, tc.want.end, tc.want.next)
			}
		})
	}
}

// TestAtOnDSTDays documents what robfig's Next makes of a schedule in a zone
// whose clocks change: in Europe/Berlin, 2026-03-29 02:00 CET becomes 03:00
// CEST (01:00Z), and 2026-10-25 03:00 CEST becomes 02:00 CET (01:00Z).
func TestAtOnDSTDays(t *testing.T) {
	nightly := win("0 2 * * *", "2h", "Europe/Berlin")
	cases := []struct {
		name   string
		window monitoringv1alpha1.MaintenanceWindow
		now    string
		active bool
		end    string
		next   string
	}{
		{"the day before spring forward", nightly, "2026-03-28T01:30:00Z", true, "2026-03-28T03:00:00Z", "2026-03-28T03:00:00Z"},
		{"spring forward skips the window", nightly, "2026-03-29T00:30:00Z", false, "", "2026-03-30T00:00:00Z"},
		{"spring forward, after the change", nightly, "2026-03-29T01:30:00Z", false, "", "2026-03-30T00:00:00Z"},
		{"the day after spring forward, in CEST", nightly, "2026-03-30T00:00:00Z", true, "2026-03-30T02:00:00Z", "2026-03-30T02:00:00Z"},
		{"the weekly window of that Sunday is skipped too", win("0 2 * * SUN", "2h", "Europe/Berlin"),
			"2026-03-28T12:00:00Z", false, "", "2026-04-05T00:00:00Z"},
		{"an hour that exists is kept", win("0 3 * * *", "1h", "Europe/Berlin"),
			"2026-03-29T00:30:00Z", false, "", "2026-03-29T01:00:00Z"},

		{"the day before fall back", nightly, "2026-10-24T00:30:00Z", true, "2026-10-24T02:00:00Z", "2026-10-24T02:00:00Z"},
		{"fall back opens at 02:00 CEST", nightly, "2026-10-25T00:00:00Z", true, "2026-10-25T03:00:00Z", "2026-10-25T03:00:00Z"},
		{"and again at 02:00 CET: one window of 3h", nightly, "2026-10-25T02:30:00Z", true, "2026-10-25T03:00:00Z", "2026-10-25T03:00:00Z"},
		{"fall back, after", nightly, "2026-10-25T03:00:00Z", false, "", "2026-10-26T01:00:00Z"},
		{"a short window opens twice", win("30 2 * * *", "30m", "Europe/Berlin"),
			"2026-10-25T00:45:00Z", true, "2026-10-25T01:00:00Z", "2026-10-25T01:00:00Z"},
		{"a short window, between the two", win("30 2 * * *", "30m", "Europe/Berlin"),
			"2026-10-25T01:15:00Z", false, "", "2026-10-25T01:30:00Z"},
		{"a short window, the second", win("30 2 * * *", "30m", "Europe/Berlin"),
			"2026-10-25T01:30:00Z", true, "2026-10-25T02:00:00Z", "2026-10-25T02:00:00Z"},
		{"a window across the change keeps its length", win("0 1 * * *", "4h", "Europe/Berlin"),
			"2026-10-25T00:00:00Z", true, "2026-10-25T03:00:00Z", "2026-10-25T03:00:00Z"},
		{"New York springs forward too", win("30 2 * * *", "1h", "America/New_York"),
			"2026-03-08T06:00:00Z", false, "", "2026-03-09T06:30:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			active, end, next := mustParse(t, tc.window).At(at(t, tc.now))
			if active != tc.active || !end.Equal(at(t, tc.end)) || !next.Equal(at(t, tc.next)) {
				t.Errorf("At(%s) = %v, %s, %s; want %v, %q, %q", tc.now, active, fmtTime(end), fmtTime(next), tc.active, tc.end, tc.next)
			}
		})
	}
}

func TestNilScheduleIsNeverActive(t *testing.T) {
	for _, windows := range [][]monitoringv1alpha1.MaintenanceWindow{nil, {}} {
		s, err := maintenance.Parse(windows)
		if err != nil || s != nil {
			t.Fatalf("Parse(%v) = %v, %v; want nil, nil", windows, s, err)
		}
		active, end, next := s.At(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
		if active || !end.IsZero() || !next.IsZero() {
			t.Errorf("At = %v, %s, %s; want false and zero times", active, end, next)
		}
	}
}

func TestAtReturnsTimesInNowsLocation(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	s := mustParse(t, win("0 2 * * *", "2h", "Europe/Berlin"))
	_, end, _ := s.At(time.Date(2026, 12, 6, 10, 0, 0, 0, tokyo)) // 01:00Z, 02:00 in Berlin
	if end.Location() != tokyo || end.Hour() != 12 {
		t.Errorf("end = %s, want 12:00 in Asia/Tokyo", end)
	}
}

func TestMessages(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ got, want string }{
		{maintenance.Message(time.Date(2026, 12, 6, 5, 0, 0, 0, berlin)), "In a maintenance window until 2026-12-06T04:00:00Z"},
		{maintenance.IdleMessage(time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)), "Not in a maintenance window; the next opens at 2026-12-07T02:00:00Z"},
		{maintenance.IdleMessage(time.Time{}), "Not in a maintenance window"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return `""`
	}
	return t.UTC().Format(time.RFC3339Nano)
}
