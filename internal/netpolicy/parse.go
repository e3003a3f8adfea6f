package netpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// maxEntryInError bounds how much of a bad entry is echoed in an error, so a
// huge fuzzed or misconfigured flag cannot produce a huge message.
const maxEntryInError = 48

// ParseCIDRList parses a comma-separated list such as
// "10.0.0.0/8, 192.168.0.0/16, fd00::/8" as given to --deny-cidrs and
// --allow-cidrs. A bare address means a single host (/32 or /128). Spaces
// around entries are ignored; an empty or all-space string yields nil.
//
// The first bad entry is named in the error. Entries with host bits set
// ("10.0.0.1/8") are rejected rather than silently masked, because they are
// usually typos; so are empty entries and IPv6 zones. IPv4-mapped IPv6
// prefixes of at least 96 bits are returned in IPv4 form (::ffff:10.0.0.0/104
// becomes 10.0.0.0/8). It never panics.
func ParseCIDRList(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	entries := strings.Split(s, ",")
	prefixes := make([]netip.Prefix, 0, len(entries))
	for i, e := range entries {
		p, err := parseEntry(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

func parseEntry(e string) (netip.Prefix, error) {
	if e == "" {
		return netip.Prefix{}, errors.New("empty (stray comma?)")
	}
	if strings.Contains(e, "%") {
		return netip.Prefix{}, entryError(e, "IPv6 zones are not allowed")
	}
	var p netip.Prefix
	if strings.Contains(e, "/") {
		var err error
		if p, err = netip.ParsePrefix(e); err != nil {
			return netip.Prefix{}, entryError(e, `not a CIDR prefix like "10.0.0.0/8" or "fd00::/8"`)
		}
	} else {
		a, err := netip.ParseAddr(e)
		if err != nil {
			return netip.Prefix{}, entryError(e, `not an IP address or a CIDR prefix like "10.0.0.0/8"`)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, entryError(e, fmt.Sprintf("host bits set after the prefix length; did you mean %q?", m.String()))
	}
	return normalize(p), nil
}

func entryError(entry, why string) error {
	if len(entry) > maxEntryInError {
		entry = entry[:maxEntryInError] + "..."
	}
	return fmt.Errorf("%q: %s", entry, why)
}
