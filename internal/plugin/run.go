package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
	"github.com/healthcheck-operator/healthcheck-operator/internal/discover"
	"github.com/healthcheck-operator/healthcheck-operator/internal/resolve"
)

// stdinName names standard input in messages.
const stdinName = "<stdin>"

// sourceName names a file given on the command line in messages.
func sourceName(file string) string {
	if file == "-" {
		return stdinName
	}
	return file
}

// Limits of the flags of plain URL lists; they match the HealthCheck schema's.
const (
	maxWorkers     = 100
	defaultWorkers = 10
)

type runOptions struct {
	files         []string
	urls          []string
	urlsFile      string
	workers       int
	timeout       time.Duration
	slowThreshold time.Duration
	output        string
}

func (p *Plugin) runCommand() *cobra.Command {
	o := runOptions{}
	cmd := &cobra.Command{
		Use:   "run (-f FILE | --url URL... | --urls-file FILE)",
		Short: "Check the targets of HealthCheck manifests, or a list of URLs, once from this machine",
		Long: `Check every target once, from this machine, and print a report per HealthCheck.

With -f, every HealthCheck in the file (multi-document YAML; "-" reads standard
input) is first defaulted and validated exactly as the API server would: the
embedded CRD's OpenAPI schema, defaults and CEL rules run through the API
server's own code. One invalid HealthCheck stops the run before any check, with
an error per problem naming the file, the document, the object and the field.
Other kinds in the file are skipped. A target with a header from a Secret is
not checked (it is reported Pending), since run reads no cluster. For the same
reason, targetsFrom sources discover nothing, and a target whose fanOut mode is
Endpoints is checked once, at its URL, since the Service's EndpointSlices
cannot be read: stderr says so for each. A fanOut of mode Addresses checks
every address of the URL's host, as the operator does. Maintenance windows are
validated but not applied: run checks at once, whatever the time.

With --url and --urls-file (one URL a line; blank lines and # comments are
skipped), the URLs are checked with --workers, --timeout and --slow-threshold.
They must be URLs a HealthCheck accepts: http:// and https://, tcp://HOST:PORT
(a connection opens), tls://HOST:PORT (a TLS handshake succeeds), and
grpc://HOST:PORT[/SERVICE] or grpcs:// (the gRPC health service answers
SERVING).

The Status column shows the HTTP status code, or what a tcp, tls or gRPC check
saw (OPEN, TLS, SERVING, NOT_SERVING...), or 0 when nothing answered. With -o
json, a target that failed an assertion carries it under "assertion", and a
fanned-out target carries "backends" (its backends counted by state) and
"failingBackends" (every backend whose check failed).

Exit status: 0 when every target checked is Up or Slow, 1 when any is Down, 2
for bad input or usage.`,
		Example: `  # Check a HealthCheck manifest before merging it
  kubectl healthcheck run -f config/samples/monitoring_v1alpha1_healthcheck.yaml

  # Check what kustomize renders, as JSON lines
  kustomize build deploy/ | kubectl healthcheck run -f - -o json

  # Check a list of URLs with 20 workers
  kubectl healthcheck run --urls-file urls.txt --workers 20

  # Check two URLs, CSV for a spreadsheet
  kubectl healthcheck run --url https://example.com/ --url https://example.org/healthz -o csv

  # Check a database port and a gRPC service's health
  kubectl healthcheck run --url tcp://db.internal:5432 --url grpc://api.internal:9090/shop.Cart`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return p.run(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, `HealthCheck manifest file to check ("-" for standard input); repeatable`)
	f.StringArrayVar(&o.urls, "url", nil, "URL to check; repeatable")
	f.StringVar(&o.urlsFile, "urls-file", "", `file of URLs to check, one a line ("-" for standard input)`)
	f.IntVar(&o.workers, "workers", defaultWorkers, "checks of a URL list in flight at once (1 to 100)")
	f.DurationVar(&o.timeout, "timeout", checker.DefaultTimeout, "deadline of each request of a URL list")
	f.DurationVar(&o.slowThreshold, "slow-threshold", checker.DefaultSlowThreshold, "latency above which a good answer of a URL list is Slow")
	f.StringVarP(&o.output, "output", "o", "", "output format: json (one object a line) or csv; the table when unset")
	return cmd
}

// noArgs refuses positional arguments with a hint, since "run FILE" is a likely slip.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q: give files with -f", cmd.CommandPath(), args)
	}
	return nil
}

