package netpolicy

import (
	"errors"
	"net/netip"
	"testing"
)

func prefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	ps, err := ParseCIDRList(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestAllows(t *testing.T) {
	tests := []struct {
		name        string
		allow, deny string
		addr        string
		want        bool
	}{
		// The default policy.
		{"loopback v4", "", "", "127.0.0.1", true},
		{"loopback v6", "", "", "::1", true},
		{"private 10/8", "", "", "10.1.2.3", true},
		{"private 192.168", "", "", "192.168.1.1", true},
		{"private ULA", "", "", "fd12:3456::1", true},
		{"public", "", "", "93.184.215.14", true},
		{"metadata", "", "", "169.254.169.254", false},
		{"metadata mapped", "", "", "::ffff:169.254.169.254", false},
		{"metadata NAT64", "", "", "64:ff9b::a9fe:a9fe", false},
		{"ecs credentials", "", "", "169.254.170.2", false},
		{"link-local v4 edge", "", "", "169.254.255.255", false},
		{"just outside link-local", "", "", "169.255.0.0", true},
		{"link-local v6", "", "", "fe80::1", false},
		{"link-local v6 zoned", "", "", "fe80::1%eth0", false},
		{"link-local v6 edge", "", "", "febf:ffff::1", false},
		{"aws imds v6", "", "", "fd00:ec2::254", false},
		{"eks pod identity v6", "", "", "fd00:ec2::23", false},
		{"aws dns v6 not metadata", "", "", "fd00:ec2::253", true},
		{"alibaba metadata", "", "", "100.100.100.200", false},
		{"alibaba metadata mapped", "", "", "::ffff:100.100.100.200", false},
		{"azure wireserver", "", "", "168.63.129.16", false},
		{"cgnat neighbour allowed", "", "", "100.100.100.201", true},
		{"unspecified v4", "", "", "0.0.0.0", false},
		{"unspecified v4 mapped", "", "", "::ffff:0.0.0.0", false},
		{"unspecified v6", "", "", "::", false},

		// Deny lists add to the defaults.
		{"deny hit", "", "10.0.0.0/8", "10.9.9.9", false},
		{"deny miss", "", "10.0.0.0/8", "11.0.0.1", true},
		{"deny keeps defaults", "", "10.0.0.0/8", "169.254.169.254", false},
		{"deny loopback", "", "127.0.0.0/8, ::1", "127.0.0.1", false},
		{"deny mapped entry matches v4", "", "::ffff:127.0.0.2/128", "127.0.0.2", false},
		{"deny v4 entry matches mapped", "", "127.0.0.2", "::ffff:127.0.0.2", false},

		// A non-empty allow list denies everything else.
		{"allow hit", "10.0.0.0/8", "", "10.1.2.3", true},
		{"allow miss", "10.0.0.0/8", "", "192.168.0.1", false},
		{"allow list denies loopback", "10.0.0.0/8", "", "127.0.0.1", false},
		{"allow v4 does not cover v6", "0.0.0.0/0", "", "2001:db8::1", false},
		{"allow everything keeps metadata denied", "0.0.0.0/0, ::/0", "", "169.254.169.254", false},
		{"allow everything keeps metadata v6 denied", "0.0.0.0/0, ::/0", "", "fd00:ec2::254", false},
		{"allow everything", "0.0.0.0/0, ::/0", "", "8.8.8.8", true},
		{"explicit allow opens a default", "0.0.0.0/0, 169.254.169.254", "", "169.254.169.254", true},
		{"explicit allow opens only itself", "0.0.0.0/0, 169.254.169.254", "", "169.254.169.253", false},
		{"equal allow beats default", "169.254.0.0/16", "", "169.254.1.1", true},

		// Both lists: the most specific prefix wins, deny on a tie.
		{"deny inside allow", "10.0.0.0/8", "10.1.0.0/16", "10.1.0.1", false},
		{"deny inside allow, elsewhere", "10.0.0.0/8", "10.1.0.0/16", "10.2.0.1", true},
		{"allow inside deny", "10.1.0.0/16", "10.0.0.0/8", "10.1.0.1", true},
		{"tie goes to deny", "10.0.0.0/8", "10.0.0.0/8", "10.0.0.1", false},
		{"user deny beats explicit allow of default", "169.254.169.254", "169.254.169.254", "169.254.169.254", false},

		{"invalid address", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var addr netip.Addr
			if tc.addr != "" {
				addr = netip.MustParseAddr(tc.addr)
			}
			p := New(prefixes(t, tc.allow), prefixes(t, tc.deny))
			if got := p.Allows(addr); got != tc.want {
				t.Fatalf("New(allow=%q, deny=%q).Allows(%s) = %v, want %v", tc.allow, tc.deny, tc.addr, got, tc.want)
			}
		})
	}
}

func TestNilAndDefaultPolicy(t *testing.T) {
	var nilPolicy *Policy
	for _, a := range []string{"169.254.169.254", "127.0.0.1", "fe80::1"} {
		addr := netip.MustParseAddr(a)
		if nilPolicy.Allows(addr) != Default().Allows(addr) {
			t.Errorf("nil policy and Default disagree on %s", a)
		}
	}
	got := DefaultDeny()
	got[0] = netip.MustParsePrefix("1.2.3.0/24")
	if DefaultDeny()[0] == got[0] {
		t.Error("DefaultDeny returned the package's own slice")
	}
}

// TestNewNormalizesPrefixes: prefixes built by hand (not via ParseCIDRList)
// are masked and unmapped too, and invalid ones match nothing.
func TestNewNormalizesPrefixes(t *testing.T) {
	mapped := netip.PrefixFrom(netip.MustParseAddr("::ffff:10.1.2.3"), 104) // host bits set
	p := New(nil, []netip.Prefix{mapped, {}})
	if p.Allows(netip.MustParseAddr("10.200.0.1")) {
		t.Error("hand-built mapped prefix did not deny 10.200.0.1")
	}
	if !p.Allows(netip.MustParseAddr("11.0.0.1")) {
		t.Error("invalid prefix matched something")
	}
}

func TestControl(t *testing.T) {
	p := New(nil, prefixes(t, "127.0.0.2"))
	tests := []struct {
		address string
		blocked bool
	}{
		{"127.0.0.1:80", false},
		{"[::1]:443", false},
		{"127.0.0.2:80", true},
		{"[::ffff:127.0.0.2]:80", true},
		{"169.254.169.254:80", true},
		{"[fe80::1%eth0]:80", true},
		{"not an address", true},
		{"example.com:80", true}, // Control only ever sees resolved addresses
	}
	for _, tc := range tests {
		err := p.Control("tcp", tc.address, nil)
		if got := errors.Is(err, ErrBlocked); got != tc.blocked {
			t.Errorf("Control(%q) = %v, want blocked=%v", tc.address, err, tc.blocked)
		}
	}
}
