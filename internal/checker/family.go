package checker

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// IPFamily says which addresses of a target's host a check may connect to.
// Its values are the API's, so a resolved target converts with a cast.
type IPFamily string

// IP families.
const (
	// IPFamilyAny allows every address, in the resolver's order. "Any" means
	// the same; withDefaults turns it into "".
	IPFamilyAny IPFamily = ""
	// IPFamilyIPv4 allows only IPv4 addresses; net.Dial counts IPv4-mapped
	// IPv6 ones ("::ffff:10.0.0.1") as IPv4.
	IPFamilyIPv4 IPFamily = "IPv4"
	// IPFamilyIPv6 allows only IPv6 addresses.
	IPFamilyIPv6 IPFamily = "IPv6"
)

// ipFamilyAnyName is the API's spelling of IPFamilyAny.
const ipFamilyAnyName IPFamily = "Any"

// problemIPFamily is the "invalid request" description of an unknown family.
const problemIPFamily = "ipFamily must be Any, IPv4 or IPv6"

// Errors of a dial that found no address of its family. Classify makes them
// DNSErrors and failure reports their text, which names no host.
var (
	errNoIPv4Address = errors.New(msgNoIPv4)
	errNoIPv6Address = errors.New(msgNoIPv6)
)

// goNoSuitableAddress is the text of the *net.AddrError that net.Dialer
// returns when the host resolved only to addresses of the other family, as a
// host listed in /etc/hosts with one family does. net exports no value for it.
const goNoSuitableAddress = "no suitable address found"

func (f IPFamily) valid() bool {
	return f == IPFamilyAny || f == IPFamilyIPv4 || f == IPFamilyIPv6
}

// network is the net.Dial network of f's TCP connections.
func (f IPFamily) network() string {
	switch f {
	case IPFamilyIPv4:
		return "tcp4"
	case IPFamilyIPv6:
		return "tcp6"
	}
	return "tcp"
}

// errNoAddress is the error of a dial that found no address of family f.
func (f IPFamily) errNoAddress() error {
	if f == IPFamilyIPv4 {
		return errNoIPv4Address
	}
	return errNoIPv6Address
}

// dialFamily dials addr (host:port) over TCP with d, connecting only to
// addresses of family; the policy in d.Control still sees every address tried.
//
// A host without such an address fails with errNoIPv4Address or
// errNoIPv6Address. net.Dialer says so in one of two ways: it asks DNS only
// for the family's records and gets a not-found *net.DNSError when there are
// none, and it filters literal addresses, and what other sources (the hosts
// file) return, into a *net.AddrError, without a system call. Other DNS
// failures (timeouts, server errors) stay what they are.
func dialFamily(ctx context.Context, d *net.Dialer, family IPFamily, addr string) (net.Conn, error) {
	if family == IPFamilyAny {
		return d.DialContext(ctx, "tcp", addr)
	}
	conn, err := d.DialContext(ctx, family.network(), addr)
	if err != nil && noAddressFound(err) {
		return nil, family.errNoAddress()
	}
	return conn, err
}

// noAddressFound tells whether a dial restricted to one family failed because
// the host has no address of it (see dialFamily).
func noAddressFound(err error) bool {
	var addrErr *net.AddrError
	if errors.As(err, &addrErr) {
		return addrErr.Err == goNoSuitableAddress
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// isNoAddress tells whether err says a host has no address of a check's family.
func isNoAddress(err error) bool {
	return errors.Is(err, errNoIPv4Address) || errors.Is(err, errNoIPv6Address)
}

// dialPlan is how a check's connections are made: with which family, and,
// for fan-out, at which one address and port of the URL's host. The zero
// value dials the host's addresses of any family at the dialled port. It
// reaches the http and https dialers through the check's context (withPlan)
// and the tcp, tls and gRPC ones as a parameter.
type dialPlan struct {
	family IPFamily
	// address, if valid, replaces the addresses host resolves to; port, if
	// set, replaces the dialled port (a decimal number, 1 to 65535). host is
	// the URL's host as the dialers see it: without brackets, unresolved.
	address netip.Addr
	port    string
	host    string
}

// retargets tells whether p sends the URL's host elsewhere than its own
// addresses and port, so that the caller must set p.host.
func (p dialPlan) retargets() bool { return p.address.IsValid() || p.port != "" }

// dial dials addr (host:port) over TCP with d as p says: when host is
// p.host, at p.address instead of host's addresses and at p.port instead of
// addr's port, each if set; with p.family always, so an address of the other
// family fails as a host without one does.
//
// A redirect hop to another host resolves normally and keeps its own port:
// the address and port are one backend of the URL's own host, and mean
// nothing for another host's.
func (p dialPlan) dial(ctx context.Context, d *net.Dialer, addr string) (net.Conn, error) {
	if p.retargets() {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.EqualFold(host, p.host) {
			if p.address.IsValid() {
				host = p.address.String()
			}
			if p.port != "" {
				port = p.port
			}
			addr = net.JoinHostPort(host, port)
		}
	}
	return dialFamily(ctx, d, p.family, addr)
}

// planKey is the context key under which withPlan stores a check's dialPlan.
type planKey struct{}

// withPlan returns ctx carrying plan for the http and https dialers, which
// net/http calls with the request's context values (see withCheck), on every
// redirect hop too. The zero plan adds nothing: it is what the dialers
// assume, and the default checks keep their allocations.
func withPlan(ctx context.Context, plan dialPlan) context.Context {
	if plan == (dialPlan{}) {
		return ctx
	}
	// A copy made here, not &plan, which would move plan to the heap on
	// every call.
	stored := new(dialPlan)
	*stored = plan
	return context.WithValue(ctx, planKey{}, stored)
}

// planOf is the plan withPlan stored in ctx, the zero plan if none.
func planOf(ctx context.Context) dialPlan {
	if p, ok := ctx.Value(planKey{}).(*dialPlan); ok {
		return *p
	}
	return dialPlan{}
}

// problemAddress is the "invalid request" description of an Address that is
// not an IP address.
const problemAddress = "address must be an IPv4 or IPv6 address"

// problemPort is the "invalid request" description of a Port that is not a
// TCP port number.
const problemPort = "port must be between 1 and 65535"

// planFor validates t's family, Address and Port into the plan of its
// connections; the caller sets the plan's host. On failure it returns a
// fixed description.
func planFor(t Target) (dialPlan, string) {
	if !t.IPFamily.valid() {
		return dialPlan{}, problemIPFamily
	}
	plan := dialPlan{family: t.IPFamily}
	if t.Address != "" {
		a, err := netip.ParseAddr(t.Address)
		if err != nil {
			return dialPlan{}, problemAddress
		}
		plan.address = a
	}
	switch {
	case t.Port == 0:
	case t.Port < 1 || t.Port > 65535:
		return dialPlan{}, problemPort
	default:
		plan.port = strconv.Itoa(t.Port)
	}
	return plan, ""
}
