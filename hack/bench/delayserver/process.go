package delayserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// processEnv carries a child's Options, as JSON, from StartProcess to ServeProcess.
const processEnv = "DELAYSERVER_OPTIONS"

// Process is a server running in a child process, so that its goroutines never
// queue behind those of the process that measures it.
type Process struct {
	// URL is the server's base URL.
	URL string

	cmd   *exec.Cmd
	stdin io.Closer
	done  chan error
}

// StartProcess runs the current executable again with args, as a server
// configured by opts: args must make it call ServeProcess (for a test binary,
// "-test.run=^TestName$" selecting a test that does). Ending ctx kills the
// child; Close stops it cleanly.
func StartProcess(ctx context.Context, opts Options, args ...string) (*Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	encoded, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), processEnv+"="+string(encoded))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the server process did not report its URL (got %q): %v", line, err)
	}
	p.URL = strings.TrimSpace(line)
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- cmd.Wait()
	}()
	return p, nil
}

// Stats fetches the child's figures.
func (p *Process) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	body, err := get(ctx, p.URL+StatsPath)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(body, &st)
}

// ResetStats zeroes the child's figures.
func (p *Process) ResetStats(ctx context.Context) error {
	_, err := get(ctx, p.URL+ResetPath)
	return err
}

// Close stops the child (closing its standard input tells it to) and waits
// for it to exit.
func (p *Process) Close() error {
	_ = p.stdin.Close()
	select {
	case err := <-p.done:
		return err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.Join(errors.New("the server process did not exit; killed"), <-p.done)
	}
}

// IsProcess reports whether this process was started by StartProcess.
func IsProcess() bool { return os.Getenv(processEnv) != "" }

// ServeProcess is the child's side of StartProcess: it serves with the
// parent's Options, prints the URL as the first line of standard output, and
// returns when standard input closes.
func ServeProcess() error {
	var opts Options
	if err := json.Unmarshal([]byte(os.Getenv(processEnv)), &opts); err != nil {
		return fmt.Errorf("reading %s: %w", processEnv, err)
	}
	srv, err := Start(opts)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
