// Package helm tests the Helm chart in charts/healthcheck-operator: that it stays
// in sync with the kustomize manifests in config/, and that what it renders is
// accepted by a real API server (envtest), through the pinned helm and kubectl
// the Makefile builds.
package helm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

const (
	repoRoot = "../.."
	// releaseName makes the chart name its objects as `kustomize build
	// config/default` does (namePrefix healthcheck-operator-).
	releaseName  = "healthcheck-operator"
	fieldManager = "helm-chart-test"
)

var (
	chartDir = filepath.Join(repoRoot, "charts", "healthcheck-operator")

	helmBin    string
	kubectlBin string
	kubeconfig string
	// workDir holds the kubeconfig, kubectl's discovery cache and helm's homes.
	workDir string
)

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

func runSuite(m *testing.M) int {
	helmBin = os.Getenv("HELM")
	if helmBin == "" {
		fmt.Fprintln(os.Stderr, "HELM is not set: run the tests with `make test`, which builds the pinned helm into bin/ and passes its path")
		return 1
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds the control plane into bin/k8s")
		return 1
	}
	kubectlBin = filepath.Join(assets, "kubectl")
	for _, bin := range []string{helmBin, kubectlBin} {
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintf(os.Stderr, "%v: run the tests with `make test`, which builds it\n", err)
			return 1
		}
	}

	var err error
	if workDir, err = os.MkdirTemp("", "helm-test-"); err != nil {
		fmt.Fprintf(os.Stderr, "creating a work directory: %v\n", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(workDir) }()

	// No CRDs here: the tests install the chart's own.
	env, err := testenv.Start(testenv.WithoutCRDs())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	kubeconfig = filepath.Join(workDir, "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig, "helm-test-admin"); err != nil {
		fmt.Fprintf(os.Stderr, "writing the envtest kubeconfig: %v\n", err)
		return 1
	}
	return m.Run()
}

// helm runs the pinned helm with homes of its own, so the user's repositories,
// plugins and registry logins play no part.
func helm(args ...string) (stdout []byte, stderr string, err error) {
	cmd := exec.Command(helmBin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(workDir, "helm", "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(workDir, "helm", "config"),
		"HELM_DATA_HOME="+filepath.Join(workDir, "helm", "data"),
		"KUBECONFIG="+kubeconfig,
	)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.String(), err
}

// render runs `helm template` on the chart with the given values (nil for the
// defaults) in namespace ns, CRDs included.
func render(t *testing.T, ns string, values map[string]any) []object {
	t.Helper()
	args := []string{"template", releaseName, chartDir, "--namespace", ns, "--include-crds"}
	if values != nil {
		args = append(args, "--values", writeValues(t, values))
	}
	out, stderr, err := helm(args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	objs, err := parseObjects(out)
	if err != nil {
		t.Fatalf("parsing the output of helm template: %v", err)
	}
	return objs
}

// writeValues writes a values file for one test and returns its path.
func writeValues(t *testing.T, values map[string]any) string {
	t.Helper()
	data, err := yaml.Marshal(values)
	if err != nil {
		t.Fatalf("marshalling values: %v", err)
	}
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatalf("writing values: %v", err)
	}
	return file
}

// kubectl runs the envtest kubectl as the envtest admin, with stdin as input.
// Warnings the server sends (deprecations, PodSecurity) come back in stderr.
func kubectl(stdin []byte, args ...string) (stdout, stderr string, err error) {
	args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(workDir, "kubectl-cache")}, args...)
	cmd := exec.Command(kubectlBin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// applyForReal server-side applies objs and waits until CRDs among them are established.
func applyForReal(t *testing.T, objs []object) {
	t.Helper()
	stream := joinObjects(objs)
	if _, stderr, err := kubectl(stream, "apply", "--server-side", "--field-manager", fieldManager, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply --server-side: %v\n%s", err, stderr)
	}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		if _, stderr, err := kubectl(nil, "wait", "--for=condition=Established", "--timeout=30s", "crd/"+o.GetName()); err != nil {
			t.Fatalf("waiting for CRD %s: %v\n%s", o.GetName(), err, stderr)
		}
	}
}

