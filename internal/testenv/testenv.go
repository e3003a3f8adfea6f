// Package testenv is the one envtest bootstrap of the test suites: a real
// kube-apiserver and etcd (from KUBEBUILDER_ASSETS, which `make test` sets to
// the binaries of `make envtest`) serving the CRDs the binaries embed, a client
// of it, and the operator built by internal/operator as cmd/manager builds it.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/healthcheck-operator/healthcheck-operator/config/crd"
	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
)

// Env is a running API server with the HealthCheck CRD installed (unless
// started WithoutCRDs).
type Env struct {
	*envtest.Environment
	// Config reaches the API server as system:masters.
	Config *rest.Config
	// Client reads and writes with Scheme.
	Client client.Client
	// Scheme knows the built-in kinds and HealthCheck.
	Scheme *runtime.Scheme
}

// Option adjusts the API server that Start brings up.
type Option func(*settings)

type settings struct {
	noCRDs     bool
	gatewayAPI bool
}

// WithGatewayAPI installs the Gateway API's standard CRDs too (HTTPRoute,
// Gateway, ...), from the module the operator is built with.
func WithGatewayAPI() Option {
	return func(s *settings) { s.gatewayAPI = true }
}

// gatewayAPICRDs is the directory of the Gateway API's standard CRDs in the
// module cache: the very version go.mod names.
func gatewayAPICRDs() (string, error) {
	out, err := exec.CommandContext(context.Background(), "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		return "", fmt.Errorf("finding the Gateway API module: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard"), nil
}

// WithoutCRDs starts the API server with no CRDs, for a suite that installs
// its own, as the Helm chart's tests install the chart's.
func WithoutCRDs() Option {
	return func(s *settings) { s.noCRDs = true }
}

// Start starts the API server and installs the CRDs. It fails with a hint
// when KUBEBUILDER_ASSETS is not set.
func Start(opts ...Option) (*Env, error) {
	var s settings
	for _, opt := range opts {
		opt(&s)
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds or downloads the control plane into bin/k8s")
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	if !s.noCRDs {
		var err error
		if crds, err = embeddedCRDs(); err != nil {
			return nil, err
		}
	}
	scheme, err := operator.NewScheme()
	if err != nil {
		return nil, err
	}
	env := &Env{Environment: &envtest.Environment{CRDs: crds, ErrorIfCRDPathMissing: true}, Scheme: scheme}
	if s.gatewayAPI {
		dir, err := gatewayAPICRDs()
		if err != nil {
			return nil, err
		}
		env.CRDDirectoryPaths = []string{dir}
	}
	if env.Config, err = env.Start(); err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	if env.Client, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	return env, nil
}

// WriteKubeconfig writes to path a kubeconfig of a new user named user in
// system:masters, for what reaches the API server from the command line: the
// manager binary, kubectl, helm, the kubectl plugin.
func (e *Env) WriteKubeconfig(path, user string) error {
	admin, err := e.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding user %s: %w", user, err)
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("building the kubeconfig of %s: %w", user, err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig of %s: %w", user, err)
	}
	return nil
}

// embeddedCRDs reads the CRDs that the binaries embed (config/crd).
func embeddedCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := fs.Glob(crd.Bases, "bases/*.yaml")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no embedded CRDs: %v", err)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, file := range files {
		data, err := crd.Bases.ReadFile(file)
		if err != nil {
			return nil, err
		}
		def := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, def); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", file, err)
		}
		crds = append(crds, def)
	}
	return crds, nil
}

// OperatorOptions are the operator's defaults (operator.Defaults) minus the
// ports a test process does not need.
func OperatorOptions() operator.Options {
	o := operator.Defaults()
	o.ProbeAddr = "0"
	o.MetricsAddr = "0"
	return o
}

// Operator is a running operator.
type Operator struct {
	cancel context.CancelFunc
	done   chan error
	exited atomic.Bool
}

// StartOperator builds the operator from o and opts against the API server at
// cfg and runs it until Stop.
func StartOperator(cfg *rest.Config, o operator.Options, opts ...operator.Option) (*Operator, error) {
	mgr, err := operator.New(cfg, o, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	op := &Operator{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := mgr.Start(ctx)
		op.exited.Store(true)
		op.done <- err
	}()
	return op, nil
}

// Running tells whether the operator is still running.
func (o *Operator) Running() bool { return !o.exited.Load() }

// Stop stops the operator and waits for it; later calls return nil at once.
func (o *Operator) Stop() error {
	o.cancel()
	err := <-o.done
	o.done <- nil
	return err
}
