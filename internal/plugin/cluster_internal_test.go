package plugin

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// TestClusterFlagsAreKubectls holds status and trigger to the flags kubectl
// has for reaching a cluster (cli-runtime's genericclioptions, which they used
// before clientcmd): every name, shorthand, type, default and usage.
func TestClusterFlagsAreKubectls(t *testing.T) {
	want := pflag.NewFlagSet("kubectl", pflag.ContinueOnError)
	genericclioptions.NewConfigFlags(true).AddFlags(want)
	p := &Plugin{}
	for _, cmd := range []*cobra.Command{p.statusCommand(), p.triggerCommand()} {
		got := cmd.Flags()
		want.VisitAll(func(w *pflag.Flag) {
			g := got.Lookup(w.Name)
			switch {
			case g == nil:
				t.Errorf("%s lacks kubectl's --%s", cmd.Name(), w.Name)
			case g.Shorthand != w.Shorthand || g.Value.Type() != w.Value.Type() || g.DefValue != w.DefValue || g.Usage != w.Usage:
				t.Errorf("%s --%s: shorthand %q, type %s, default %q, usage %q; want %q, %s, %q, %q",
					cmd.Name(), w.Name, g.Shorthand, g.Value.Type(), g.DefValue, g.Usage, w.Shorthand, w.Value.Type(), w.DefValue, w.Usage)
			}
		})
		got.VisitAll(func(g *pflag.Flag) {
			if want.Lookup(g.Name) == nil && !map[string]bool{"all-namespaces": true, "output": true}[g.Name] {
				t.Errorf("%s has --%s, which kubectl has not", cmd.Name(), g.Name)
			}
		})
	}
}

// TestClusterFlagsOverrideTheKubeconfig checks that each flag lands where
// kubectl puts it, over the kubeconfig's context.
func TestClusterFlagsOverrideTheKubeconfig(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
current-context: dev
clusters:
- {name: dev, cluster: {server: "https://dev.example:6443"}}
- {name: staging, cluster: {server: "https://staging.example:6443"}}
users:
- {name: me, user: {token: from-kubeconfig}}
contexts:
- {name: dev, context: {cluster: dev, user: me, namespace: dev-ns}}
- {name: staging, context: {cluster: staging, user: me, namespace: staging-ns}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		args      []string
		host, ns  string
		token, as string
		groups    []string
		extra     map[string][]string
		insecure  bool
		timeout   time.Duration
	}{
		{name: "the current context", args: nil, host: "https://dev.example:6443", ns: "dev-ns", token: "from-kubeconfig"},
		{name: "--context", args: []string{"--context", "staging"}, host: "https://staging.example:6443", ns: "staging-ns", token: "from-kubeconfig"},
		{name: "every override", args: []string{"--context", "staging", "-n", "ns/monitoring", "-s", "https://api.example:6443",
			"--as", "jane", "--as-group", "a", "--as-group", "b", "--as-user-extra", "scopes=view", "--as-user-extra", "scopes=edit",
			"--as-user-extra", "malformed", "--token", "t0ken", "--insecure-skip-tls-verify", "--request-timeout", "5s"},
			host: "https://api.example:6443", ns: "monitoring", token: "t0ken", as: "jane", groups: []string{"a", "b"},
			extra: map[string][]string{"scopes": {"view", "edit"}}, insecure: true, timeout: 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKubeFlags()
			flags := pflag.NewFlagSet("status", pflag.ContinueOnError)
			k.addFlags(flags)
			if err := flags.Parse(append([]string{"--kubeconfig", kubeconfig}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			config := k.clientConfig()
			cfg, err := config.ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			ns, _, err := config.Namespace()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tc.host || ns != tc.ns || cfg.BearerToken != tc.token || cfg.Impersonate.UserName != tc.as ||
				!slices.Equal(cfg.Impersonate.Groups, tc.groups) || !maps.EqualFunc(cfg.Impersonate.Extra, tc.extra, slices.Equal) ||
				cfg.Insecure != tc.insecure || cfg.Timeout != tc.timeout {
				t.Errorf("host %s, namespace %s, token %q, impersonate %+v, insecure %v, timeout %s; want %s, %s, %q, %s %q %q, %v, %s",
					cfg.Host, ns, cfg.BearerToken, cfg.Impersonate, cfg.Insecure, cfg.Timeout,
					tc.host, tc.ns, tc.token, tc.as, tc.groups, tc.extra, tc.insecure, tc.timeout)
			}
		})
	}
}
