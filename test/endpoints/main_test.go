// Package endpoints_test proves that an Endpoints fan-out checks real pods:
// each ready endpoint of a Service's EndpointSlices is sent an HTTP request at
// its own address and target port, with the Service's host name as Host.
//
// The API server refuses loopback addresses in EndpointSlices, so the
// endpoints here are documentation addresses (TEST-NET-1, RFC 5737) that the
// test puts on the loopback interface of a network namespace of its own: run
// as root with unshare(1), ip(8) and mount(8) on PATH, TestMain runs the test
// binary again inside a new network and mount namespace (`unshare --net
// --mount`), where the API server, etcd, the operator and the test's HTTP
// servers all talk over that namespace's loopback and no packet leaves the
// machine. The mount namespace lets the suite bind its own hosts file over
// /etc/hosts, so that a name resolves to both 127.0.0.1 and ::1 (dualStackName)
// without any DNS server. Anywhere else every test of the package is skipped,
// saying why.
package endpoints_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/healthcheck-operator/healthcheck-operator/internal/testenv"
)

// netnsMarker is set in the environment of the test binary that runs inside
// the network namespace TestMain made for it.
const netnsMarker = "HEALTHCHECK_TEST_NETNS"

// The addresses of the tests: TEST-NET-1 addresses, put only on the loopback
// interface of the tests' own network namespace. The endpoints of the tests'
// Service are addressA and addressB, at targetPort.
const (
	// apiServerAddress is the address the API server advertises (see runSuite).
	apiServerAddress = "192.0.2.1"
	addressA         = "192.0.2.10"
	addressB         = "192.0.2.11"
	targetPort       = 8080
	// dualStackName resolves to 127.0.0.1 and ::1 in the suite's hosts file.
	dualStackName = "dual.test"
)

var (
	k8sClient client.Client
	// skipReason, when set, is why the tests cannot run here; each test
	// skips with it.
	skipReason string
)

func TestMain(m *testing.M) {
	if os.Getenv(netnsMarker) != "1" {
		reason := netnsUnavailable()
		if reason == "" {
			os.Exit(reexecInNetns())
		}
		skipReason = "test/endpoints: skipped: needs root and unshare(1)/ip(8) to run in its own network namespace: " + reason
		fmt.Fprintln(os.Stderr, skipReason)
		os.Exit(m.Run())
	}
	os.Exit(runSuite(m))
}

// netnsUnavailable says why this process cannot run the tests in a network
// namespace of their own, "" when it can.
func netnsUnavailable() string {
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Sprintf("running as uid %d", uid)
	}
	for _, tool := range []string{"unshare", "ip", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not on PATH"
		}
	}
	// Root in a container may still be refused a namespace (no CAP_SYS_ADMIN,
	// or a seccomp profile): that is a limit of the machine, not a failure.
	if out, err := exec.CommandContext(context.Background(), "unshare", unshareFlags("true")...).CombinedOutput(); err != nil {
		return fmt.Sprintf("unshare --net --mount failed: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}

// unshareFlags are unshare's arguments to run command in new network and
// mount namespaces; mounts made in the new one stay in it.
func unshareFlags(command ...string) []string {
	return append([]string{"--net", "--mount", "--propagation", "private", "--"}, command...)
}

// reexecInNetns runs this test binary again, with the same arguments, in a new
// network namespace, and returns its exit code. unshare execs the binary in
// its own process, so the exit code is the tests'.
func reexecInNetns() int {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	cmd := exec.CommandContext(context.Background(), "unshare", unshareFlags(append([]string{self}, os.Args[1:]...)...)...)
	cmd.Env = append(os.Environ(), netnsMarker+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "test/endpoints: running the tests in a network namespace: %v\n", err)
		return 1
	}
}

// runSuite runs inside the network namespace: it brings up its loopback
// interface with the endpoints' addresses, then the control plane and the
// operator (its default outbound policy, which allows TEST-NET-1), and the
// tests.
//
// kube-apiserver refuses to start without a default route: it advertises
// the first global address of the default route's interface (envtest sets
// no --advertise-address). So the namespace gets a default route through its
// loopback interface (it has no other interface: nothing can leave it either
// way), and apiServerAddress, added first, is the one advertised, rather
// than a pod's.
func runSuite(m *testing.M) int {
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", apiServerAddress + "/32", "dev", "lo"},
		{"addr", "add", addressA + "/32", "dev", "lo"},
		{"addr", "add", addressB + "/32", "dev", "lo"},
		{"route", "add", "default", "dev", "lo"},
	} {
		if out, err := exec.CommandContext(context.Background(), "ip", args...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "test/endpoints: ip %s: %v: %s\n", strings.Join(args, " "), err, out)
			return 1
		}
	}

	if err := mountHostsFile(); err != nil {
		fmt.Fprintf(os.Stderr, "test/endpoints: %v\n", err)
		return 1
	}

	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8sClient = env.Client
	op, err := testenv.StartOperator(env.Config, testenv.OperatorOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := op.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	return code
}

// requireNetns skips t where the tests cannot run in their own network
// namespace.
func requireNetns(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// mountHostsFile binds a hosts file of the suite's over /etc/hosts, in the
// suite's own mount namespace: localhost, and dualStackName with an IPv4 and
// an IPv6 loopback address.
func mountHostsFile() error {
	f, err := os.CreateTemp("", "hosts-")
	if err != nil {
		return err
	}
	hosts := "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + dualStackName + "\n::1 " + dualStackName + "\n"
	if _, err := f.WriteString(hosts); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if out, err := exec.CommandContext(context.Background(), "mount", "--bind", f.Name(), "/etc/hosts").CombinedOutput(); err != nil {
		return fmt.Errorf("mount --bind %s /etc/hosts: %w: %s", f.Name(), err, out)
	}
	return nil
}
