package checker

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestBodyAssertions(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"ok","version":"1.4.2"}`))
	})
	late := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat(" ", MaxAssertedBodyBytes) + "ok"))
	})
	cases := []struct {
		name   string
		url    string
		target Target
		want   Reason
	}{
		{"substring found", srv.URL, Target{BodyContains: `"status":"ok"`}, ReasonOK},
		{"substring missing", srv.URL, Target{BodyContains: `"status":"degraded"`}, ReasonBodyMismatch},
		{"regexp matches", srv.URL, Target{BodyMatches: regexp.MustCompile(`"version":"1\.\d+\.\d+"`)}, ReasonOK},
		{"regexp does not match", srv.URL, Target{BodyMatches: regexp.MustCompile(`"version":"2\.`)}, ReasonBodyMismatch},
		{"both must hold", srv.URL, Target{BodyContains: "ok", BodyMatches: regexp.MustCompile(`^nothing`)}, ReasonBodyMismatch},
		{"only the first MiB is read", late.URL, Target{BodyContains: "ok"}, ReasonBodyMismatch},
		{"an unexpected status wins over the body", srv.URL, Target{BodyContains: "ok", Expected: mustCodes(t, "500")}, ReasonUnexpectedStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.target.URL = tc.url
			res := newChecker(t, nil).Check(ctxFor(t), tc.target)
			if res.Reason != tc.want {
				t.Fatalf("reason %s (%s), want %s", res.Reason, res.Message, tc.want)
			}
			if res.Reason == ReasonBodyMismatch && (res.OK() || strings.Contains(res.Message, "1.4.2")) {
				t.Fatalf("a mismatch must be a failure and never quote the body: %+v", res)
			}
		})
	}
}

func TestCertificateExpiryIsReportedForHTTPSOnly(t *testing.T) {
	tlsSrv := newTLSServer(t, func(http.ResponseWriter, *http.Request) {})
	res := newChecker(t, nil).Check(ctxFor(t), Target{URL: tlsSrv.URL, InsecureSkipVerify: true})
	if res.CertificateExpiresAt == nil || !res.CertificateExpiresAt.Equal(tlsSrv.Certificate().NotAfter) {
		t.Fatalf("certificate expiry %v, want %v", res.CertificateExpiresAt, tlsSrv.Certificate().NotAfter)
	}
	plain := newServer(t, func(http.ResponseWriter, *http.Request) {})
	if res := newChecker(t, nil).Check(ctxFor(t), Target{URL: plain.URL}); res.CertificateExpiresAt != nil {
		t.Fatalf("http target has a certificate expiry %v", res.CertificateExpiresAt)
	}
}

func mustCodes(t *testing.T, entries ...string) StatusCodes {
	t.Helper()
	s, err := ParseStatusCodes(entries)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
