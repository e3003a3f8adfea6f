package checker

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0ms"},
		{0, "<1ms"},
		{999 * time.Microsecond, "<1ms"},
		{time.Millisecond, "1ms"},
		{120*time.Millisecond + 700*time.Microsecond, "120ms"},
		{999*time.Millisecond + 900*time.Microsecond, "999ms"},
		{time.Second, "1s"},
		{1234 * time.Millisecond, "1.2s"},
		{2500 * time.Millisecond, "2.5s"},
		{8 * time.Second, "8s"},
		{65*time.Second + 400*time.Millisecond, "1m5s"},
	}
	for _, tc := range tests {
		if got := FormatDuration(tc.in); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if got := string(appendDuration([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("appendDuration(%v) = %q, want %q", tc.in, got, "x"+tc.want)
		}
	}
}

// TestResponseMessage: the message of an HTTP answer, for each way it ends.
func TestResponseMessage(t *testing.T) {
	target := Target{SlowThreshold: 2 * time.Second, Expected: StatusCodes{}.effective()}
	tests := []struct {
		code    int
		latency time.Duration
		reason  Reason
		want    string
	}{
		{200, 500 * time.Microsecond, ReasonOK, "returned 200 in <1ms"},
		{204, 37 * time.Millisecond, ReasonOK, "returned 204 in 37ms"},
		{200, 2500 * time.Millisecond, ReasonSlowResponse, "returned 200 in 2.5s, slower than 2s"},
		{200, 3 * time.Millisecond, ReasonBodyMismatch, "returned 200 in 3ms, but the body did not match"},
		{503, 3 * time.Millisecond, ReasonUnexpectedStatus, "returned 503 in 3ms, expected " + target.Expected.String()},
	}
	for _, tc := range tests {
		if got := responseMessage(tc.code, tc.latency, tc.reason, target); got != tc.want {
			t.Errorf("responseMessage(%d, %v, %s) = %q, want %q", tc.code, tc.latency, tc.reason, got, tc.want)
		}
	}
}

func TestTruncateMessage(t *testing.T) {
	short := "returned 200 in 1ms"
	if got := truncateMessage(short); got != short {
		t.Errorf("short message changed: %q", got)
	}
	exact := strings.Repeat("é", MaxMessageLength)
	if got := truncateMessage(exact); got != exact {
		t.Error("message of exactly MaxMessageLength runes changed")
	}
	long := strings.Repeat("é", MaxMessageLength+10)
	got := truncateMessage(long)
	if n := utf8.RuneCountInString(got); n != MaxMessageLength || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
		t.Errorf("truncated to %d runes (valid UTF-8: %v): %q", n, utf8.ValidString(got), got)
	}
}

// TestUnexpectedStatusMessageIsBounded: a target expecting many scattered
// codes must still produce a message within MaxMessageLength.
func TestUnexpectedStatusMessageIsBounded(t *testing.T) {
	var entries []string
	for c := 100; c <= 598; c += 2 {
		entries = append(entries, strconv.Itoa(c))
	}
	codes, err := ParseStatusCodes(entries)
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{Expected: codes}.withDefaults()
	msg := truncateMessage(responseMessage(599, time.Second, ReasonUnexpectedStatus, tg))
	if n := utf8.RuneCountInString(msg); n > MaxMessageLength {
		t.Fatalf("message has %d runes", n)
	}
	if !strings.HasPrefix(msg, "returned 599 in 1s, expected 100,102,") {
		t.Fatalf("message = %q", msg)
	}
}

func TestResultOK(t *testing.T) {
	for _, r := range AllReasons {
		want := r == ReasonOK || r == ReasonSlowResponse
		if got := (Result{Reason: r}).OK(); got != want {
			t.Errorf("Result{Reason: %s}.OK() = %v", r, got)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.test/healthz", "https://example.test/healthz"},
		{"https://example.test/h?token=abc&x=1&x=2", "https://example.test/h?token=REDACTED&x=REDACTED&x=REDACTED"},
		{"https://user:pass@example.test/", "https://REDACTED@example.test/"},
		{"https://tok3n@example.test/", "https://REDACTED@example.test/"},
		{"https://example.test/#frag-secret", "https://example.test/"},
		{"https://example.test/?%zz=secret", "https://example.test/?REDACTED"},
		{"mailto:secret@example.test", "mailto:REDACTED"},
		{"http://[::1/bad?token=abc", "<invalid URL>"},
	}
	for _, tc := range tests {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
