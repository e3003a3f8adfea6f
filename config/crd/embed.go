// Package crd embeds the generated CustomResourceDefinitions, so that tools such
// as the kubectl plugin apply the very schema the API server is given.
package crd

import "embed"

// Bases holds bases/*.yaml as `make manifests` generates them.
//
//go:embed bases/*.yaml
var Bases embed.FS

// HealthCheckFile is the path of the HealthCheck CRD within Bases.
const HealthCheckFile = "bases/monitoring.healthcheck.dev_healthchecks.yaml"
