package availability

import (
	"math/big"
	"strings"
	"time"
)

// Figures are a ledger's counts over the window ending at one instant.
type Figures struct {
	// Window is the window counted.
	Window time.Duration
	// Good and Total count the good and the counted checks in the buckets that
	// overlap the window.
	Good, Total int64
	// Since is when counting began, when that is within the window: the figures
	// then cover only the time since. Nil when the whole window is covered, or
	// when nothing was counted.
	Since *time.Time
}

// Ratio is the share of good checks as a percentage rounded down to 4 decimals,
// such as "99.9731", "100" or "0"; "" when nothing was counted.
func (f Figures) Ratio() string {
	if f.Total <= 0 {
		return ""
	}
	return floorPercent(big.NewInt(f.Good), big.NewInt(f.Total))
}

// Availability is the share of good checks, for the
// healthcheck_availability_ratio metric; ok is false when nothing was counted.
func (f Figures) Availability() (ratio float64, ok bool) {
	if f.Total <= 0 {
		return 0, false
	}
	return float64(f.Good) / float64(f.Total), true
}

// BudgetRemaining is the share of o's error budget left, as a percentage
// rounded down to 4 decimals and negative once overspent, such as "73.5" or
// "-250": 1 - (bad/total)/(1 - o). It is "100" when nothing was counted.
func (f Figures) BudgetRemaining(o Objective) string {
	left, budget := f.budgetLeft(o)
	return floorPercent(left, budget)
}

// BudgetRemainingRatio is BudgetRemaining as a ratio (1 is the whole budget),
// for the healthcheck_error_budget_remaining_ratio metric.
func (f Figures) BudgetRemainingRatio(o Objective) float64 {
	left, budget := f.budgetLeft(o)
	r, _ := new(big.Rat).SetFrac(left, budget).Float64()
	return r
}

// Exhausted reports whether o's error budget is spent: at least as many bad
// checks as o allows. Exact, unlike comparing the float.
func (f Figures) Exhausted(o Objective) bool {
	left, _ := f.budgetLeft(o)
	return f.Total > 0 && left.Sign() <= 0
}

// budgetLeft is the budget left as the fraction left/budget, computed in
// integers: with b = 1 - o in thousandths of a percent, the budget allows
// total·b/100000 bad checks, so 1 - (bad/total)/(b/100000) is
// (total·b - bad·100000) / (total·b).
func (f Figures) budgetLeft(o Objective) (left, budget *big.Int) {
	if f.Total <= 0 {
		return big.NewInt(1), big.NewInt(1)
	}
	budget = new(big.Int).Mul(big.NewInt(f.Total), big.NewInt(o.budget()))
	spent := new(big.Int).Mul(big.NewInt(f.Total-f.Good), big.NewInt(whole))
	return new(big.Int).Sub(budget, spent), budget
}

// floorPercent is num/den as a percentage rounded down to 4 decimals, trailing
// zeros trimmed. Rounding down, not to nearest, is what keeps 99.99996% from
// reading as 100 and a budget overspent by a hair from reading as 0. den > 0.
func floorPercent(num, den *big.Int) string {
	q := new(big.Int).Mul(num, big.NewInt(1_000_000))
	q.Div(q, den) // Euclidean division: with den > 0, the floor
	sign := ""
	if q.Sign() < 0 {
		sign = "-"
		q.Neg(q)
	}
	units, frac := new(big.Int).QuoRem(q, big.NewInt(10_000), new(big.Int))
	s := sign + units.String()
	if frac.Sign() != 0 {
		digits := frac.String()
		s += "." + strings.TrimRight(strings.Repeat("0", 4-len(digits))+digits, "0")
	}
	return s
}
