package gitops_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// argoHealthKey is the argocd-cm key of the health check: Argo CD looks it up by
// the object's group and kind.
var argoHealthKey = "resource.customizations.health." + monitoringv1alpha1.GroupVersion.Group + "_HealthCheck"

// argoHealthStatuses are the statuses Argo CD accepts from a health script; it
// turns any other into Unknown.
var argoHealthStatuses = []string{"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

// TestArgoCDHealthCheck runs the README's Argo CD health check against a
// HealthCheck in each state the operator writes (see markProgressing,
// markRunning, markSuspended, markInvalid and setHealthConditions in
// controllers/), and checks the status Argo CD would show and its message.
func TestArgoCDHealthCheck(t *testing.T) {
	script := readmeHealthScript(t)

	progressing := "First round of generation 1 is running"
	running := cond(monitoringv1alpha1.ConditionReady, metav1.ConditionTrue, monitoringv1alpha1.ReasonRunning, "Checking 2 targets every 30s")
	allUp := cond(monitoringv1alpha1.ConditionHealthy, metav1.ConditionTrue, monitoringv1alpha1.ReasonAllTargetsUp, "No target is Down: 2 Up, 0 Slow, 0 Pending")
	noneSlow := cond(monitoringv1alpha1.ConditionDegraded, metav1.ConditionFalse, monitoringv1alpha1.ReasonNoTargetsSlow, "No target is Slow, has backends Down or a certificate close to expiry")
	down := cond(monitoringv1alpha1.ConditionHealthy, metav1.ConditionFalse, monitoringv1alpha1.ReasonTargetsDown, "1 of 2 targets are Down")
	suspended := cond(monitoringv1alpha1.ConditionReady, metav1.ConditionFalse, monitoringv1alpha1.ReasonSuspended, "Checks are suspended by spec.suspend")
	secretNotFound := cond(monitoringv1alpha1.ConditionReady, metav1.ConditionFalse, monitoringv1alpha1.ReasonSecretNotFound,
		`Target api is not checked: Secret "api-token" has no key "token" for header Authorization`)
	invalidSpec := cond(monitoringv1alpha1.ConditionReady, metav1.ConditionFalse, monitoringv1alpha1.ReasonInvalidSpec,
		"target api: bodyMatches: error parsing regexp: missing closing ): `(ok`")

	for name, tc := range map[string]struct {
		hc          monitoringv1alpha1.HealthCheck
		wantStatus  string
		wantMessage string // "" when no condition gives one
	}{
		"fresh, without status": {
			hc:         healthCheck(1, 0, false),
			wantStatus: "Progressing",
		},
		"first round running": {
			hc: healthCheck(1, 0, false,
				cond(monitoringv1alpha1.ConditionReady, metav1.ConditionUnknown, monitoringv1alpha1.ReasonProgressing, progressing),
				cond(monitoringv1alpha1.ConditionReconciling, metav1.ConditionTrue, monitoringv1alpha1.ReasonProgressing, progressing)),
			wantStatus:  "Progressing",
			wantMessage: progressing,
		},
		"spec changed, not yet seen by the operator": {
			hc:         healthCheck(2, 1, false, running, down, noneSlow),
			wantStatus: "Progressing",
		},
		"running, every target up": {
			hc:          healthCheck(1, 1, false, running, allUp, noneSlow),
			wantStatus:  "Healthy",
			wantMessage: allUp.Message,
		},
		"running, a target down": {
			hc:          healthCheck(1, 1, false, running, down, noneSlow),
			wantStatus:  "Degraded",
			wantMessage: down.Message,
		},
		"running, a target slow": {
			hc: healthCheck(1, 1, false, running,
				cond(monitoringv1alpha1.ConditionHealthy, metav1.ConditionTrue, monitoringv1alpha1.ReasonAllTargetsUp, "No target is Down: 1 Up, 1 Slow, 0 Pending"),
				cond(monitoringv1alpha1.ConditionDegraded, metav1.ConditionTrue, monitoringv1alpha1.ReasonTargetsSlow, "1 of 2 targets are Slow")),
			wantStatus:  "Healthy",
			wantMessage: "No target is Down: 1 Up, 1 Slow, 0 Pending",
		},
		"suspended": {
			hc:          healthCheck(2, 2, true, suspended, allUp, noneSlow),
			wantStatus:  "Suspended",
			wantMessage: suspended.Message,
		},
		"suspended, not yet seen by the operator": {
			hc:         healthCheck(2, 1, true, running, allUp, noneSlow),
			wantStatus: "Suspended",
		},
		"resumed, not yet seen by the operator": {
			hc:         healthCheck(3, 2, false, suspended, allUp, noneSlow),
			wantStatus: "Progressing",
		},
		"a header's Secret missing": {
			hc:          healthCheck(1, 1, false, secretNotFound, allUp, noneSlow),
			wantStatus:  "Degraded",
			wantMessage: secretNotFound.Message,
		},
		"an invalid spec": {
			hc:          healthCheck(1, 1, false, invalidSpec),
			wantStatus:  "Degraded",
			wantMessage: invalidSpec.Message,
		},
	} {
		t.Run(name, func(t *testing.T) {
			status, message := runHealthScript(t, script, tc.hc)
			if status != tc.wantStatus {
				t.Errorf("status = %q (message %q), want %q", status, message, tc.wantStatus)
			}
			if tc.wantMessage != "" && message != tc.wantMessage {
				t.Errorf("message = %q, want the condition's %q", message, tc.wantMessage)
			}
			if message == "" {
				t.Error("the message is empty")
			}
		})
	}
}

// healthCheck builds a HealthCheck at generation whose status was last written
// for observedGeneration (0: never), with the given conditions.
func healthCheck(generation, observedGeneration int64, suspend bool, conds ...metav1.Condition) monitoringv1alpha1.HealthCheck {
	hc := monitoringv1alpha1.HealthCheck{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1alpha1.GroupVersion.String(), Kind: "HealthCheck"},
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", Generation: generation},
	}
	hc.Spec.Suspend = suspend
	hc.Spec.Targets = []monitoringv1alpha1.Target{{URL: "https://api.shop.example/healthz"}}
	hc.Status.ObservedGeneration = observedGeneration
	hc.Status.Conditions = conds
	return hc
}

