// Package netpolicy decides which IP addresses the operator's probes may
// connect to. It is meant to run at dial time on the resolved address (see
// Policy.Control), so neither DNS rebinding nor a redirect can get around it.
//
// By default it denies link-local and cloud metadata addresses, where
// instance credentials live, and allows everything else, loopback and private
// ranges included. Operators narrow it with a deny list, an allow list, or both.
package netpolicy

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrBlocked is returned (wrapped) by Policy.Control when the policy denies
// the address being dialled. Test for it with errors.Is.
var ErrBlocked = errors.New("blocked by the outbound policy")

// defaultDeny is denied unless a more specific allow entry opens it. Every
// entry is a place where a cloud or the node serves secrets to whoever asks.
var defaultDeny = withNAT64(mustParse(
	// "This host": 0.0.0.0 and :: reach the local host when dialled, which
	// would sidestep a deny entry for loopback.
	"0.0.0.0/8", "::/128",
	// Link-local: instance metadata on AWS, GCP, Azure, OpenStack, DigitalOcean
	// and others (169.254.169.254), ECS task and EKS Pod Identity credentials
	// (169.254.170.2, 169.254.170.23).
	"169.254.0.0/16", "fe80::/10",
	// AWS instance metadata and EKS Pod Identity over IPv6.
	"fd00:ec2::254/128", "fd00:ec2::23/128",
	// Alibaba Cloud instance metadata.
	"100.100.100.200/32",
	// Azure WireServer, which hands out node certificates and settings.
	"168.63.129.16/32",
))

// DefaultDeny returns the prefixes a Policy denies unless told otherwise.
// The result is a copy; changing it changes nothing.
func DefaultDeny() []netip.Prefix {
	return append([]netip.Prefix(nil), defaultDeny...)
}

// Policy is an immutable outbound policy. Build one with New; the nil
// *Policy behaves like Default().
//
// For an address, the most specific matching prefix decides. On equal prefix
// lengths an explicit deny entry wins over an explicit allow entry, which wins
// over the built-in DefaultDeny entries. An address no prefix matches is
// allowed, unless the allow list is non-empty: then everything not allowed is
// denied. So "--allow-cidrs=0.0.0.0/0" does not open 169.254.169.254, but
// "--allow-cidrs=0.0.0.0/0,::/0,169.254.169.254/32" does.
//
// IPv4 addresses, including IPv4-mapped IPv6 ones such as
// ::ffff:169.254.169.254, are matched against IPv4 prefixes only.
type Policy struct {
	rules []rule
	// allowListed is true when an allow list was given: unmatched addresses
	// are then denied.
	allowListed bool
}

// action orders rules of equal prefix length: a higher one wins.
type action int

const (
	defaultDenied action = iota
	allowed
	denied
)

type rule struct {
	prefix netip.Prefix
	action action
}

var defaultPolicy = New(nil, nil)

// Default returns the policy used when none is configured: DefaultDeny is
// denied and everything else is allowed.
func Default() *Policy { return defaultPolicy }

// New returns a policy that allows allow and denies deny on top of
// DefaultDeny (see Policy for how they combine). A non-empty allow list
// denies every address it does not cover. Prefixes are normalised as
// ParseCIDRList does; invalid ones match nothing.
func New(allow, deny []netip.Prefix) *Policy {
	p := &Policy{allowListed: len(allow) > 0}
	add := func(prefixes []netip.Prefix, a action) {
		for _, pfx := range prefixes {
			if pfx = normalize(pfx); pfx.IsValid() {
				p.rules = append(p.rules, rule{pfx, a})
			}
		}
	}
	add(defaultDeny, defaultDenied)
	add(allow, allowed)
	add(deny, denied)
	return p
}

// Allows reports whether probes may connect to addr. Zones are ignored and
// IPv4-mapped IPv6 addresses are unmapped first. Invalid addresses are denied.
func (p *Policy) Allows(addr netip.Addr) bool {
	if p == nil {
		p = defaultPolicy
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.WithZone("").Unmap()

	best, found := rule{}, false
	for _, r := range p.rules {
		if !r.prefix.Contains(addr) {
			continue
		}
		if !found || r.prefix.Bits() > best.prefix.Bits() ||
			(r.prefix.Bits() == best.prefix.Bits() && r.action > best.action) {
			best, found = r, true
		}
	}
	if !found {
		return !p.allowListed
	}
	return best.action == allowed
}

// Control is a net.Dialer Control hook. It runs after the name has been
// resolved and before the connection is made, once for every address tried,
// and fails the attempt with an error wrapping ErrBlocked when the policy
// denies the address. An address it cannot parse is denied.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !p.Allows(ap.Addr()) {
		return fmt.Errorf("connecting to %s over %s: %w", address, network, ErrBlocked)
	}
	return nil
}

// normalize masks host bits and turns IPv4-mapped IPv6 prefixes of at least
// 96 bits into their IPv4 form, so they match the unmapped addresses Allows
// compares against.
func normalize(p netip.Prefix) netip.Prefix {
	if !p.IsValid() {
		return netip.Prefix{}
	}
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// nat64 is the well-known NAT64 prefix (RFC 6052): on an IPv6-only network a
// NAT64 gateway turns 64:ff9b::a9fe:a9fe into 169.254.169.254.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// withNAT64 adds the NAT64 form of every IPv4 prefix in ps.
func withNAT64(ps []netip.Prefix) []netip.Prefix {
	out := append([]netip.Prefix(nil), ps...)
	for _, p := range ps {
		if !p.Addr().Is4() {
			continue
		}
		b := nat64.Addr().As16()
		v4 := p.Addr().As4()
		copy(b[12:], v4[:])
		out = append(out, netip.PrefixFrom(netip.AddrFrom16(b), 96+p.Bits()))
	}
	return out
}

func mustParse(entries ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(entries))
	for i, e := range entries {
		ps[i] = netip.MustParsePrefix(e)
	}
	return ps
}
