package controllers_test

import (
	"os"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// TestOperatorRoleHasNoWildcards reads the ClusterRole generated from the RBAC
// markers: every rule names its groups, resources and verbs, and Secrets are only
// read (list and watch feed the metadata-only watch; values are fetched by get).
func TestOperatorRoleHasNoWildcards(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(raw, &role); err != nil {
		t.Fatal(err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("the role has no rules")
	}
	for _, rule := range role.Rules {
		for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs} {
			for _, v := range list {
				if v == "*" {
					t.Errorf("wildcard in rule %+v", rule)
				}
			}
		}
		for _, resource := range rule.Resources {
			if resource != "secrets" {
				continue
			}
			for _, verb := range rule.Verbs {
				if verb != "get" && verb != "list" && verb != "watch" {
					t.Errorf("the operator may %s Secrets", verb)
				}
			}
		}
	}
}
