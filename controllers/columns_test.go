package controllers_test

import (
	"io"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// kubectl runs the real kubectl, built into KUBEBUILDER_ASSETS, as a cluster admin.
func kubectl(g Gomega, args ...string) string {
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	k, err := user.Kubectl()
	g.Expect(err).NotTo(HaveOccurred())
	stdout, stderr, err := k.Run(args...)
	errText, _ := io.ReadAll(stderr)
	g.Expect(err).NotTo(HaveOccurred(), string(errText))
	out, _ := io.ReadAll(stdout)
	return string(out)
}

func TestKubectlGetShowsTheStateAtAGlance(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	create(t, newHealthCheck(ns, "web", srv.url("/status/200"), srv.url("/status/204"), srv.url("/status/502")))

	g.Eventually(func(g Gomega) {
		lines := strings.Split(strings.TrimSpace(kubectl(g, "get", "healthchecks", "-n", ns)), "\n")
		g.Expect(lines).To(HaveLen(2))
		g.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "TARGETS", "UP", "SLOW", "DOWN", "HEALTHY", "AVAILABILITY", "LAST", "CHECK", "AGE"}))
		// Two good checks of three in the first round: 66.6666%, cut, not rounded.
		g.Expect(lines[1]).To(MatchRegexp(`^web\s+3\s+2\s+0\s+1\s+False\s+66\.6666\s+\d+s\s+\d+s$`))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())

	wide := strings.Split(strings.TrimSpace(kubectl(g, "get", "hck", "-n", ns, "-o", "wide")), "\n")
	g.Expect(strings.Fields(wide[0])).To(Equal([]string{"NAME", "TARGETS", "UP", "SLOW", "DOWN", "HEALTHY", "AVAILABILITY", "LAST", "CHECK", "AGE", "INTERVAL", "WORKERS"}))
	g.Expect(wide[1]).To(MatchRegexp(`\s1s\s+10$`))

	g.Expect(kubectl(g, "get", "monitoring", "-n", ns, "-o", "name")).To(Equal("healthcheck.monitoring.healthcheck.dev/web\n"), "the monitoring category lists HealthChecks")
}
