//go:build !linux

package delayserver

import (
	"context"
	"time"
)

// sleepPrecise is time.Timer where there are no timerfds.
func sleepPrecise(ctx context.Context, d time.Duration) error { return sleepTimer(ctx, d) }
