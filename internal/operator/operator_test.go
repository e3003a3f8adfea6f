package operator_test

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/healthcheck-operator/healthcheck-operator/internal/devenv"
	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

// Every mode starts from operator.Defaults: the flags of cmd/manager with none
// given, `make run`, and the test suites, which differ only in the endpoints
// they leave off.
func TestEveryModeRunsWithTheDeploymentsDefaults(t *testing.T) {
	want := operator.Defaults()
	if want.MaxConcurrentChecks <= 0 {
		t.Fatalf("the default global check cap is %d: every mode must have one", want.MaxConcurrentChecks)
	}

	fromFlags := operator.Defaults()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fromFlags.BindFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if fromFlags != want {
		t.Errorf("cmd/manager with no flags: %+v, want %+v", fromFlags, want)
	}

	run := devenv.DefaultOptions().Operator
	run.ProbeAddr = want.ProbeAddr
	if run != want {
		t.Errorf("make run: %+v, want %+v (but the probe endpoint)", run, want)
	}

	tests := testenv.OperatorOptions()
	tests.ProbeAddr, tests.MetricsAddr = want.ProbeAddr, want.MetricsAddr
	if tests != want {
		t.Errorf("the test suites: %+v, want %+v (but the endpoints)", tests, want)
	}
}

// The outbound-policy flags reach the operator in every mode, and a bad value
// is an error naming the flag.
func TestABadFlagIsAnErrorNamingIt(t *testing.T) {
	for flagName, set := range map[string]func(*operator.Options){
		"--deny-cidrs":  func(o *operator.Options) { o.DenyCIDRs = "not-a-cidr" },
		"--allow-cidrs": func(o *operator.Options) { o.AllowCIDRs = "10.0.0.0/33" },
	} {
		o := operator.Defaults()
		set(&o)
		_, err := operator.New(nil, o)
		if err == nil || !strings.Contains(err.Error(), flagName) {
			t.Errorf("%s: error %v, want one naming the flag", flagName, err)
		}
	}
}
