package checker

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
)

// errLookupHost is LookupAddresses' error for an empty host.
var errLookupHost = errors.New(msgInvalidRequest + ": host must not be empty")

// lookupError is a failed lookup of LookupAddresses. Its text is fixed, so
// it never names the host or the resolver; it wraps the resolver's error so
// that Classify still sees a DNSError, or a Timeout when the lookup was cut
// short.
type lookupError struct{ err error }

func (e *lookupError) Error() string { return msgDNS }

func (e *lookupError) Unwrap() error { return e.err }

// LookupAddresses returns host's addresses of family, sorted (IPv4 first) and
// without duplicates, as Target.Address values for checking each backend of
// the host; an IP address gives itself. IPv4-mapped IPv6 addresses count as
// IPv4, as they do for checks. It asks net.DefaultResolver.
//
// A host without an address of family fails with the error of a check that
// finds none ("no IPv4 address", "no IPv6 address"), other failures with
// "DNS lookup failed"; Classify makes either a DNSError (a Timeout if ctx
// ended the lookup). No error text names the host.
func LookupAddresses(ctx context.Context, host string, family IPFamily) ([]netip.Addr, error) {
	return lookupAddresses(ctx, net.DefaultResolver, host, family)
}

// lookupAddresses is LookupAddresses with resolver r.
func lookupAddresses(ctx context.Context, r *net.Resolver, host string, family IPFamily) ([]netip.Addr, error) {
	if family == ipFamilyAnyName {
		family = IPFamilyAny
	}
	switch {
	case !family.valid():
		return nil, errors.New(msgInvalidRequest + ": " + problemIPFamily)
	case host == "":
		return nil, errLookupHost
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = r.LookupNetIP(ctx, family.lookupNetwork(), host)
		if err != nil {
			if family != IPFamilyAny && noAddressFound(err) {
				return nil, family.errNoAddress()
			}
			if ctx.Err() != nil {
				// The resolver's own answer may win the race with the end
				// of ctx; either way, ctx ended the lookup.
				err = ctx.Err()
			}
			return nil, &lookupError{err: err}
		}
	}
	// Some resolvers return IPv4 addresses IPv4-mapped; a literal may be too.
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4In6() {
			a = a.Unmap()
		}
		if family == IPFamilyAny || (family == IPFamilyIPv4) == a.Is4() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		if family == IPFamilyAny {
			return nil, &lookupError{err: &net.DNSError{Err: "no such host", IsNotFound: true}}
		}
		return nil, family.errNoAddress()
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}

// lookupNetwork is the net.Resolver network of f's addresses.
func (f IPFamily) lookupNetwork() string {
	switch f {
	case IPFamilyIPv4:
		return "ip4"
	case IPFamilyIPv6:
		return "ip6"
	}
	return "ip"
}
