package availability

import (
	"fmt"
	"strconv"
	"strings"
)

// whole is 100% in the objective's unit, thousandths of a percent.
const whole = 100_000

// Objective is an availability objective, held exactly as thousandths of a
// percent so that "99.9" means 99.9% and not the nearest float64. The zero value
// is an objective of 0%, whose budget is every check.
type Objective struct {
	thousandths int64 // 99900 for "99.9"
}

// ParseObjective parses spec.objective.availability: a percentage from "50" to
// "99.999" with up to 3 decimals, such as "99.9".
func ParseObjective(s string) (Objective, error) {
	units, frac, dotted := strings.Cut(s, ".")
	bad := fmt.Errorf("objective %q: want a percentage from 50 to 99.999 with up to 3 decimals, such as 99.9", s)
	if dotted && (frac == "" || len(frac) > 3) {
		return Objective{}, bad
	}
	w, err := strconv.ParseUint(units, 10, 8)
	if err != nil {
		return Objective{}, bad
	}
	var f uint64
	if dotted {
		// "9" is 900 thousandths: pad to three digits before parsing.
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 3-len(frac)), 10, 16); err != nil {
			return Objective{}, bad
		}
	}
	o := Objective{thousandths: int64(w)*1000 + int64(f)}
	if o.thousandths < 50_000 || o.thousandths > 99_999 {
		return Objective{}, bad
	}
	return o, nil
}

// Ratio is the objective as a ratio, 0.999 for "99.9", for the
// healthcheck_objective_ratio metric.
func (o Objective) Ratio() float64 { return float64(o.thousandths) / whole }

// String is the objective as a percentage, such as "99.9".
func (o Objective) String() string {
	s := fmt.Sprintf("%d.%03d", o.thousandths/1000, o.thousandths%1000)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// budget is the share of checks that may be bad, in thousandths of a percent:
// never 0, since an objective is at most 99.999%.
func (o Objective) budget() int64 { return whole - o.thousandths }
