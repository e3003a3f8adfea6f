package availability_test

import (
	"math"
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// TestThirtyDays runs 30 days of rounds at a 1m interval over two targets, as
// the reconciler would: each round decodes the counts from the last status,
// adds one check per target, and encodes them again. Target a is down for two
// hours from 10:00 on day 20 (T); b is never down. The objective is
// 99.9%, so the budget is 0.1% of checks and a burn rate is 1000 times the
// share of bad checks. Every figure wanted is worked out by hand in its
// comment. Since is the first round throughout.
func TestThirtyDays(t *testing.T) {
	const window = 720 * time.Hour
	outage := base.Add(19*24*time.Hour + 10*time.Hour) // T
	o := objective(t, "99.9")
	type want struct {
		ratio, budget, ratioA, ratioB string
		good, total                   int64
		rates                         availability.BurnRates
		burning, exhausted            bool
	}
	checkpoints := map[time.Time]want{
		// T+9m: 27,970 rounds so far (19 days of 1,440, 610 today), 10 of a's
		// bad. 5m covers [T, T+10m): 20 checks, 10 bad, a rate of 0.5/0.001. 30m
		// covers [T-25m, T+10m), 70 checks; 1h [T-55m, T+10m), 130; 6h
		// [T-355m, T+10m), 730.
		outage.Add(9 * time.Minute): {
			ratio: "99.9821", budget: "82.1237", ratioA: "99.9642", ratioB: "100", // 55930/55940; 27960/27970
			good: 55930, total: 55940, // 10 of the 55.94 bad checks allowed
			rates:   availability.BurnRates{FiveMinutes: 500, ThirtyMinutes: 10000.0 / 70, OneHour: 10000.0 / 130, SixHours: 10000.0 / 730},
			burning: true,
		},
		// T+119m, the outage's last round: 28,080 rounds, 120 bad. 5m, 30m and 1h
		// cover only outage rounds, half of their checks bad; 6h covers
		// [T-245m, T+120m): 730 checks, 120 bad.
		outage.Add(119 * time.Minute): {
			ratio: "99.7863", budget: "-113.6753", ratioA: "99.5726", ratioB: "100", // 56040/56160; 27960/28080
			good: 56040, total: 56160, exhausted: true, // 120 of 56.16
			rates:   availability.BurnRates{FiveMinutes: 500, ThirtyMinutes: 500, OneHour: 500, SixHours: 120000.0 / 730},
			burning: true,
		},
		// T+3h, an hour after the outage: 28,141 rounds, 120 bad. 5m, 30m and 1h
		// reach back no further than T+2h, all good; 6h covers [T-3h, T+3h5m):
		// 722 checks, 120 bad. No longer burning: the short windows are clean.
		outage.Add(3 * time.Hour): {
			ratio: "99.7867", budget: "-113.2121", ratioA: "99.5735", ratioB: "100", // 56162/56282; 28021/28141
			good: 56162, total: 56282, exhausted: true,
			rates:   availability.BurnRates{SixHours: 120000.0 / 722},
			burning: false,
		},
		// The last round, day 30 23:59: 43,200 rounds, 120 bad: 120 of the
		// 86.4 bad checks the budget allows, so -38.8889% of it is left.
		base.Add(window - time.Minute): {
			ratio: "99.8611", budget: "-38.8889", ratioA: "99.7222", ratioB: "100", // 86280/86400; 43080/43200
			good: 86280, total: 86400, exhausted: true,
		},
	}

	var counts string
	targetCounts := map[string]string{}
	for at := base; at.Before(base.Add(window)); at = at.Add(time.Minute) {
		l, err := availability.Decode(counts, window)
		if err != nil {
			t.Fatalf("round at %v: %v", at, err)
		}
		downA := !at.Before(outage) && at.Before(outage.Add(2*time.Hour))
		ratios := map[string]string{}
		for _, target := range []string{"a", "b"} {
			good := int64(1)
			if target == "a" && downA {
				good = 0
			}
			// Each target's counts go through status too, as the HealthCheck's do.
			tl, err := availability.DecodeTarget(targetCounts[target], window)
			if err != nil {
				t.Fatalf("target %s at %v: %v", target, at, err)
			}
			ratios[target] = l.AddTarget(tl, at, good, 1)
			targetCounts[target] = tl.Encode()
		}
		counts = l.Encode()

		w, ok := checkpoints[at]
		if !ok {
			continue
		}
		st := l.Status(at, &o)
		f := l.Figures(at)
		if st.Ratio != w.ratio || st.ErrorBudgetRemaining != w.budget || st.GoodChecks != w.good || st.TotalChecks != w.total {
			t.Errorf("%v: ratio %s, budget %s, %d/%d; want %s, %s, %d/%d", at, st.Ratio, st.ErrorBudgetRemaining,
				st.GoodChecks, st.TotalChecks, w.ratio, w.budget, w.good, w.total)
		}
		if ratios["a"] != w.ratioA || ratios["b"] != w.ratioB {
			t.Errorf("%v: targets' ratios %s and %s, want %s and %s", at, ratios["a"], ratios["b"], w.ratioA, w.ratioB)
		}
		if st.Since == nil || !st.Since.Time.Equal(base) {
			t.Errorf("%v: since %v, want %v", at, st.Since, base)
		}
		if got := f.Exhausted(o); got != w.exhausted {
			t.Errorf("%v: exhausted %v, want %v", at, got, w.exhausted)
		}
		rates := l.BurnRates(at, o)
		if !near(rates, w.rates) || rates.Burning() != w.burning {
			t.Errorf("%v: burn rates %+v (burning %v), want %+v (%v)", at, rates, rates.Burning(), w.rates, w.burning)
		}
		delete(checkpoints, at)
	}
	if len(checkpoints) > 0 {
		t.Fatalf("checkpoints never reached: %v", checkpoints)
	}

	// After the last round, the window slides on with no more rounds.
	l, err := availability.Decode(counts, window)
	if err != nil {
		t.Fatal(err)
	}
	a, err := availability.DecodeTarget(targetCounts["a"], window)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		after          time.Duration
		ratio, ratioA  string
		good, total    int64
		budgetFraction float64
	}{
		// 720h+13h after the first round, the HealthCheck's first 12h bucket
		// (1,440 checks, all good) has left the window, and Since with it; a's
		// first bucket, 24h wide, has not. 84840/84960; 43080/43200.
		{after: window + 13*time.Hour, ratio: "99.8587", ratioA: "99.7222", good: 84840, total: 84960, budgetFraction: 1 - 120/84.96},
		// 720h+25h after, the HealthCheck's second bucket and a's first day have
		// left too: 83400/83520; 41640/41760.
		{after: window + 25*time.Hour, ratio: "99.8563", ratioA: "99.7126", good: 83400, total: 83520, budgetFraction: 1 - 120/83.52},
	}
	for _, tc := range tests {
		now := base.Add(tc.after)
		f := l.Figures(now)
		if f.Ratio() != tc.ratio || f.Good != tc.good || f.Total != tc.total || f.Since != nil {
			t.Errorf("at %v: %s, %d/%d, since %v; want %s, %d/%d", tc.after, f.Ratio(), f.Good, f.Total, f.Since, tc.ratio, tc.good, tc.total)
		}
		if got := a.Figures(now).Ratio(); got != tc.ratioA {
			t.Errorf("at %v: a's ratio %s, want %s", tc.after, got, tc.ratioA)
		}
		if got := f.BudgetRemainingRatio(o); math.Abs(got-tc.budgetFraction) > 1e-12 {
			t.Errorf("at %v: budget left %v, want %v", tc.after, got, tc.budgetFraction)
		}
		if rates := l.BurnRates(now, o); rates != (availability.BurnRates{}) {
			t.Errorf("at %v: burn rates %+v, want none: no checks in the last 6h", tc.after, rates)
		}
	}
}
