package plugin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// defaultInterval is the schema's default interval; LoadManifests has applied it,
// so this only guards HealthChecks built in code.
const defaultInterval = 30 * time.Second

// probe is one target of a run: what the checker runs and how the report names it.
type probe struct {
	url    string
	name   string
	target checker.Target
	// skip, when set, says why the target is not checked.
	skip string
}

// probesOf resolves the targets of a defaulted HealthCheck the way the operator
// does (controllers/probes.go): the effective timeout is the target's, else the
// spec's, else 8s clamped to the interval; the slow threshold is the target's,
// else the spec's, else 2s; redirects and TLS follow the target's settings.
// run reads no cluster, so a target that needs a Secret (a header value or a CA
// bundle) is skipped.
func probesOf(hc *monitoringv1alpha1.HealthCheck) []probe {
	probes := make([]probe, 0, len(hc.Spec.Targets))
	for _, t := range hc.Spec.Targets {
		probes = append(probes, probeOf(hc.Spec, t))
	}
	return probes
}

func probeOf(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) probe {
	p := probe{url: t.URL, name: displayName(t)}
	// LoadManifests has checked the codes.
	codes, _ := checker.ParseStatusCodes(t.ExpectedStatusCodes)
	p.target = checker.Target{
		URL:               t.URL,
		Method:            string(t.Method),
		Timeout:           effectiveTimeout(spec, t),
		SlowThreshold:     effectiveSlowThreshold(spec, t),
		Expected:          codes,
		NoFollowRedirects: t.FollowRedirects != nil && !*t.FollowRedirects,
	}
	if t.TLS != nil {
		p.target.InsecureSkipVerify = t.TLS.InsecureSkipVerify
		if ref := t.TLS.CABundleSecretRef; ref != nil {
			p.skip = fmt.Sprintf("the CA bundle comes from key %q of Secret %q, which run cannot read", ref.Key, ref.Name)
			return p
		}
	}
	for _, h := range t.Headers {
		if h.ValueFrom != nil {
			ref := h.ValueFrom.SecretKeyRef
			p.skip = fmt.Sprintf("header %s comes from key %q of Secret %q, which run cannot read", h.Name, ref.Key, ref.Name)
			return p
		}
		p.target.Headers = append(p.target.Headers, checker.Header{Name: h.Name, Value: h.Value})
	}
	return p
}

func effectiveTimeout(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) time.Duration {
	switch {
	case t.Timeout != nil:
		return t.Timeout.Duration
	case spec.Timeout != nil:
		return spec.Timeout.Duration
	}
	interval := defaultInterval
	if spec.Interval != nil {
		interval = spec.Interval.Duration
	}
	return min(checker.DefaultTimeout, interval)
}

func effectiveSlowThreshold(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) time.Duration {
	switch {
	case t.SlowThreshold != nil:
		return t.SlowThreshold.Duration
	case spec.SlowThreshold != nil:
		return spec.SlowThreshold.Duration
	}
	return checker.DefaultSlowThreshold
}

// displayName is the target's name, else its URL with credentials and query
// values redacted.
func displayName(t monitoringv1alpha1.Target) string {
	if t.Name != "" {
		return t.Name
	}
	return checker.RedactURL(t.URL)
}

// listedURL is a URL given on the command line or in a URL file, with where it
// came from for messages.
type listedURL struct {
	url    string
	source string
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
		urls = append(urls, listedURL{url: text, source: fmt.Sprintf("%s:%d", source, line)})
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return urls, nil
}

// urlProblems checks each URL with the rules the API server applies to a
// target's url, so a list that run accepts can be pasted into a HealthCheck.
func urlProblems(ctx context.Context, urls []listedURL) ([]string, error) {
	v, err := healthCheckValidator()
	if err != nil {
		return nil, err
	}
	gvk := v.GroupVersionKind()
	var problems []string
	for _, u := range urls {
		obj := map[string]any{
			"apiVersion": gvk.GroupVersion().String(),
			"kind":       gvk.Kind,
			"metadata":   map[string]any{"name": "urls", "namespace": defaultNamespace},
			"spec":       map[string]any{"targets": []any{map[string]any{"url": u.url}}},
		}
		for _, reason := range v.Admit(ctx, obj) {
			reason = strings.TrimPrefix(reason, "spec.targets[0].")
			problems = append(problems, fmt.Sprintf("%s: %s", u.source, redactURLs(reason, []string{u.url})))
		}
	}
	return problems, nil
}
