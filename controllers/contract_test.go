package controllers_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// The contract of issue 10: nothing a user writes can wedge a HealthCheck,
// silence an event or make the operator hammer an endpoint.

// requestRound sets the requested-at annotation to value.
func requestRound(g Gomega, hc *monitoringv1alpha1.HealthCheck, value string) {
	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	if latest.Annotations == nil {
		latest.Annotations = map[string]string{}
	}
	latest.Annotations[monitoringv1alpha1.RequestedAtAnnotation] = value
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())
}

func TestARequestedAtValueOfAnyLengthRunsOneRoundAndIsRecordedBounded(t *testing.T) {
	t.Parallel() // each in a namespace of its own, with targets of its own
	for _, length := range []int{300, 100000} {
		t.Run(fmt.Sprintf("%d characters", length), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			srv := newTargetServer(t)
			ns := newNamespace(t)
			hc := newHealthCheck(ns, "requested", srv.url("/status/200"))
			hc.Spec.Interval = duration(time.Hour) // only requests bring rounds
			create(t, hc)
			g.Eventually(func() int { return srv.hitCount("/status/200") }).WithTimeout(timeout).WithPolling(poll).Should(Equal(1))

			for i, last := range []string{"a", "b"} {
				value := strings.Repeat("x", length-1) + last
				requestRound(g, hc, value)
				g.Eventually(func(g Gomega) string { return get(g, hc).Status.LastHandledRequestedAt }).
					WithTimeout(timeout).WithPolling(poll).Should(Equal(monitoringv1alpha1.RequestedAtToken(value)))
				g.Expect(utf8.RuneCountInString(get(g, hc).Status.LastHandledRequestedAt)).To(BeNumerically("<=", monitoringv1alpha1.MaxRequestedAtLength))
				// One round per request, and none after it: no loop against the endpoint.
				g.Consistently(func() int { return srv.hitCount("/status/200") }).WithTimeout(time.Second).WithPolling(poll).Should(Equal(2 + i))
			}
		})
	}
}

func TestAMissingSecretWithTheLongestNamesSaysSecretNotFound(t *testing.T) {
	t.Parallel() // each in a namespace of its own, with targets of its own
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	secured := srv.url("/secured")
	hc := newHealthCheck(ns, "long-secret", secured)
	name, key := strings.Repeat("s", 253), strings.Repeat("k", 253)
	hc.Spec.Targets[0].Headers = []monitoringv1alpha1.HTTPHeader{{
		Name:      strings.Repeat("H", 63),
		ValueFrom: &monitoringv1alpha1.HeaderValueSource{SecretKeyRef: monitoringv1alpha1.SecretKeySelector{Name: name, Key: key}},
	}}
	create(t, hc)

	g.Eventually(func(g Gomega) {
		ready := readyCondition(g, hc)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(monitoringv1alpha1.ReasonSecretNotFound))
		target := targetState(get(g, hc), secured)
		g.Expect(target.Reason).To(Equal(monitoringv1alpha1.CheckSecretNotFound))
		g.Expect(target.Message).To(HavePrefix(`Secret "sss`))
		g.Expect(target.Message).To(ContainSubstring(monitoringv1alpha1.Ellipsis))
	}).WithTimeout(timeout).WithPolling(poll).Should(Succeed())
	g.Expect(srv.hitCount("/secured")).To(BeZero(), "a target without its Secret is not checked")
}

// refuseDownTargets installs an admission policy that refuses every status write
// of a HealthCheck in ns with a Down target, as a cluster's own policy might, and
// returns a function that removes it.
func refuseDownTargets(t *testing.T, g Gomega, ns string, probe *monitoringv1alpha1.HealthCheck) func() {
	t.Helper()
	ctx := context.Background()
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "refuse-down-" + ns},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
					Rule: admissionregistrationv1.Rule{APIGroups: []string{monitoringv1alpha1.GroupVersion.Group},
						APIVersions: []string{monitoringv1alpha1.GroupVersion.Version}, Resources: []string{"healthchecks/status"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "!has(object.status.summary) || !has(object.status.summary.down) || object.status.summary.down == 0",
				Message:    "status.summary.down: this cluster refuses Down targets",
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{corev1.LabelMetadataName: ns}}},
		},
	}
	g.Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	g.Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	remove := func() {
		_ = k8sClient.Delete(ctx, binding)
		_ = k8sClient.Delete(ctx, policy)
	}
	t.Cleanup(remove)
	// The policy takes effect once the API server has read it: wait until a
	// dry-run write of a Down status is refused.
	g.Eventually(func(g Gomega) error {
		hc := get(g, probe)
		patch := client.MergeFrom(hc.DeepCopy())
		hc.Status.Summary = &monitoringv1alpha1.Summary{Total: 1, Down: 1}
		return k8sClient.Status().Patch(ctx, hc, patch, client.DryRunAll)
	}).WithTimeout(timeout).WithPolling(poll).Should(MatchError(ContainSubstring("refuses Down targets")))
	return remove
}

