// Package availability counts good and counted checks over a sliding window and
// turns the counts into the figures of status.availability: the ratio, the
// error budget left and the burn rates of the Google SRE workbook's multiwindow
// alerts. It is pure: no Kubernetes client and no clock of its own. The
// reconciler passes the time of each round, decides which checks count (the
// accounting is the caller's), and keeps the encoded counts in status, so that
// they survive restarts and leader changes.
//
// # How the window is bucketed
//
// Checks are counted in buckets aligned to the Unix epoch, so a bucket's span
// does not depend on when counting started. For a window W (1h to 2160h,
// default 720h) the HealthCheck counts its checks in buckets W/60 wide, rounded
// up to whole seconds and at least a minute (12h for 720h), and each target in
// buckets W/30 wide (24h for 720h). The figures at an instant sum the buckets
// that overlap the window ending at that instant. They therefore cover between
// W and W + W/60 of checks for the HealthCheck, and between W and W + W/30 for a
// target: with the default window, 30 days and up to 12 more hours (24 for a
// target). Within those buckets the counts are exact.
//
// # How exact the figures are
//
// The ratio is good checks over counted checks as a percentage, rounded down
// (never up) to 4 decimals, so 99.99996% reads "99.9999", never "100". The
// error budget remaining for an objective o is 1 - (bad/counted)/(1 - o), as a
// percentage rounded down to 4 decimals, negative once overspent. The objective
// is parsed exactly, as thousandths of a percent.
//
// # Burn rates
//
// The HealthCheck also counts its checks in 5-minute buckets over the last 6
// hours. The burn rate over a window d (5m, 30m, 1h, 6h) is (bad/counted)/(1 - o)
// over the 5-minute buckets that overlap the d ending now: between d and d + 5m
// of checks, so the 5m rate covers the current bucket and the one before it.
// A window without checks burns at 0. The budget is burning, as the SRE
// workbook has it, when the 1h and 5m rates are both above 14.4, or the 6h and
// 30m rates both above 6.
//
// # Since, clock skew and window changes
//
// Since is when the first counted check was; it is kept with the counts and
// shown only while it is within the window, when the figures cover only the
// time since. A round dated before the newest bucket (a new leader whose clock
// is behind) is counted in its own bucket while that bucket is still within
// the window, and dropped otherwise. Changing spec.objective.window starts the
// HealthCheck's and the targets' counts afresh, and Since with them, because
// buckets of one width cannot be cut into buckets of another without guessing;
// the burn rates, whose buckets do not depend on the window, carry on.
//
// # Size
//
// The encoded counts are base64 of unsigned varints. A bucket holds at most
// MaxBucketChecks checks, so the HealthCheck's encoding can never exceed 1,824
// characters (status.availability.counts allows 4,096), nor a target's 440
// (status.targets[].availabilityCounts allows 512), whatever the counts. At the
// API's worst case, a 2160h window, a 1s interval and 500 targets, they take
// 1,267 and 271; TestEncodedSizeWorstCase and TestEncodedSizeBound measure
// both.
package availability
