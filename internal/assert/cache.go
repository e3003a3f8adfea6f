package assert

import (
	"crypto/sha256"
	"strconv"

	"k8s.io/utils/lru"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
)

// cacheSize bounds the compiled programs kept. Each target with assertions
// holds one entry, so 1024 covers a large cluster's worth of HealthChecks;
// past it the least recently resolved targets are compiled again.
const cacheSize = 1024

// compiled caches Compile's answers, errors included, by content.
var compiled = lru.New(cacheSize)

// compileResult is one cached answer of Compile.
type compileResult struct {
	program *Program
	err     error
}

// cacheKey digests the ordered expressions and messages, each prefixed with its
// length so that no two lists share an encoding. A digest keeps the cache's
// keys small, whatever the size of the assertions.
func cacheKey(assertions []monitoringv1alpha1.Assertion) [sha256.Size]byte {
	h := sha256.New()
	for _, a := range assertions {
		for _, s := range []string{a.Expression, a.Message} {
			h.Write(strconv.AppendInt(nil, int64(len(s)), 10))
			h.Write([]byte{':'})
			h.Write([]byte(s))
		}
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