func TestARefusedStatusWriteIsReportedOnceAndRoundsKeepTheirInterval(t *testing.T) {
	t.Parallel() // each in a namespace of its own, with targets of its own
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	flip := srv.url("/flip")
	hc := newHealthCheck(ns, "refused", flip)
	hc.Spec.Interval = duration(time.Second)
	create(t, hc)
	g.Eventually(func(g Gomega) monitoringv1alpha1.TargetState { return targetState(get(g, hc), flip).State }).
		WithTimeout(timeout).WithPolling(poll).Should(Equal(monitoringv1alpha1.StateUp))
	allow := refuseDownTargets(t, g, ns, hc)

	srv.setFlip(503)
	refused := eventMatching(corev1.EventTypeWarning, monitoringv1alpha1.EventStatusWriteRejected, `^Status was not written, the API server refused it: .*refuses Down targets`)
	g.Eventually(func(g Gomega) []recordedEvent { return eventsFor(g, ns, "refused") }).WithTimeout(timeout).WithPolling(poll).Should(ContainElement(refused))

	// A new spec whose status is refused too: status cannot record that its
	// generation was checked, yet rounds go on at their interval, about 4 in 4
	// seconds, not one after the other against the endpoint.
	latest := get(g, hc)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.Workers = 5
	g.Expect(k8sClient.Patch(context.Background(), latest, patch)).To(Succeed())
	before := srv.hitCount("/flip")
	g.Consistently(func() int { return srv.hitCount("/flip") }).WithTimeout(4 * time.Second).WithPolling(poll).Should(BeNumerically("<=", before+6))
	g.Expect(srv.hitCount("/flip")).To(BeNumerically(">=", before+2), "rounds go on")
	g.Expect(targetState(get(g, hc), flip).State).To(Equal(monitoringv1alpha1.StateUp), "nothing was written meanwhile")
	var rejections []recordedEvent
	for _, e := range eventsFor(g, ns, "refused") {
		if e.Reason == monitoringv1alpha1.EventStatusWriteRejected {
			rejections = append(rejections, e)
		}
	}
	g.Expect(rejections).To(HaveLen(1), "the same refusal, round after round, is reported once")
	g.Expect(rejections[0].Count).To(BeEquivalentTo(1))

	// Once the API server accepts it again, the change is written and announced.
	allow()
	g.Eventually(func(g Gomega) monitoringv1alpha1.TargetState { return targetState(get(g, hc), flip).State }).
		WithTimeout(timeout).WithPolling(poll).Should(Equal(monitoringv1alpha1.StateDown))
	g.Eventually(func(g Gomega) []recordedEvent { return eventsFor(g, ns, "refused") }).WithTimeout(timeout).WithPolling(poll).
		Should(ContainElement(eventMatching(corev1.EventTypeWarning, monitoringv1alpha1.EventTargetDown, "^"+regexp.QuoteMeta(flip)+" ")))
}

func TestThirtyTargetsGoingDownInOneRoundGiveThirtyEventsNamingThem(t *testing.T) {
	t.Parallel() // each in a namespace of its own, with targets of its own
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "thirty")
	hc.Spec.Interval = duration(time.Hour)
	hc.Spec.Workers = 30
	for i := range 30 {
		hc.Spec.Targets = append(hc.Spec.Targets, monitoringv1alpha1.Target{
			URL: srv.url(fmt.Sprintf("/status/503?target=%02d", i)), Name: fmt.Sprintf("backend-%02d", i)})
	}
	create(t, hc)

	var want []any
	for i := range 30 {
		want = append(want, eventMatching(corev1.EventTypeWarning, monitoringv1alpha1.EventTargetDown, fmt.Sprintf(`^backend-%02d returned 503 `, i)))
	}
	g.Eventually(func(g Gomega) []recordedEvent { return eventsFor(g, ns, "thirty") }).WithTimeout(timeout).WithPolling(poll).
		Should(ContainElements(want...))
	for _, e := range eventsFor(g, ns, "thirty") {
		g.Expect(e.Note).NotTo(ContainSubstring("combined from similar events"))
	}
}

// The largest spec the API allows: 500 targets whose URLs use the whole URL
// budget, with the longest names. Its status is written, not refused.
func TestFiveHundredTargetsWithTheLongestURLsAreWritten(t *testing.T) {
	t.Parallel() // each in a namespace of its own, with targets of its own
	g := NewWithT(t)
	srv := newTargetServer(t)
	ns := newNamespace(t)
	hc := newHealthCheck(ns, "largest")
	hc.Spec.Interval = duration(time.Hour)
	hc.Spec.Workers = 100
	length := monitoringv1alpha1.MaxTotalURLLength / monitoringv1alpha1.MaxTargets
	for i := range monitoringv1alpha1.MaxTargets {
		u := srv.url(fmt.Sprintf("/status/200?target=%03d&pad=", i))
		hc.Spec.Targets = append(hc.Spec.Targets, monitoringv1alpha1.Target{
			URL: u + strings.Repeat("p", length-len(u)), Name: fmt.Sprintf("%03d", i) + strings.Repeat("n", monitoringv1alpha1.MaxNameLength-3)})
	}
	create(t, hc)
	g.Eventually(func(g Gomega) *monitoringv1alpha1.Summary { return get(g, hc).Status.Summary }).WithTimeout(timeout).WithPolling(poll).
		Should(Equal(&monitoringv1alpha1.Summary{Total: monitoringv1alpha1.MaxTargets, Up: monitoringv1alpha1.MaxTargets}))
}
