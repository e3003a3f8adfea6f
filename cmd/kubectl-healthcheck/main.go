// Command kubectl-healthcheck is the kubectl plugin of the HealthCheck operator:
// on the PATH, `kubectl healthcheck run -f FILE` checks a manifest's targets from
// this machine and `kubectl healthcheck status NAME` reads them from a cluster.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/healthcheck-operator/healthcheck-operator/internal/plugin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	p := &plugin.Plugin{Streams: genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}}
	code := p.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
