package netpolicy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCIDRList(t *testing.T) {
	tests := []struct {
		in      string
		want    string // prefixes joined by ","
		wantErr string
	}{
		{in: "", want: ""},
		{in: "   ", want: ""},
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: " 10.0.0.0/8 ,192.168.0.0/16 ", want: "10.0.0.0/8,192.168.0.0/16"},
		{in: "fd00::/8,fe80::/10", want: "fd00::/8,fe80::/10"},
		{in: "169.254.169.254", want: "169.254.169.254/32"},
		{in: "fd00:ec2::254", want: "fd00:ec2::254/128"},
		{in: "::ffff:169.254.0.0/112", want: "169.254.0.0/16"},
		{in: "::ffff:127.0.0.2", want: "127.0.0.2/32"},
		{in: "::ffff:0:0/96", want: "0.0.0.0/0"},
		{in: "::/0", want: "::/0"},

		{in: "10.0.0.1/8", wantErr: `entry 1: "10.0.0.1/8": host bits set after the prefix length; did you mean "10.0.0.0/8"?`},
		{in: "10.0.0.0/8,10.0.0.0/33", wantErr: `entry 2: "10.0.0.0/33": not a CIDR prefix like "10.0.0.0/8" or "fd00::/8"`},
		{in: "10.0.0.0/8,,11.0.0.0/8", wantErr: `entry 2: empty (stray comma?)`},
		{in: "10.0.0.0/8,", wantErr: `entry 2: empty (stray comma?)`},
		{in: "example.com", wantErr: `entry 1: "example.com": not an IP address or a CIDR prefix like "10.0.0.0/8"`},
		{in: "fe80::1%eth0", wantErr: `entry 1: "fe80::1%eth0": IPv6 zones are not allowed`},
		{in: "fe80::%eth0/64", wantErr: `entry 1: "fe80::%eth0/64": IPv6 zones are not allowed`},
		{in: "10.0.0.0/8 192.168.0.0/16", wantErr: `entry 1: "10.0.0.0/8 192.168.0.0/16": not a CIDR prefix`},
		{in: "010.0.0.0/8", wantErr: `entry 1: "010.0.0.0/8": not a CIDR prefix`},
		{in: "10.0.0.0/08", wantErr: `entry 1: "10.0.0.0/08": not a CIDR prefix`},
		{in: strings.Repeat("9", 500), wantErr: `entry 1: "` + strings.Repeat("9", maxEntryInError) + `...": not an IP address`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCIDRList(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("ParseCIDRList(%q) error = %v, want prefix %q", tc.in, err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("got %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCIDRList(%q): %v", tc.in, err)
			}
			if s := join(got); s != tc.want {
				t.Fatalf("ParseCIDRList(%q) = %q, want %q", tc.in, s, tc.want)
			}
		})
	}
}

func join(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// FuzzParseCIDRList: it never panics, errors stay short, and what it accepts
// is canonical (masked, never IPv4-mapped) and survives a round trip.
//
//	go test -fuzz=FuzzParseCIDRList ./internal/netpolicy/
func FuzzParseCIDRList(f *testing.F) {
	for _, seed := range []string{
		"", " ", ",", "10.0.0.0/8", "10.0.0.0/8, 192.168.0.0/16", "::ffff:169.254.0.0/112",
		"fe80::/10", "169.254.169.254", "10.0.0.1/8", "fe80::1%eth0", "10.0.0.0/33",
		"::ffff:0:0/95", "::ffff:1.2.3.4/128", "0.0.0.0/0,::/0", "1.2.3.4/-1", "\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseCIDRList(in)
		if err != nil {
			if got != nil {
				t.Fatalf("prefixes %v returned with error %v", got, err)
			}
			// The error echoes at most maxEntryInError bytes of the input
			// (quoted, so up to 4 bytes each) plus fixed text.
			if n := utf8.RuneCountInString(err.Error()); n > 4*maxEntryInError+200 {
				t.Fatalf("error is %d runes long", n)
			}
			return
		}
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("ParseCIDRList(%q) returned non-canonical %v", in, p)
			}
		}
		again, err := ParseCIDRList(join(got))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("round trip of %q: %v then %v (%v)", in, got, again, err)
		}
		// Whatever it accepts must be usable by New without surprises.
		p := New(got, nil)
		for _, pfx := range got {
			if !p.Allows(pfx.Addr()) && !isDefaultDenied(pfx.Addr()) {
				t.Fatalf("allow list %v does not allow its own %s", got, pfx.Addr())
			}
		}
	})
}

func isDefaultDenied(a netip.Addr) bool {
	for _, p := range defaultDeny {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}
