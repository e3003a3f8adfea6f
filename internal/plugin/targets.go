package plugin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// probe is one target of a run: what the checker runs and how the report names it.
type probe struct {
	url    string
	name   string
	target checker.Target
	// skip, when set, says why the target is not checked.
	skip string
}

// probesOf resolves the targets of a defaulted HealthCheck exactly as the
// operator does (internal/resolve). run reads no cluster, so a target that needs
// a Secret (a header value or a CA bundle) is skipped.
func probesOf(hc *monitoringv1alpha1.HealthCheck) []probe {
	probes := make([]probe, 0, len(hc.Spec.Targets))
	for _, t := range hc.Spec.Targets {
		probes = append(probes, probeOf(hc.Spec, t))
	}
	return probes
}

func probeOf(spec monitoringv1alpha1.HealthCheckSpec, t monitoringv1alpha1.Target) probe {
	r, err := resolve.Target(spec, t, resolve.NoSecrets)
	if err != nil { // LoadManifests validated the spec as the API server does
		return probe{url: t.URL, name: resolve.DisplayName(t), skip: err.Error()}
	}
	p := probe{url: r.URL, name: r.Name, target: r.Target}
	if ref := r.MissingSecret; ref != nil {
		p.skip = fmt.Sprintf("%s comes from key %q of Secret %q, which run cannot read", r.MissingFor, ref.Key, ref.Name)
	}
	return p
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