// validate checks the flags' combination before anything is read.
func (o runOptions) validate(cmd *cobra.Command) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	lists := len(o.urls) > 0 || o.urlsFile != ""
	switch {
	case len(o.files) == 0 && !lists:
		return usagef("nothing to check: give -f FILE, --url URL or --urls-file FILE")
	case len(o.files) > 0 && lists:
		return usagef("-f cannot be combined with --url or --urls-file")
	}
	if len(o.files) > 0 {
		for _, name := range []string{"workers", "timeout", "slow-threshold"} {
			if cmd.Flags().Changed(name) {
				return usagef("--%s applies to --url and --urls-file: a manifest sets spec.%s", name, specField(name))
			}
		}
	}
	stdin := 0
	if o.urlsFile == "-" {
		stdin++
	}
	for _, f := range o.files {
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usagef("standard input (-) can be read only once")
	}
	switch {
	case o.workers < 1 || o.workers > maxWorkers:
		return usagef("--workers must be between 1 and %d, got %d", maxWorkers, o.workers)
	case o.timeout <= 0:
		return usagef("--timeout must be greater than 0s, got %s", o.timeout)
	case o.slowThreshold <= 0:
		return usagef("--slow-threshold must be greater than 0s, got %s", o.slowThreshold)
	case o.slowThreshold >= o.timeout:
		return usagef("--slow-threshold (%s) must be below --timeout (%s)", o.slowThreshold, o.timeout)
	}
	return nil
}

func specField(flag string) string {
	if flag == "slow-threshold" {
		return "slowThreshold"
	}
	return flag
}

func (p *Plugin) run(cmd *cobra.Command, o runOptions) error {
	if err := o.validate(cmd); err != nil {
		return err
	}
	ctx := cmd.Context()
	var (
		batches []batch
		err     error
	)
	if len(o.files) > 0 {
		batches, err = p.manifestBatches(ctx, o.files)
	} else {
		batches, err = p.urlBatch(ctx, o)
	}
	if err != nil {
		return failed(err)
	}

	w := newDelayedWriter(p.Streams.Out)
	out := newReporter(o.output, w, false, p.Clock.Now())
	c := checker.New(checker.Options{Clock: p.Clock})
	down := false
	for _, b := range batches {
		s, err := p.check(ctx, c, b, out)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return failed(fmt.Errorf("writing the report: %w", err))
		}
		down = down || s.Down > 0
	}
	if err := ctx.Err(); err != nil {
		return failed(fmt.Errorf("interrupted: %w", err))
	}
	if down {
		return errDown
	}
	return nil
}

// batch is what one report covers: a HealthCheck, or a URL list.
type batch struct {
	healthCheck string
	targets     []resolve.Target
	workers     int
}

