package plugin

import (
	"net/url"
	"strings"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// admittedAlone tells, without the CRD's validators, that the API server
// admits a HealthCheck whose only target is {url: u}. It is the CRD's rules on
// a target's url, written in Go with the very functions its CEL library
// calls (url.ParseRequestURI and url.Parse for isURL and url(), Hostname, Port
// and EscapedPath), for URLs of printable ASCII, where OpenAPI's and CEL's
// lengths are byte counts and case folding is ASCII's. A false is no verdict:
// such a URL goes through the full schema and CEL validation, which alone
// words a refusal. Building that validator costs about 0.1 s of CEL
// compilation, which a list of plain URLs no longer pays; the tests hold this
// to the validator, and to the API server.
//
// The rules, from api/v1alpha1 (Target and TargetSettings):
//   - minLength 1, maxLength MaxURLLength;
//   - self.matches('^(?i)(https?|tcp|tls|grpcs?)://');
//   - isURL(self), and url(self).getHostname() not empty;
//   - !self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@') (no credentials);
//   - tcp, tls, grpc and grpcs: size(url(self.url).getPort()) > 0;
//   - tcp and tls: size(url(self.url).getEscapedPath()) <= 1.
//
// The target's other rules hold for a target that sets nothing but url, with
// the defaults the schema gives it, and so do the spec's with one target.
func admittedAlone(u string) bool {
	if len(u) == 0 || len(u) > monitoringv1alpha1.MaxURLLength {
		return false
	}
	for i := range len(u) {
		if u[i] <= ' ' || u[i] > '~' {
			return false
		}
	}
	// The schemes hold no ':', so the first "://" ends the scheme the rules match.
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return false
	}
	needsPort, noPath := false, false
	switch strings.ToLower(scheme) {
	case "http", "https":
	case "grpc", "grpcs":
		needsPort = true
	case "tcp", "tls":
		needsPort, noPath = true, true
	default:
		return false
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if strings.Contains(authority, "@") {
		return false
	}
	if _, err := url.ParseRequestURI(u); err != nil {
		return false
	}
	parsed, err := url.Parse(u)
	switch {
	case err != nil, parsed.Hostname() == "":
		return false
	case needsPort && parsed.Port() == "":
		return false
	case noPath && len(parsed.EscapedPath()) > 1:
		return false
	}
	return true
}