// applyDryRun applies objs with a server-side dry run and fails on any error or
// warning: the server validates every field (kubectl's --validate=strict), and
// runs admission, PodSecurity included, without storing anything.
func applyDryRun(t *testing.T, objs []object) {
	t.Helper()
	stdout, stderr, err := kubectl(joinObjects(objs), "apply", "--server-side", "--dry-run=server", "--field-manager", fieldManager, "-f", "-")
	if err != nil {
		t.Fatalf("kubectl apply --server-side --dry-run=server: %v\n%s", err, stderr)
	}
	if strings.TrimSpace(stderr) != "" {
		t.Fatalf("kubectl apply --server-side --dry-run=server warned:\n%s", stderr)
	}
	// One line per object ("deployment.apps/NAME serverside-applied (server dry run)").
	if got, want := strings.Count(stdout, "(server dry run)"), len(objs); got != want {
		t.Fatalf("the dry run applied %d objects, want %d:\n%s", got, want, stdout)
	}
}

// newNamespace creates a namespace that enforces the restricted Pod Security
// Standard, as config/manager/manager.yaml's does, and deletes it afterwards.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := []byte(`apiVersion: v1
kind: Namespace
metadata:
  generateName: helm-test-
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/warn: restricted
`)
	name, stderr, err := kubectl(ns, "create", "-f", "-", "-o", "jsonpath={.metadata.name}")
	if err != nil {
		t.Fatalf("creating a namespace: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { _, _, _ = kubectl(nil, "delete", "namespace", name, "--wait=false") })
	return name
}

// object is one manifest, parsed.
type object struct {
	*unstructured.Unstructured
	raw []byte
}

// into decodes the manifest into a typed object, failing on fields the type does not know.
func (o object) into(t *testing.T, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(o.raw, v); err != nil {
		t.Fatalf("decoding %s %s: %v", o.GetKind(), o.GetName(), err)
	}
}

func (o object) id() string { return o.GetKind() + "/" + o.GetName() }

// parseObjects splits a multi-document YAML stream into objects, skipping
// documents that hold only comments.
func parseObjects(data []byte) ([]object, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, object{Unstructured: &unstructured.Unstructured{Object: m}, raw: doc})
	}
}

// readObjects parses the manifests in a file of the repository.
func readObjects(t *testing.T, path ...string) []object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{repoRoot}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseObjects(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", filepath.Join(path...), err)
	}
	return objs
}

// withNamespace returns copies of objs placed in namespace ns.
func withNamespace(t *testing.T, objs []object, ns string) []object {
	t.Helper()
	out := make([]object, 0, len(objs))
	for _, o := range objs {
		u := o.DeepCopy()
		u.SetNamespace(ns)
		raw, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatalf("marshalling %s: %v", o.id(), err)
		}
		out = append(out, object{Unstructured: u, raw: raw})
	}
	return out
}

func joinObjects(objs []object) []byte {
	var b bytes.Buffer
	for _, o := range objs {
		b.WriteString("---\n")
		b.Write(o.raw)
		if !bytes.HasSuffix(o.raw, []byte("\n")) {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// partition splits objs into CRDs and the rest.
func partition(objs []object) (crds, rest []object) {
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, o)
		} else {
			rest = append(rest, o)
		}
	}
	return crds, rest
}

// find returns the object of that kind and name, or fails.
func find(t *testing.T, objs []object, kind, name string) object {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.id())
	}
	t.Fatalf("no %s/%s among %v", kind, name, ids)
	return object{}
}

// kinds counts the objects of each kind.
func kinds(objs []object) map[string]int {
	n := map[string]int{}
	for _, o := range objs {
		n[o.GetKind()]++
	}
	return n
}
