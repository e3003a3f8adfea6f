package maintenance_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/maintenance"
)

// FuzzParse feeds Parse any schedule and zone (robfig's parser panics on some
// input, such as "TZ=UTC" with nothing after it) and checks what At says of the
// windows it accepts: an end after now, and a window open at the next start.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct {
		schedule, zone string
		minutes        int64
		unix           int64
	}{
		{"0 2 * * *", "Europe/Berlin", 120, 1774746000},
		{"*/7 1-3 * * SUN", "America/New_York", 45, 1793340000},
		{"TZ=UTC", "", 60, 0},
		{"CRON_TZ=Europe/Berlin 0 2 * * *", "", 60, 0},
		{"@every 1h", "UTC", 60, 0},
		{"0 0 30 2 *", "UTC", 60, 0},
		{"59 23 31 12 6", "Pacific/Kiritimati", 10080, 1798761600},
		{"* * * * *", "Local", 1, 0},
	} {
		f.Add(seed.schedule, seed.zone, seed.minutes, seed.unix)
	}
	f.Fuzz(func(t *testing.T, schedule, zone string, minutes, unix int64) {
		d := time.Duration(minutes%(168*60+2)) * time.Minute
		s, err := maintenance.Parse([]monitoringv1alpha1.MaintenanceWindow{
			{Schedule: schedule, Duration: metav1.Duration{Duration: d}, TimeZone: zone},
		})
		if err != nil {
			if s != nil {
				t.Fatalf("a schedule with the error %v", err)
			}
			return
		}
		// Within a century of 2000, where robfig's five-year search holds.
		now := time.Unix(946684800+unix%(100*365*24*3600), 0).UTC()
		active, end, next := s.At(now)
		switch {
		case active && (!end.After(now) || !next.Equal(end)):
			t.Fatalf("At(%s) = open until %s, next %s", now, end, next)
		case !active && !end.IsZero():
			t.Fatalf("At(%s) = closed with an end %s", now, end)
		case !active && !next.IsZero() && !next.After(now):
			t.Fatalf("At(%s) = closed, next %s", now, next)
		case !active && !next.IsZero():
			if open, _, _ := s.At(next); !open {
				t.Fatalf("At(%s) = closed, next %s, which is closed too", now, next)
			}
		}
	})
}
