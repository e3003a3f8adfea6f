package plugin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

func TestStatusColumnAndFlag(t *testing.T) {
	const (
		up      = monitoringv1alpha1.StateUp
		down    = monitoringv1alpha1.StateDown
		pending = monitoringv1alpha1.StatePending
	)
	cases := []struct {
		name       string
		r          row
		status     string
		flag       string
		answeredOK bool
	}{
		{"an HTTP code", row{StatusCode: 200, LatencyMs: 5, State: up, Reason: "OK"}, "200", "", true},
		{"a wrong HTTP code", row{StatusCode: 503, LatencyMs: 5, State: down, Reason: "UnexpectedStatus"}, "503", " [DOWN]", true},
		{"an open port", row{Seen: "OPEN", LatencyMs: 5, State: up, Reason: "OK"}, "OPEN", "", true},
		{"a TLS handshake", row{Seen: "TLS", LatencyMs: 5, State: up, Reason: "OK"}, "TLS", "", true},
		{"a gRPC service not serving", row{Seen: "NOT_SERVING", LatencyMs: 5, State: down, Reason: "NotServing"}, "NOT_SERVING", " [DOWN]", true},
		{"a failed assertion on an open port", row{Seen: "OPEN", LatencyMs: 5, State: down, Reason: "AssertionFailed"}, "OPEN", " [DOWN]", true},
		{"status of a gRPC target not serving", row{LatencyMs: 5, State: down, Reason: "NotServing"}, "0", " [DOWN]", true},
		{"no answer", row{LatencyMs: 5, State: down, Reason: "ConnectionRefused"}, "0", " [ERROR]", false},
		{"not checked", row{State: pending, Reason: "SecretNotFound"}, "-", " [PENDING]", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := status(tc.r); got != tc.status {
				t.Errorf("status = %q, want %q", got, tc.status)
			}
			if got := flag(tc.r); got != tc.flag {
				t.Errorf("flag = %q, want %q", got, tc.flag)
			}
			if got := answered(tc.r); got != tc.answeredOK {
				t.Errorf("answered = %v, want %v", got, tc.answeredOK)
			}
		})
	}
}

func TestStatusWidthFitsGRPCStatuses(t *testing.T) {
	cases := []struct {
		urls []string
		want int
	}{
		{[]string{"https://example.com/", "tcp://db:5432", "tls://mail:465"}, seedStatusWidth},
		{[]string{"https://example.com/", "GRPC://api:9090"}, grpcStatusWidth},
		{[]string{"grpcs://api:9443/shop.Cart"}, grpcStatusWidth},
		{nil, seedStatusWidth},
	}
	for _, tc := range cases {
		if got := statusWidth(tc.urls); got != tc.want {
			t.Errorf("statusWidth(%q) = %d, want %d", tc.urls, got, tc.want)
		}
	}
}

func TestTableShowsWhatAnyProtocolSaw(t *testing.T) {
	var out bytes.Buffer
	rep := newReporter(outputTable, &out, false, time.Time{})
	urls := []string{"tcp://db:5432", "grpc://api:9090/shop.Cart", "https://example.com/"}
	if err := rep.begin(reportHeader{intro: "Checking 3 URLs with 3 workers...", statusWidth: statusWidth(urls)}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []row{
		{URL: urls[0], Seen: "OPEN", LatencyMs: 1.5, State: monitoringv1alpha1.StateUp, Reason: "OK"},
		{URL: urls[1], Seen: "SERVICE_UNKNOWN", LatencyMs: 2, State: monitoringv1alpha1.StateDown, Reason: "NotServing"},
		{URL: urls[2], StatusCode: 200, LatencyMs: 30, State: monitoringv1alpha1.StateDown, Reason: "AssertionFailed"},
	} {
		if err := rep.add(r); err != nil {
			t.Fatal(err)
		}
	}
	s := summary{Duration: 30 * time.Millisecond}
	s.Total, s.Up, s.Down = 3, 1, 2
	if err := rep.end(s); err != nil {
		t.Fatal(err)
	}
	want := `Checking 3 URLs with 3 workers...

Status           Time (ms) URL
------------------------------------------------------------
OPEN                   1.5 tcp://db:5432
SERVICE_UNKNOWN        2.0 grpc://api:9090/shop.Cart [DOWN]
200                   30.0 https://example.com/ [DOWN]

Done in 0.03s | OK: 1/3
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestJSONCarriesSeenAndTheFailedAssertion(t *testing.T) {
	var out bytes.Buffer
	rep := newReporter(outputJSON, &out, false, time.Time{})
	rows := []row{
		{URL: "tcp://db:5432", Name: "db", Seen: "OPEN", LatencyMs: 1.5, State: monitoringv1alpha1.StateUp, Reason: "OK", Message: "open in 1ms"},
		{URL: "https://example.com/", Name: "web", StatusCode: 200, LatencyMs: 30, State: monitoringv1alpha1.StateDown,
			Reason: "AssertionFailed", Message: "actuator reports UP",
			Assertion: &failedAssertion{Index: 1, Expression: `response.json.status == "UP"`, Message: "actuator reports UP"}},
	}
	for _, r := range rows {
		if err := rep.add(r); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"url":"tcp://db:5432","name":"db","statusCode":0,"latencyMs":1.5,"state":"Up","reason":"OK","message":"open in 1ms","seen":"OPEN"}
{"url":"https://example.com/","name":"web","statusCode":200,"latencyMs":30,"state":"Down","reason":"AssertionFailed","message":"actuator reports UP","assertion":{"index":1,"expression":"response.json.status == \"UP\"","message":"actuator reports UP"}}
`
	// The HTTP row has neither seen nor assertion: both are left out, not empty.
	if got := out.String(); got != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", got, want)
	}
}

func TestStatusRowsNameTheSourceOfDiscoveredTargets(t *testing.T) {
	hc := &monitoringv1alpha1.HealthCheck{Status: monitoringv1alpha1.HealthCheckStatus{Targets: []monitoringv1alpha1.TargetStatus{
		{URL: "https://a.example/", State: monitoringv1alpha1.StateUp},
		{URL: "https://shop.example/", State: monitoringv1alpha1.StateUp, Source: "Ingress/shop"},
	}}}
	rows, _ := statusReport(hc)
	if len(rows) != 2 || rows[0].Source != "" || rows[1].Source != "Ingress/shop" {
		t.Fatalf("rows %+v: want the spec target without a source and the discovered one with Ingress/shop", rows)
	}
	var out strings.Builder
	if err := json.NewEncoder(&out).Encode(rows[1]); err != nil || !strings.Contains(out.String(), `"source":"Ingress/shop"`) {
		t.Fatalf("JSON %s (%v) does not carry the source", out.String(), err)
	}
}
