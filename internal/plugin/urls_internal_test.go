package plugin

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// TestURLProblemsInBatchesMatchOneByOne: URL lists are admitted through the
// fast path (admittedAlone), then as HealthChecks of up to MaxTargets URLs,
// and that reports exactly what admitting each URL on its own with the CRD's
// schema and CEL reports, in the list's order, duplicates and URLs longer
// than a whole list included.
func TestURLProblemsInBatchesMatchOneByOne(t *testing.T) {
	bad := map[int]string{
		3:    "ftp://example.test/file",
		499:  "http://user:pw@example.test/",
		500:  "http:///no-host",
		777:  "http://" + strings.Repeat("a", monitoringv1alpha1.MaxURLLength) + ".test/",
		1100: "ftp://example.test/file", // a duplicate of line 4
		1200: "http://" + strings.Repeat("b", monitoringv1alpha1.MaxTotalURLLength) + ".test/",
	}
	tricky := trickyURLs()
	var urls []listedURL
	for i := range 1300 + len(tricky) {
		u := fmt.Sprintf("http://host-%d.test/health?token=s3cret", i%900) // duplicates of good URLs too
		if b, ok := bad[i]; ok {
			u = b
		}
		if i >= 1300 {
			u = tricky[i-1300]
		}
		urls = append(urls, listedURL{url: u, file: "urls.txt", line: i + 1})
	}

	got, err := urlProblems(t.Context(), urls)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, u := range urls {
		one, err := validatedURLProblems(t.Context(), []listedURL{u})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, one...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("in batches:\n%s\none by one:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, line := range []int{4, 500, 501, 778, 1101, 1201} {
		if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, fmt.Sprintf("urls.txt:%d: ", line)) }) {
			t.Errorf("no problem reported for urls.txt:%d", line)
		}
	}
	t.Logf("%d problems, e.g. %q", len(got), got[0])
	if len(got) < len(bad) {
		t.Errorf("%d problems for %d bad URLs", len(got), len(bad))
	}
}