func (p *Plugin) manifestBatches(ctx context.Context, files []string) ([]batch, error) {
	var (
		batches  []batch
		problems []string
		notes    []string
	)
	for _, file := range files {
		manifests, err := p.loadFile(ctx, file)
		var invalid *InvalidManifestError
		if errors.As(err, &invalid) {
			problems = append(problems, invalid.Problems...)
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, m := range manifests {
			hc := m.HealthCheck
			b := batch{healthCheck: hc.Namespace + "/" + hc.Name, workers: int(hc.Spec.Workers)}
			if b.targets, err = targetsOf(hc); err != nil {
				// LoadManifests admitted it as the API server would, which the
				// operator's resolution can still refuse (see resolve.InvalidSpecError).
				problems = append(problems, fmt.Sprintf("%s: HealthCheck %s: %v", m.Source, b.healthCheck, err))
				continue
			}
			for i, src := range hc.Spec.TargetsFrom {
				field, _ := discover.Describe(src)
				notes = append(notes, fmt.Sprintf("note: %s: HealthCheck %s: targetsFrom[%d] (%s) is skipped: run reads no cluster, so it discovers nothing",
					m.Source, b.healthCheck, i, field))
			}
			for i := range b.targets {
				t := &b.targets[i]
				switch {
				case !t.Checkable():
					notes = append(notes, fmt.Sprintf("note: %s: HealthCheck %s: target %s is not checked: %s", m.Source, b.healthCheck, t.Name, t.SkipMessage))
				case t.FanOut != nil && t.FanOut.Mode == monitoringv1alpha1.FanOutEndpoints:
					// The operator lists the backends from the cluster
					// (EndpointSlices); without them the fan-out would fail
					// as NoBackends, which says nothing about the URL.
					t.FanOut = nil
					notes = append(notes, fmt.Sprintf("note: %s: HealthCheck %s: target %s: fanOut mode Endpoints reads the Service's EndpointSlices, which run cannot read: the URL is checked once",
						m.Source, b.healthCheck, t.Name))
				}
			}
			batches = append(batches, b)
		}
	}
	if len(problems) > 0 {
		return nil, &InvalidManifestError{Problems: problems}
	}
	for _, note := range notes {
		_, _ = fmt.Fprintln(p.Streams.ErrOut, note)
	}
	return batches, nil
}

func (p *Plugin) loadFile(ctx context.Context, file string) ([]Manifest, error) {
	if file == "-" {
		return LoadManifests(ctx, stdinName, p.Streams.In)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return LoadManifests(ctx, file, f)
}

func (p *Plugin) urlBatch(ctx context.Context, o runOptions) ([]batch, error) {
	var urls []listedURL
	for _, u := range o.urls {
		urls = append(urls, listedURL{url: u, file: "--url"})
	}
	if o.urlsFile != "" {
		listed, err := p.readURLFile(o.urlsFile)
		if err != nil {
			return nil, err
		}
		urls = append(urls, listed...)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("%s lists no URL", sourceName(o.urlsFile))
	}
	problems, err := urlProblems(ctx, urls)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &InvalidManifestError{Problems: problems}
	}
	targets, err := listTargets(urls, o.timeout, o.slowThreshold)
	if err != nil {
		return nil, err
	}
	return []batch{{targets: targets, workers: o.workers}}, nil
}

// listTargets resolves a URL list as the targets of a HealthCheck, so that a
// URL means to run what it means to the operator: each URL as resolve.Targets
// resolves a spec target, with resolve.One, straight into its place. A long
// list is resolved in parts, on every core; the error, if any, is the first
// in the list's order, as resolve.Targets would return.
func listTargets(urls []listedURL, timeout, slowThreshold time.Duration) ([]resolve.Target, error) {
	spec := monitoringv1alpha1.HealthCheckSpec{
		Timeout:       &metav1.Duration{Duration: timeout},
		SlowThreshold: &metav1.Duration{Duration: slowThreshold},
	}
	const part = 4096
	targets := make([]resolve.Target, len(urls))
	errs := make([]error, (len(urls)+part-1)/part)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range errs {
		g.Go(func() error {
			for k := i * part; k < min((i+1)*part, len(urls)); k++ {
				var err error
				if targets[k], err = resolve.One(spec, monitoringv1alpha1.Target{URL: urls[k].url}, noSecrets); err != nil {
					errs[i] = err
					return nil
				}
			}
			return nil
		})
	}
	_ = g.Wait() // errors are in errs
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return targets, nil
}

func (p *Plugin) readURLFile(file string) ([]listedURL, error) {
	if file == "-" {
		return readURLList(stdinName, p.Streams.In)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return readURLList(file, f)
}

// check runs one batch and reports each result as it completes.
func (p *Plugin) check(ctx context.Context, c *checker.Checker, b batch, out reporter) (summary, error) {
	s := summary{HealthCheck: b.healthCheck}
	urls := make([]string, len(b.targets))
	for i, t := range b.targets {
		urls[i] = t.URL
	}
	if err := out.begin(reportHeader{
		healthCheck: b.healthCheck,
		intro:       fmt.Sprintf("Checking %d URLs with %d workers...", len(b.targets), b.workers),
		statusWidth: statusWidth(urls),
	}); err != nil {
		return s, err
	}
	var writeErr error
	emit := func(r row) {
		s.Count(r.State)
		if err := out.add(r); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	for _, t := range b.targets {
		if !t.Checkable() {
			emit(row{HealthCheck: b.healthCheck, URL: checker.RedactURL(t.URL), Name: t.Name,
				State: monitoringv1alpha1.StatePending, Reason: string(t.Skip), Message: t.SkipMessage})
		}
	}
	start := p.Clock.Now()
	resolve.Runner{Run: c.Run, Clock: p.Clock}.Check(ctx, b.targets, b.workers, func(i int, res resolve.Result) {
		t := b.targets[i]
		emit(row{
			HealthCheck:     b.healthCheck,
			URL:             checker.RedactURL(t.URL),
			Name:            t.Name,
			StatusCode:      res.StatusCode,
			LatencyMs:       milliseconds(res.Latency),
			State:           stateOf(res.Result),
			Reason:          string(res.Reason),
			Message:         res.Message,
			Seen:            res.Seen,
			Assertion:       assertionOf(res.Assertion),
			Backends:        res.BackendCounts(),
			FailingBackends: failingBackendsOf(res.Backends),
		})
	})
	s.Duration = p.Clock.Since(start)
	if writeErr != nil {
		return s, writeErr
	}
	return s, out.end(s)
}

// assertionOf is a failed assertion as reports show it; nil for none.
func assertionOf(a *checker.FailedAssertion) *failedAssertion {
	if a == nil {
		return nil
	}
	return &failedAssertion{Index: a.Index, Expression: a.Expression, Message: a.Message}
}

// failingBackendsOf lists the backends whose check failed, in the order
// checked (by address). run lists every one: status names at most
// monitoringv1alpha1.MaxFailingBackends per target, to stay small.
func failingBackendsOf(backends []resolve.BackendResult) []failingBackend {
	var failing []failingBackend
	for _, b := range backends {
		if b.Healthy() {
			continue
		}
		failing = append(failing, failingBackend{
			Address:    b.Backend.Address.String(),
			Pod:        b.Backend.Pod,
			Zone:       b.Backend.Zone,
			Reason:     string(b.Result.Reason),
			StatusCode: b.Result.StatusCode,
			LatencyMs:  milliseconds(b.Result.Latency),
			Message:    b.Result.Message,
		})
	}
	return failing
}

// stateOf judges a single check: run has no history, so one failure is Down.
func stateOf(res checker.Result) monitoringv1alpha1.TargetState {
	switch {
	case !res.OK():
		return monitoringv1alpha1.StateDown
	case res.Slow:
		return monitoringv1alpha1.StateSlow
	}
	return monitoringv1alpha1.StateUp
}