func cond(condType string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		LastTransitionTime: metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)),
	}
}

// readmeHealthScript returns the Lua of the health check from the fenced yaml
// block of README.md that sets argoHealthKey.
func readmeHealthScript(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range fencedBlocks(string(data), "yaml") {
		if !strings.Contains(block, argoHealthKey+":") {
			continue
		}
		var cm map[string]string
		if err := yaml.UnmarshalStrict([]byte(block), &cm); err != nil {
			t.Fatalf("parsing the README's block with %s: %v", argoHealthKey, err)
		}
		if script := cm[argoHealthKey]; strings.TrimSpace(script) != "" {
			return script
		}
		t.Fatalf("the README's %s is empty", argoHealthKey)
	}
	t.Fatalf("no ```yaml block in README.md sets %s", argoHealthKey)
	return ""
}

// fencedBlocks returns the contents of the Markdown code blocks fenced with
// ```lang.
func fencedBlocks(markdown, lang string) []string {
	var blocks []string
	var block []string
	in := false
	for line := range strings.Lines(markdown) {
		fence := strings.TrimSpace(line)
		switch {
		case !in && fence == "```"+lang:
			in, block = true, nil
		case in && fence == "```":
			in = false
			blocks = append(blocks, strings.Join(block, ""))
		case in:
			block = append(block, line)
		}
	}
	return blocks
}

// runHealthScript runs script as Argo CD runs a health check: the package, base
// and table libraries only, a one-second limit, and the object as a global obj
// made from its JSON as it comes from the API server (integers as int64, arrays
// as 1-indexed tables). It returns the status and message of the returned table.
func runHealthScript(t *testing.T, script string, hc monitoringv1alpha1.HealthCheck) (status, message string) {
	t.Helper()
	data, err := json.Marshal(hc)
	if err != nil {
		t.Fatal(err)
	}
	var obj unstructured.Unstructured
	if err := obj.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}

	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			t.Fatalf("opening the Lua %s library: %v", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		t.Fatalf("running the health check: %v", err)
	}

	result, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the health check returned %s, want a table", l.Get(-1).Type())
	}
	s, ok := result.RawGetString("status").(lua.LString)
	if !ok || !slices.Contains(argoHealthStatuses, string(s)) {
		t.Fatalf("the health check returned the status %v, which Argo CD turns into Unknown", result.RawGetString("status"))
	}
	switch m := result.RawGetString("message").(type) {
	case lua.LString:
		message = string(m)
	case *lua.LNilType:
	default:
		t.Fatalf("the health check returned the message %v (%s), want a string", m, m.Type())
	}
	return string(s), message
}

// toLua turns a decoded JSON value into Lua values as Argo CD does.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(toLua(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetString(key, toLua(l, item))
		}
		return tbl
	default:
		return lua.LNil
	}
}
