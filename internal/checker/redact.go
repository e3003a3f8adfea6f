package checker

import "net/url"

// redacted replaces secret-bearing URL parts in RedactURL.
const redacted = "REDACTED"

// RedactURL returns rawURL in a form safe for logs, events and status fields:
// userinfo and every query value are replaced with "REDACTED" (query keys are
// kept, sorted, because they help debugging) and the fragment is dropped.
// Secrets embedded in the path cannot be detected and are left alone. A URL
// that does not parse is replaced entirely, since its text may hold anything.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<invalid URL>"
	}
	if u.Opaque != "" {
		u.Opaque = redacted
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	if u.RawQuery != "" || u.ForceQuery {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = redacted
		} else {
			for k, vs := range q {
				for i := range vs {
					vs[i] = redacted
				}
				q[k] = vs
			}
			u.RawQuery = q.Encode()
		}
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
