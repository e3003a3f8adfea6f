package maintenance

// The operator's image is distroless, without /usr/share/zoneinfo, and the
// plugin runs wherever kubectl does (Windows has no zoneinfo either): without
// the embedded database every timeZone but UTC would be an "unknown time zone".
// time.LoadLocation still prefers the system's database when there is one.
import _ "time/tzdata"
