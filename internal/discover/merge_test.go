package discover_test

import (
	"fmt"
	"strings"
	"testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
)

func specTarget(u string) monitoringv1alpha1.Target {
	return monitoringv1alpha1.Target{URL: u, Name: "mine"}
}

func found(u, source string) discover.Target {
	return discover.Target{Target: monitoringv1alpha1.Target{URL: u}, Source: source}
}

func TestMerge(t *testing.T) {
	tooLong := "http://shop.example.com/" + strings.Repeat("a", monitoringv1alpha1.MaxURLLength)
	for _, tc := range []struct {
		name       string
		spec       []monitoringv1alpha1.Target
		discovered []discover.Target
		want       []string
		notes      []string
	}{{
		name:       "spec targets first, as they are, then discovered ones in their order",
		spec:       []monitoringv1alpha1.Target{specTarget("http://z.example.com/"), specTarget("http://a.example.com/")},
		discovered: []discover.Target{found("http://y.example.com/", "Ingress/y"), found("http://b.example.com/", "Service/b")},
		want: []string{
			"http://z.example.com/ from ", "http://a.example.com/ from ",
			"http://y.example.com/ from Ingress/y", "http://b.example.com/ from Service/b",
		},
	}, {
		name: "without sources the spec targets are all there is, in their order",
		spec: []monitoringv1alpha1.Target{specTarget("http://z.example.com/"), specTarget("http://a.example.com/")},
		want: []string{"http://z.example.com/ from ", "http://a.example.com/ from "},
	}, {
		name:       "a discovered URL equal to a spec target's is the spec target",
		spec:       []monitoringv1alpha1.Target{specTarget("http://shop.example.com/")},
		discovered: []discover.Target{found("http://shop.example.com/", "Ingress/shop"), found("http://shop.example.com/api", "Ingress/shop")},
		want:       []string{"http://shop.example.com/ from ", "http://shop.example.com/api from Ingress/shop"},
	}, {
		name: "of discovered targets with one URL the first is kept",
		discovered: []discover.Target{
			found("http://shop.example.com/", "Ingress/shop"),
			found("http://shop.example.com/", "HTTPRoute/shop"),
			found("http://blog.example.com/", "Ingress/blog"),
		},
		want: []string{"http://shop.example.com/ from Ingress/shop", "http://blog.example.com/ from Ingress/blog"},
	}, {
		name:       "a URL longer than 2048 characters is left out and said so",
		discovered: []discover.Target{found(tooLong, "Ingress/shop"), found("http://blog.example.com/", "Ingress/blog")},
		want:       []string{"http://blog.example.com/ from Ingress/blog"},
		notes:      []string{"Ingress/shop: URL longer than 2048 characters, left out"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			res := discover.Merge(tc.spec, tc.discovered)
			expect(t, "targets", listed(res.Targets), tc.want)
			expect(t, "notes", res.Notes, tc.notes)
			if res.LeftOut != 0 {
				t.Errorf("left out %d, want none", res.LeftOut)
			}
			for i, s := range tc.spec {
				if res.Targets[i].Name != s.Name {
					t.Errorf("spec target %s lost its name", s.URL)
				}
			}
		})
	}
}

func TestMergeLeavesOutTheLastDiscoveredTargetsPast500(t *testing.T) {
	var spec []monitoringv1alpha1.Target
	for i := range 10 {
		spec = append(spec, specTarget(fmt.Sprintf("http://spec.example.com/%d", i)))
	}
	var discovered []discover.Target
	for i := range 600 {
		discovered = append(discovered, found(fmt.Sprintf("http://found.example.com/%d", i), "Ingress/many"))
	}
	discovered = append(discovered, found("http://spec.example.com/3", "Ingress/many")) // the spec's, not counted

	res := discover.Merge(spec, discovered)
	if len(res.Targets) != monitoringv1alpha1.MaxTargets || res.LeftOut != 110 {
		t.Fatalf("%d targets, %d left out; want %d and 110", len(res.Targets), res.LeftOut, monitoringv1alpha1.MaxTargets)
	}
	if first, last := res.Targets[10].URL, res.Targets[499].URL; first != "http://found.example.com/0" || last != "http://found.example.com/489" {
		t.Errorf("discovered kept from %s to %s, want /0 to /489", first, last)
	}
}

func TestMergeLeavesOutTheLastDiscoveredTargetsPastTheTotalURLLength(t *testing.T) {
	spec := []monitoringv1alpha1.Target{specTarget("http://spec.example.com/")} // 24 characters
	var discovered []discover.Target
	for i := range 70 {
		// 2000 characters each: 65 of them fit next to the spec's URL.
		u := fmt.Sprintf("http://found.example.com/%02d/", i)
		discovered = append(discovered, found(u+strings.Repeat("a", 2000-len(u)), "Service/long"))
	}
	discovered = append(discovered, found("http://short.example.com/", "Service/short")) // would fit, but comes last

	res := discover.Merge(spec, discovered)
	if len(res.Targets) != 66 || res.LeftOut != 6 {
		t.Fatalf("%d targets, %d left out; want 66 and 6", len(res.Targets), res.LeftOut)
	}
	total := 0
	for _, tg := range res.Targets {
		total += len(tg.URL)
	}
	if total > monitoringv1alpha1.MaxTotalURLLength {
		t.Errorf("URLs of %d characters in all, past %d", total, monitoringv1alpha1.MaxTotalURLLength)
	}
}
