// Package plugin is the kubectl-healthcheck command line: `run` checks the
// targets of HealthCheck manifests, or plain URL lists, once and locally, and
// `status` prints the targets of HealthChecks in a cluster. Both print the seed
// script's report, or JSON lines, or CSV.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/clock"
)

// Exit statuses, so that a CI step can tell a Down target from a broken input.
const (
	// ExitOK means no target is Down: every target checked is Up or Slow.
	ExitOK = 0
	// ExitDown means at least one target is Down.
	ExitDown = 1
	// ExitError means bad input, bad usage, or a failure to reach the cluster.
	ExitError = 2
)

// Plugin is the command line with its inputs and outputs.
type Plugin struct {
	// Streams are standard input, output and error.
	Streams genericiooptions.IOStreams
	// Clock times runs and ages status times; nil means the real clock.
	Clock clock.PassiveClock
}

// exitError ends a command with an exit status; a nil err prints nothing.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// errDown ends a command whose report shows a Down target.
var errDown = &exitError{code: ExitDown}

// usagef is an error of usage: Run follows it with a pointer to --help.
func usagef(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Run executes the command line args (without the program name) and returns the
// exit status. Errors are printed on the error stream.
func (p *Plugin) Run(ctx context.Context, args []string) int {
	if p.Clock == nil {
		p.Clock = clock.RealClock{}
	}
	root := p.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var exit *exitError
	if errors.As(err, &exit) {
		if exit.err != nil {
			printError(p.Streams, exit.err)
		}
		return exit.code
	}
	// Anything else is bad usage, from cobra or from a command's own checks.
	printError(p.Streams, err)
	_, _ = fmt.Fprintf(p.Streams.ErrOut, "See '%s --help' for usage.\n", cmd.CommandPath())
	return ExitError
}

// failed ends a command with ExitError for a reason other than usage.
func failed(err error) error { return &exitError{code: ExitError, err: err} }

// printError writes each line of err as its own "error: " line, so that every
// problem of a manifest stands alone in a CI log.
func printError(streams genericiooptions.IOStreams, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		_, _ = fmt.Fprintf(streams.ErrOut, "error: %s\n", line)
	}
}

func (p *Plugin) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-healthcheck",
		Short: "Check HealthCheck targets locally, or read their status from a cluster",
		Long: `kubectl healthcheck checks the URLs of HealthCheck manifests once, on this
machine, with the defaults and validation the API server applies; or it prints
the targets of HealthChecks in a cluster.

Exit status: 0 when no target is Down, 1 when one is, 2 for bad input or usage.`,
		Annotations:       map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl healthcheck"},
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(p.Streams.In)
	root.SetOut(p.Streams.Out)
	root.SetErr(p.Streams.ErrOut)
	root.AddCommand(p.runCommand(), p.statusCommand(), p.triggerCommand())
	return root
}
