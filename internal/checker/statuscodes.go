package checker

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

const (
	minStatusCode = 100
	maxStatusCode = 599
	// statusWords is the number of 64-bit words needed for one bit per code in
	// [minStatusCode, maxStatusCode].
	statusWords = (maxStatusCode - minStatusCode + 64) / 64
	// maxEntryInError bounds how much of a bad entry is echoed in an error so
	// a huge fuzzed or misconfigured input cannot produce a huge message.
	maxEntryInError = 32
)

// StatusCodes is a parsed set of expected HTTP status codes.
//
// It is stored as a fixed bitset over 100..599, which makes it allocation-free,
// O(1) to query and comparable with ==. The zero value means
// DefaultStatusCodes (200-299) so an unset Target.Expected does the usual thing.
type StatusCodes struct {
	bits [statusWords]uint64
}

// DefaultStatusCodes is the set used when nothing else is configured: 200-299.
var DefaultStatusCodes = mustStatusRange(200, 299)

func mustStatusRange(lo, hi int) StatusCodes {
	var s StatusCodes
	s.addRange(lo, hi)
	return s
}

func (s *StatusCodes) addRange(lo, hi int) {
	for c := lo; c <= hi; c++ {
		i := c - minStatusCode
		s.bits[i/64] |= 1 << (uint(i) % 64)
	}
}

func (s StatusCodes) has(code int) bool {
	if code < minStatusCode || code > maxStatusCode {
		return false
	}
	i := code - minStatusCode
	return s.bits[i/64]&(1<<(uint(i)%64)) != 0
}

// IsZero reports whether s is the zero value, which callers treat as
// DefaultStatusCodes.
func (s StatusCodes) IsZero() bool {
	return s == StatusCodes{}
}

// effective resolves the zero value to the default set.
func (s StatusCodes) effective() StatusCodes {
	if s.IsZero() {
		return DefaultStatusCodes
	}
	return s
}

// Len returns how many distinct codes the set contains (the zero value counts
// as the default set).
func (s StatusCodes) Len() int {
	n := 0
	for _, w := range s.effective().bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// Contains reports whether code is in the set. The zero value behaves like
// DefaultStatusCodes.
func (s StatusCodes) Contains(code int) bool {
	return s.effective().has(code)
}

// String renders the set canonically as sorted, merged, comma-separated codes
// and ranges, e.g. "200-299" or "200,301,401". ParseStatusCodes accepts the
// output (after splitting on ",") and yields an equal set.
func (s StatusCodes) String() string {
	e := s.effective()
	var b strings.Builder
	for c := minStatusCode; c <= maxStatusCode; c++ {
		if !e.has(c) {
			continue
		}
		lo := c
		for c+1 <= maxStatusCode && e.has(c+1) {
			c++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(lo))
		if c > lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(c))
		}
	}
	return b.String()
}

// ParseStatusCodes parses entries such as "200", "200-299" or "301". An empty
// or nil slice yields DefaultStatusCodes. Each entry must be a three-digit code
// in 100..599 or a range "lo-hi" with 100 <= lo <= hi <= 599; whitespace, signs
// and leading zeros are rejected so that what users write is exactly what is
// matched. The first bad entry is named in the error. It never panics.
func ParseStatusCodes(entries []string) (StatusCodes, error) {
	if len(entries) == 0 {
		return DefaultStatusCodes, nil
	}
	var s StatusCodes
	for _, e := range entries {
		lo, hi, err := parseStatusEntry(e)
		if err != nil {
			return StatusCodes{}, err
		}
		s.addRange(lo, hi)
	}
	return s, nil
}

func parseStatusEntry(e string) (lo, hi int, err error) {
	loStr, hiStr, isRange := strings.Cut(e, "-")
	if !isRange {
		hiStr = loStr
	}
	lo, okLo := parseThreeDigits(loStr)
	hi, okHi := parseThreeDigits(hiStr)
	if !okLo || !okHi {
		return 0, 0, statusEntryError(e, `not a number or range like "200-299"`)
	}
	if lo < minStatusCode || lo > maxStatusCode || hi < minStatusCode || hi > maxStatusCode {
		return 0, 0, statusEntryError(e, "must be between 100 and 599")
	}
	if lo > hi {
		return 0, 0, statusEntryError(e, "range start is greater than its end")
	}
	return lo, hi, nil
}

// parseThreeDigits accepts exactly three ASCII digits; strconv.Atoi would also
// accept signs, which we do not want.
func parseThreeDigits(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func statusEntryError(entry, why string) error {
	if len(entry) > maxEntryInError {
		entry = entry[:maxEntryInError] + "..."
	}
	return fmt.Errorf("expected status code %q: %s", entry, why)
}
