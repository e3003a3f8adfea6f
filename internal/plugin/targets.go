package plugin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/crdschema"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// targetsOf resolves the targets of a defaulted HealthCheck exactly as the
// operator does (internal/resolve). run reads no cluster, so a target that needs
// a Secret (a header value or a CA bundle) is skipped.
func targetsOf(hc *monitoringv1alpha1.HealthCheck) ([]resolve.Target, error) {
	return resolve.Targets(hc.Spec, noSecrets)
}

// noSecrets is the Secrets run reads: none.
var noSecrets = resolve.Unreadable("which run cannot read")

// listedURL is a URL given on the command line or in a URL file, with where it
// came from for messages.
type listedURL struct {
	url string
	// file names where the URL came from, such as urls.txt or --url, and line
	// is its line there, 0 for none.
	file string
	line int
}

// source is where the URL came from, such as urls.txt:12 or --url.
func (u listedURL) source() string {
	if u.line == 0 {
		return u.file
	}
	return u.file + ":" + strconv.Itoa(u.line)
}

// readURLList reads one URL a line. Blank lines and lines starting with # are
// skipped, and so is a comment after a URL when a space precedes its #: a #
// inside a URL starts its fragment.
func readURLList(source string, r io.Reader) ([]listedURL, error) {
	var urls []listedURL
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; scanner.Scan(); line++ {
		text := scanner.Text()
		if i := strings.Index(text, " #"); i >= 0 {
			text = text[:i]
		}
		if i := strings.Index(text, "\t#"); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		urls = append(urls, listedURL{url: text, file: source, line: line})
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return urls, nil
}

// urlProblems checks each URL with the rules the API server applies to a
// target's url, so a list that run accepts can be pasted into a HealthCheck.
// Problems come in the order of urls, each naming where its URL came from.
// A URL that admittedAlone vouches for has none; the others, and only they,
// go through the CRD's schema and CEL validation.
func urlProblems(ctx context.Context, urls []listedURL) ([]string, error) {
	rest := notAdmittedAlone(urls)
	if len(rest) == 0 {
		return nil, nil
	}
	return validatedURLProblems(ctx, rest)
}

// notAdmittedAlone returns, in order, the URLs of urls that admittedAlone does
// not vouch for. A long list is split between the cores: a URL costs two
// parses, about a microsecond.
func notAdmittedAlone(urls []listedURL) []listedURL {
	const chunk = 4096
	admitted := make([]bool, len(urls))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for start := 0; start < len(urls); start += chunk {
		end := min(start+chunk, len(urls))
		g.Go(func() error {
			for i := start; i < end; i++ {
				admitted[i] = admittedAlone(urls[i].url)
			}
			return nil
		})
	}
	_ = g.Wait() // no chunk returns an error
	var rest []listedURL
	for i, u := range urls {
		if !admitted[i] {
			rest = append(rest, u)
		}
	}
	return rest
}

// validatedURLProblems is urlProblems through the CRD's schema and CEL rules
// alone, for every URL of urls.
func validatedURLProblems(ctx context.Context, urls []listedURL) ([]string, error) {
	v, err := healthCheckValidator()
	if err != nil {
		return nil, err
	}
	// A URL's problems depend on the URL alone: each distinct one is checked once.
	var distinct []string
	seen := map[string]bool{}
	for _, u := range urls {
		if !seen[u.url] {
			seen[u.url] = true
			distinct = append(distinct, u.url)
		}
	}
	// The rules are CEL and schema checks, tens of microseconds a URL: batches
	// are admitted on every core.
	batches := urlBatches(distinct)
	found := make([]map[string][]string, len(batches))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, batch := range batches {
		g.Go(func() error {
			found[i] = batchReasons(ctx, v, batch)
			return nil
		})
	}
	_ = g.Wait() // no batch returns an error
	reasons := map[string][]string{}
	for _, f := range found {
		maps.Copy(reasons, f)
	}
	var problems []string
	for _, u := range urls {
		for _, reason := range reasons[u.url] {
			problems = append(problems, fmt.Sprintf("%s: %s", u.source(), redactURLs(reason, []string{u.url})))
		}
	}
	return problems, nil
}

// urlBatches splits urls into lists a HealthCheck may hold: at most MaxTargets
// URLs of at most MaxTotalURLLength characters together. Admitting a list at
// once costs little more than admitting one URL, and a long URL file holds
// tens of thousands.
func urlBatches(urls []string) [][]string {
	var batches [][]string
	var batch []string
	length := 0
	for _, u := range urls {
		if len(batch) == monitoringv1alpha1.MaxTargets || (len(batch) > 0 && length+len(u) > monitoringv1alpha1.MaxTotalURLLength) {
			batches = append(batches, batch)
			batch, length = nil, 0
		}
		batch = append(batch, u)
		length += len(u)
	}
	if len(batch) > 0 {
		batches = append(batches, batch)
	}
	return batches
}

// batchReasons admits urls as the targets of one HealthCheck and returns the
// reasons each URL is refused for, with its "spec.targets[i]." prefix removed.
// A reason that names no single target (a URL longer than the whole list may
// be) is not anyone's: then each URL of the batch is admitted on its own.
func batchReasons(ctx context.Context, v *crdschema.Validator, urls []string) map[string][]string {
	reasons := map[string][]string{}
	for _, reason := range v.Admit(ctx, urlsObject(v, urls)) {
		i, rest, ok := targetReason(reason, len(urls))
		if !ok {
			if len(urls) == 1 {
				reasons[urls[0]] = append(reasons[urls[0]], reason)
				continue
			}
			reasons = map[string][]string{}
			for _, u := range urls {
				for url, rs := range batchReasons(ctx, v, []string{u}) {
					reasons[url] = rs
				}
			}
			return reasons
		}
		reasons[urls[i]] = append(reasons[urls[i]], rest)
	}
	return reasons
}

// urlsObject is a HealthCheck whose targets are urls.
func urlsObject(v *crdschema.Validator, urls []string) map[string]any {
	targets := make([]any, len(urls))
	for i, u := range urls {
		targets[i] = map[string]any{"url": u}
	}
	gvk := v.GroupVersionKind()
	return map[string]any{
		"apiVersion": gvk.GroupVersion().String(),
		"kind":       gvk.Kind,
		"metadata":   map[string]any{"name": "urls", "namespace": defaultNamespace},
		"spec":       map[string]any{"targets": targets},
	}
}

// targetReason splits "spec.targets[i].rest" into i and rest.
func targetReason(reason string, n int) (int, string, bool) {
	const prefix = "spec.targets["
	if !strings.HasPrefix(reason, prefix) {
		return 0, "", false
	}
	index, rest, ok := strings.Cut(reason[len(prefix):], "].")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= n {
		return 0, "", false
	}
	return i, rest, true
}
