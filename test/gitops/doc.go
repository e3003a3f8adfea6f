// Package gitops tests what the README asks GitOps tools to run against
// HealthChecks: the Argo CD health check is taken from README.md itself and run
// in the Lua interpreter Argo CD uses.
package gitops
