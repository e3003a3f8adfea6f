package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// status and trigger reach the cluster with client-go's clientcmd (kubectl's
// kubeconfig loading and flags) and its dynamic client, and not with
// cli-runtime's genericclioptions or controller-runtime's client: those link
// client-go's scheme of every built-in kind, kustomize and a metrics registry,
// whose package initialisation every command paid, run included, at each start.

// healthChecksResource is the HealthChecks' resource in the API.
var healthChecksResource = monitoringv1alpha1.GroupVersion.WithResource("healthchecks")

// kubeFlags are kubectl's flags for reaching a cluster: --kubeconfig,
// --context, -n/--namespace and the others kubectl users expect.
type kubeFlags struct {
	kubeconfig string
	overrides  clientcmd.ConfigOverrides
	userExtra  []string
}

func newKubeFlags() *kubeFlags {
	return &kubeFlags{overrides: clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}}
}

// addFlags adds the flags kubectl has, with kubectl's names, shorthands and
// words (those of cli-runtime's genericclioptions, which kubectl uses).
func (k *kubeFlags) addFlags(flags *pflag.FlagSet) {
	flags.StringVar(&k.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file to use for CLI requests.")
	// kubectl's discovery cache: status and trigger read no discovery, and
	// never did, but a kubectl user's flags must still parse.
	_ = flags.String("cache-dir", defaultCacheDir(), "Default cache directory")
	names := clientcmd.RecommendedConfigOverrideFlags("")
	// kubectl has no basic authentication flags.
	names.AuthOverrideFlags.Username.LongName = ""
	names.AuthOverrideFlags.Password.LongName = ""
	names.AuthOverrideFlags.Impersonate.Description = "Username to impersonate for the operation. User could be a regular user or a service account in a namespace."
	names.AuthOverrideFlags.ImpersonateUID.Description = "UID to impersonate for the operation."
	names.ClusterOverrideFlags.APIServer.ShortName = "s"
	names.ClusterOverrideFlags.TLSServerName.Description = "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used"
	names.ClusterOverrideFlags.ProxyURL.Description = "Proxy URL to use for requests to the API server"
	clientcmd.BindOverrideFlags(&k.overrides, flags, names)
	// clientcmd binds no flag for the user extras: this is kubectl's.
	flags.StringArrayVar(&k.userExtra, "as-user-extra", []string{}, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
}

// defaultCacheDir is kubectl's default --cache-dir.
func defaultCacheDir() string {
	if dir := os.Getenv("KUBECACHEDIR"); dir != "" {
		return dir
	}
	return filepath.Join(homedir.HomeDir(), ".kube", "cache")
}

// clientConfig loads the kubeconfig as kubectl does: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config, with the flags' overrides.
func (k *kubeFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	rules.ExplicitPath = k.kubeconfig
	overrides := k.overrides
	if len(k.userExtra) > 0 {
		// key=value, a key repeated for several values, as kubectl reads them.
		extra := map[string][]string{}
		for _, kv := range k.userExtra {
			if key, value, ok := strings.Cut(kv, "="); ok {
				extra[key] = append(extra[key], value)
			}
		}
		overrides.AuthInfo.ImpersonateUserExtra = extra
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &overrides)
}

// errEmptyConfig is what kubectl (genericclioptions.ErrEmptyConfig) says when
// no kubeconfig is found, in its words.
var errEmptyConfig = clientcmd.NewEmptyConfigError(`Missing or incomplete configuration info.  Please point to an existing, complete config file:
  1. Via the command-line flag --kubeconfig
  2. Via the KUBECONFIG environment variable
  3. In your home directory as ~/.kube/config
To view or setup config directly use the 'config' command.`)

func kubeconfigError(err error) error {
	if clientcmd.IsEmptyConfig(err) {
		err = errEmptyConfig
	}
	return fmt.Errorf("loading the kubeconfig: %w", err)
}

// healthCheckClient reads and patches the HealthChecks of a cluster.
type healthCheckClient struct {
	rest rest.Interface
	// namespace is the namespace of the kubeconfig's context, or of -n.
	namespace  string
	resource   dynamic.NamespaceableResourceInterface
	namespaced dynamic.ResourceInterface
}

// connect connects to the kubeconfig's cluster.
func (k *kubeFlags) connect() (*healthCheckClient, error) {
	config := k.clientConfig()
	cfg, err := config.ClientConfig()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	namespace, _, err := config.Namespace()
	if err != nil {
		return nil, kubeconfigError(err)
	}
	rc, err := rest.UnversionedRESTClientFor(dynamic.ConfigFor(cfg))
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	resource := dynamic.New(rc).Resource(healthChecksResource)
	return &healthCheckClient{rest: rc, namespace: namespace, resource: resource, namespaced: resource.Namespace(namespace)}, nil
}

// get reads the named HealthCheck of the namespace.
func (c *healthCheckClient) get(ctx context.Context, name string) (*monitoringv1alpha1.HealthCheck, error) {
	u, err := c.namespaced.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, c.notServed(ctx, err)
	}
	return healthCheckOf(u)
}

// list reads the HealthChecks of the namespace, or of every namespace.
func (c *healthCheckClient) list(ctx context.Context, allNamespaces bool) ([]monitoringv1alpha1.HealthCheck, error) {
	resource := c.namespaced
	if allNamespaces {
		resource = c.resource
	}
	list, err := resource.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, c.notServed(ctx, err)
	}
	items := make([]monitoringv1alpha1.HealthCheck, len(list.Items))
	for i := range list.Items {
		hc, err := healthCheckOf(&list.Items[i])
		if err != nil {
			return nil, err
		}
		items[i] = *hc
	}
	return items, nil
}

// mergePatch applies a JSON merge patch to the named HealthCheck of the namespace.
func (c *healthCheckClient) mergePatch(ctx context.Context, name string, patch []byte) error {
	if _, err := c.namespaced.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return c.notServed(ctx, err)
	}
	return nil
}

// healthCheckOf converts what the dynamic client read.
func healthCheckOf(u *unstructured.Unstructured) (*monitoringv1alpha1.HealthCheck, error) {
	hc := &monitoringv1alpha1.HealthCheck{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), hc); err != nil {
		return nil, fmt.Errorf("decoding HealthCheck %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return hc, nil
}

// errNotServed is a NotFound that is the resource's, not an object's: the
// cluster does not serve HealthChecks.
var errNotServed = errors.New("HealthChecks are not served")

// notServed turns a NotFound into errNotServed when the cluster does not serve
// HealthChecks, as kubectl tells a missing object from a missing kind.
func (c *healthCheckClient) notServed(ctx context.Context, err error) error {
	if !apierrors.IsNotFound(err) {
		return err
	}
	served, discoveryErr := c.served(ctx)
	if discoveryErr != nil || served {
		return err
	}
	return errNotServed
}

// served asks the API server's discovery whether it serves HealthChecks.
// It is one GET of the group version's resource list, hand-written since
// client-go's discovery package links client-go's scheme of every built-in
// kind, the start-up cost avoided above.
func (c *healthCheckClient) served(ctx context.Context) (bool, error) {
	gv := healthChecksResource.GroupVersion()
	raw, err := c.rest.Get().AbsPath("/apis", gv.Group, gv.Version).Do(ctx).Raw()
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var resources metav1.APIResourceList
	if err := json.Unmarshal(raw, &resources); err != nil {
		return false, err
	}
	for _, r := range resources.APIResources {
		if r.Name == healthChecksResource.Resource {
			return true, nil
		}
	}
	return false, nil
}
