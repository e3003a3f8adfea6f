package checker

import (
	"strings"
	"testing"
)

func TestParseStatusCodes(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		str     string // String() of the result
		in1     []int  // must be contained
		out     []int  // must not be contained
		wantErr string
	}{
		{name: "nil is default", in: nil, str: "200-299", in1: []int{200, 204, 299}, out: []int{199, 300, 404}},
		{name: "empty is default", in: []string{}, str: "200-299"},
		{name: "single", in: []string{"200"}, str: "200", in1: []int{200}, out: []int{201, 199}},
		{name: "range", in: []string{"200-299"}, str: "200-299", in1: []int{200, 250, 299}, out: []int{199, 300}},
		{name: "list", in: []string{"401", "200", "301"}, str: "200,301,401", in1: []int{200, 301, 401}, out: []int{201, 302}},
		{name: "merges overlaps and neighbours", in: []string{"200-250", "240-299", "300", "302"}, str: "200-300,302", in1: []int{300, 302}, out: []int{301, 303}},
		{name: "duplicates", in: []string{"204", "204"}, str: "204"},
		{name: "single-code range", in: []string{"418-418"}, str: "418", in1: []int{418}},
		{name: "bounds", in: []string{"100", "599"}, str: "100,599", in1: []int{100, 599}, out: []int{0, -1, 99, 600, 1 << 30}},
		{name: "full span", in: []string{"100-599"}, str: "100-599"},

		{name: "wildcard", in: []string{"20x"}, wantErr: `expected status code "20x": not a number or range like "200-299"`},
		{name: "empty entry", in: []string{""}, wantErr: `expected status code "": not a number or range like "200-299"`},
		{name: "whitespace", in: []string{" 200"}, wantErr: `expected status code " 200": not a number or range like "200-299"`},
		{name: "whitespace in range", in: []string{"200 - 299"}, wantErr: `expected status code "200 - 299": not a number or range like "200-299"`},
		{name: "sign", in: []string{"+200"}, wantErr: `expected status code "+200": not a number or range like "200-299"`},
		{name: "leading zero", in: []string{"0200"}, wantErr: `expected status code "0200": not a number or range like "200-299"`},
		{name: "two digits", in: []string{"99"}, wantErr: `expected status code "99": not a number or range like "200-299"`},
		{name: "open range", in: []string{"200-"}, wantErr: `expected status code "200-": not a number or range like "200-299"`},
		{name: "double range", in: []string{"200-250-299"}, wantErr: `expected status code "200-250-299": not a number or range like "200-299"`},
		{name: "comma inside entry", in: []string{"200,201"}, wantErr: `expected status code "200,201": not a number or range like "200-299"`},
		{name: "too high", in: []string{"600"}, wantErr: `expected status code "600": must be between 100 and 599`},
		{name: "too low", in: []string{"099"}, wantErr: `expected status code "099": must be between 100 and 599`},
		{name: "range too high", in: []string{"500-999"}, wantErr: `expected status code "500-999": must be between 100 and 599`},
		{name: "reversed", in: []string{"299-200"}, wantErr: `expected status code "299-200": range start is greater than its end`},
		{name: "first bad entry named", in: []string{"200", "abc", "xyz"}, wantErr: `expected status code "abc": not a number or range like "200-299"`},
		{name: "long entry cut", in: []string{strings.Repeat("9", 100)}, wantErr: `expected status code "` + strings.Repeat("9", 32) + `...": not a number or range like "200-299"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseStatusCodes(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if !s.IsZero() {
					t.Errorf("set on error = %v, want zero", s)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := s.String(); got != tc.str {
				t.Errorf("String() = %q, want %q", got, tc.str)
			}
			for _, c := range tc.in1 {
				if !s.Contains(c) {
					t.Errorf("Contains(%d) = false", c)
				}
			}
			for _, c := range tc.out {
				if s.Contains(c) {
					t.Errorf("Contains(%d) = true", c)
				}
			}
		})
	}
}

func TestStatusCodesZeroValueIsDefault(t *testing.T) {
	var zero StatusCodes
	if !zero.IsZero() || zero.String() != "200-299" || !zero.Contains(200) || zero.Contains(300) || zero.Len() != 100 {
		t.Fatalf("zero value: IsZero=%v String=%q Contains(200)=%v Contains(300)=%v Len=%d",
			zero.IsZero(), zero.String(), zero.Contains(200), zero.Contains(300), zero.Len())
	}
	if DefaultStatusCodes.String() != "200-299" || DefaultStatusCodes.IsZero() {
		t.Fatalf("DefaultStatusCodes = %q", DefaultStatusCodes)
	}
	if d, _ := ParseStatusCodes(nil); d != DefaultStatusCodes {
		t.Fatal("ParseStatusCodes(nil) != DefaultStatusCodes")
	}
}

// FuzzParseStatusCodes: never panic; errors name the entry; a parsed set
// round-trips through String and agrees with a naive membership check.
func FuzzParseStatusCodes(f *testing.F) {
	for _, seed := range []string{"", "200", "200-299", "200,301,401", "20x", "599-100", "100-599", "0", "-", "1-2-3", "200,", "٣٠٠", "200\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries := strings.Split(in, ",")
		s, err := ParseStatusCodes(entries)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "expected status code ") {
				t.Fatalf("error %q lacks the entry prefix", err)
			}
			return
		}
		if s.IsZero() || s.Len() == 0 {
			t.Fatalf("parsed %q to an empty set", in)
		}
		again, err := ParseStatusCodes(strings.Split(s.String(), ","))
		if err != nil {
			t.Fatalf("String() %q of %q does not re-parse: %v", s.String(), in, err)
		}
		if again != s {
			t.Fatalf("round trip of %q changed the set: %q vs %q", in, s.String(), again.String())
		}
		for code := 0; code <= 700; code++ {
			want := false
			for _, e := range entries {
				lo, hi, _ := strings.Cut(e, "-")
				if hi == "" {
					hi = lo
				}
				if atoi3(lo) <= code && code <= atoi3(hi) {
					want = true
				}
			}
			if s.Contains(code) != want {
				t.Fatalf("%q: Contains(%d) = %v, want %v", in, code, s.Contains(code), want)
			}
		}
	})
}

// atoi3 is a deliberately naive reference parser for the fuzz oracle; the
// entries it sees have already been validated by ParseStatusCodes.
func atoi3(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
