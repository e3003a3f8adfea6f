package controllers

import (
	"fmt"
	"testing"
)

func TestEveryHealthCheckBelongsToExactlyOneShard(t *testing.T) {
	shards := []Shard{{Index: 0, Total: 3}, {Index: 1, Total: 3}, {Index: 2, Total: 3}}
	counts := make([]int, len(shards))
	for i := range 3000 {
		name := fmt.Sprintf("hc-%d", i)
		owners := 0
		for j, s := range shards {
			if s.Owns("team", name) {
				owners++
				counts[j]++
			}
		}
		if owners != 1 {
			t.Fatalf("%s has %d owners", name, owners)
		}
	}
	for j, n := range counts {
		if n < 800 || n > 1200 {
			t.Fatalf("shard %d owns %d of 3000: %v", j, n, counts)
		}
	}
	if !(Shard{}).Owns("any", "thing") {
		t.Fatal("an unsharded operator must own everything")
	}
}

func TestShardValidationAndOrdinals(t *testing.T) {
	for _, s := range []Shard{{Index: 2, Total: 2}, {Index: -1, Total: 2}, {Total: -1}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := (Shard{Index: 1, Total: 2}).Validate(); err != nil {
		t.Error(err)
	}
	if n, err := OrdinalFromHostname("healthcheck-operator-12"); err != nil || n != 12 {
		t.Errorf("got %d, %v", n, err)
	}
	if _, err := OrdinalFromHostname("laptop"); err == nil {
		t.Error("a host name without an ordinal was accepted")
	}
}
