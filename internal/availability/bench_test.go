package availability_test

import (
	"testing"
	"time"

	"github.com/healthcheck-operator/healthcheck-operator/internal/availability"
)

// full is a HealthCheck ledger with every bucket of a 720h window in use.
func full() *availability.Ledger {
	l := availability.NewLedger(720 * time.Hour)
	for at := base; at.Before(base.Add(750 * time.Hour)); at = at.Add(5 * time.Minute) {
		l.Add(at, 14_999, 15_000)
	}
	return l
}

func BenchmarkAdd(b *testing.B) {
	l := availability.NewLedger(720 * time.Hour)
	at := base
	for b.Loop() {
		l.Add(at, 499, 500)
		at = at.Add(time.Second)
	}
}

func BenchmarkEncode(b *testing.B) {
	l := full()
	for b.Loop() {
		_ = l.Encode()
	}
}

func BenchmarkDecode(b *testing.B) {
	s := full().Encode()
	for b.Loop() {
		if _, err := availability.Decode(s, 720*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddTarget is a reconciler's work for one target in one round.
func BenchmarkAddTarget(b *testing.B) {
	l := full()
	target := availability.NewTargetLedger(l.Window())
	at := base
	for b.Loop() {
		at = at.Add(time.Second)
		l.AddTarget(target, at, 1, 1)
		_ = target.Encode() // status carries the counts every round
	}
}
