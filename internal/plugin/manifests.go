package plugin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/config/crd"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/crdschema"
	"github.com/healthcheck-operator/healthcheck-operator/internal/maintenance"
)

// defaultNamespace is where kubectl puts an object without a namespace when the
// kubeconfig names none; run has no cluster to ask.
const defaultNamespace = "default"

// Manifest is one HealthCheck read from a manifest file, defaulted and validated
// as the API server would.
type Manifest struct {
	// Source names the file, "<stdin>" for standard input.
	Source string
	// Document is the 1-based position of the object's YAML document in Source.
	Document int
	// HealthCheck is the object with the schema's defaults applied.
	HealthCheck *monitoringv1alpha1.HealthCheck
}

// InvalidManifestError lists every problem of a manifest file, one a line, each
// naming the file, the document, the object and the field.
type InvalidManifestError struct {
	Problems []string
}

func (e *InvalidManifestError) Error() string { return strings.Join(e.Problems, "\n") }

// healthCheckValidator admits HealthChecks with the embedded CRD, the one the
// API server is given. It is built once: compiling the CEL rules takes a while.
var healthCheckValidator = sync.OnceValues(func() (*crdschema.Validator, error) {
	data, err := crd.Bases.ReadFile(crd.HealthCheckFile)
	if err != nil {
		return nil, fmt.Errorf("reading the embedded CRD: %w", err)
	}
	def, err := crdschema.ParseCRD(data)
	if err != nil {
		return nil, err
	}
	return crdschema.New(def, monitoringv1alpha1.GroupVersion.Version)
})

// LoadManifests reads every HealthCheck of a stream of YAML (or JSON) documents,
// applies the API server's defaults and validation, and returns them in order.
// Objects of other API groups are skipped, as a GitOps directory holds many
// kinds. Any invalid HealthCheck makes it return an *InvalidManifestError listing
// every problem in the stream, and no HealthCheck. source names the stream in
// messages.
func LoadManifests(ctx context.Context, source string, r io.Reader) ([]Manifest, error) {
	v, err := healthCheckValidator()
	if err != nil {
		return nil, err
	}
	var (
		manifests []Manifest
		problems  []string
	)
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for doc := 1; ; doc++ {
		data, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: document %d: %v", source, doc, err))
			break
		}
		hc, docProblems := loadDocument(ctx, v, data)
		for _, p := range docProblems {
			problems = append(problems, fmt.Sprintf("%s: document %d: %s", source, doc, p))
		}
		if hc != nil && len(docProblems) == 0 {
			manifests = append(manifests, Manifest{Source: source, Document: doc, HealthCheck: hc})
		}
	}
	if len(problems) > 0 {
		return nil, &InvalidManifestError{Problems: problems}
	}
	if len(manifests) == 0 {
		gvk := v.GroupVersionKind()
		return nil, &InvalidManifestError{Problems: []string{fmt.Sprintf("%s: no %s (%s) found", source, gvk.Kind, gvk.GroupVersion())}}
	}
	return manifests, nil
}

// loadDocument decodes and admits one YAML document. It returns no HealthCheck
// and no problem for an empty document or an object of another API group.
func loadDocument(ctx context.Context, v *crdschema.Validator, data []byte) (*monitoringv1alpha1.HealthCheck, []string) {
	// Strict: a key given twice is a mistake the API server would never see,
	// since kubectl keeps only the last value.
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, []string{err.Error()}
	}
	if js = bytes.TrimSpace(js); bytes.Equal(js, []byte("null")) {
		return nil, nil
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(js, &obj); err != nil {
		return nil, []string{"not a Kubernetes object: " + err.Error()}
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if apiVersion == "" || kind == "" {
		return nil, []string{"not a Kubernetes object: apiVersion and kind must be set"}
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, []string{err.Error()}
	}
	want := v.GroupVersionKind()
	if gv.Group != want.Group {
		return nil, nil
	}
	if gv.WithKind(kind) != want {
		return nil, []string{fmt.Sprintf("no matches for kind %q in version %q: the CRD serves %s %s", kind, apiVersion, want.GroupVersion(), want.Kind)}
	}

	setDefaultNamespace(obj)
	id := objectID(obj)
	urls := targetURLs(obj)
	if reasons := v.Admit(ctx, obj); len(reasons) > 0 {
		problems := make([]string, 0, len(reasons))
		for _, reason := range reasons {
			problems = append(problems, fmt.Sprintf("%s %s: %s", kind, id, redactURLs(reason, urls)))
		}
		return nil, problems
	}
	hc := &monitoringv1alpha1.HealthCheck{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, hc); err != nil {
		return nil, []string{fmt.Sprintf("%s %s: %v", kind, id, err)}
	}
	for i, t := range hc.Spec.Targets {
		// The schema admits only codes ParseStatusCodes accepts; checking here
		// keeps run from checking what the operator would refuse.
		if _, err := checker.ParseStatusCodes(t.ExpectedStatusCodes); err != nil {
			return nil, []string{fmt.Sprintf("%s %s: spec.targets[%d].expectedStatusCodes: %v", kind, id, i, err)}
		}
	}
	// The schema cannot read cron or know time zones: the operator refuses
	// such windows (InvalidSpec), and so does run, although it opens none.
	if _, err := maintenance.Parse(hc.Spec.Maintenance); err != nil {
		return nil, []string{fmt.Sprintf("%s %s: %v", kind, id, err)}
	}
	return hc, nil
}

// setDefaultNamespace sets the namespace a client would set on an object whose
// manifest has none.
func setDefaultNamespace(obj map[string]any) {
	if _, present := obj["metadata"]; !present {
		obj["metadata"] = map[string]any{}
	}
	meta, ok := obj["metadata"].(map[string]any)
	if !ok {
		return // the API server's decoding reports malformed metadata
	}
	if _, present := meta["namespace"]; !present {
		meta["namespace"] = defaultNamespace
	}
}

// objectID names an object as namespace/name. An object with only generateName
// is named by it, since the API server completes the name.
func objectID(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	if name == "" {
		name, _ = meta["generateName"].(string)
	}
	return ns + "/" + name
}

// targetURLs returns the URLs an object lists, so that messages that quote them
// can be redacted.
func targetURLs(obj map[string]any) []string {
	spec, _ := obj["spec"].(map[string]any)
	targets, _ := spec["targets"].([]any)
	var urls []string
	for _, t := range targets {
		target, _ := t.(map[string]any)
		if u, ok := target["url"].(string); ok && u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// redactURLs replaces each of urls in msg with checker.RedactURL's form: the API
// server's messages quote values, and a URL may carry a token.
func redactURLs(msg string, urls []string) string {
	for _, u := range urls {
		if r := checker.RedactURL(u); r != u {
			msg = strings.ReplaceAll(msg, u, r)
		}
	}
	return msg
}
