package devenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Files and directories of the state directory.
const (
	// KubeconfigFile is the embedded control plane's kubeconfig, there while it runs.
	KubeconfigFile = "kubeconfig"
	// StateFile records the running embedded environment (State), there while it runs.
	StateFile   = "state.json"
	lockFile    = "lock"
	etcdDataDir = "etcd"
	certsDir    = "kube-apiserver"
	etcdLog     = "etcd.log"
	apiLog      = "kube-apiserver.log"
)

// State describes a running embedded environment: where it listens and which
// processes it started. A state file left behind names what a run that did not
// stop (say, killed with SIGKILL) may have left running.
type State struct {
	// PID is the process ID of the run.
	PID int `json:"pid"`
	// APIServer is the host:port of kube-apiserver.
	APIServer string `json:"apiServer"`
	// Etcd is the host:port of etcd's clients.
	Etcd string `json:"etcd"`
	// EtcdPeer is the host:port of etcd's peers.
	EtcdPeer string `json:"etcdPeer"`
	// Demo is the host:port of the demo targets.
	Demo string `json:"demo"`
	// Processes are the child processes: etcd and kube-apiserver.
	Processes []Process `json:"processes"`
}

// Listeners lists every address the environment listens on.
func (s State) Listeners() []string {
	return []string{s.APIServer, s.Etcd, s.EtcdPeer, s.Demo}
}

// Process is a child process of a run.
type Process struct {
	// PID is its process ID.
	PID int `json:"pid"`
	// Exe is the path of its binary, so a reused PID is never mistaken for it.
	Exe string `json:"exe"`
}

// ReadState reads the state file of dir.
func ReadState(dir string) (State, error) {
	var s State
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return s, fmt.Errorf("reading the state of %s: %w", dir, err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("parsing %s: %w", filepath.Join(dir, StateFile), err)
	}
	return s, nil
}

// stateDir is the locked state directory of one embedded run.
type stateDir struct {
	path string
	lock *os.File
}

// openStateDir creates and locks the state directory, so two runs never share
// (and wipe) one control plane's data. The lock goes when the process does.
func openStateDir(path string) (*stateDir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(path, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock of %s: %w", path, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another `make run` is using %s: stop it first (Ctrl-C in its terminal)", path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &stateDir{path: path, lock: lock}, nil
}

func (d *stateDir) join(name string) string { return filepath.Join(d.path, name) }

// reset stops what an earlier run that did not stop left running, then clears
// its files, so neither stale processes nor a stale etcd data directory get in
// the way. Logs are kept until replaced.
func (d *stateDir) reset(ctx context.Context) error {
	if old, err := ReadState(d.path); err == nil {
		stopLeftovers(ctx, old)
	}
	for _, name := range []string{KubeconfigFile, StateFile, etcdDataDir, certsDir} {
		if err := os.RemoveAll(d.join(name)); err != nil {
			return fmt.Errorf("clearing %s: %w", d.join(name), err)
		}
	}
	if err := os.MkdirAll(d.join(certsDir), 0o700); err != nil {
		return fmt.Errorf("creating the API server's certificate directory: %w", err)
	}
	return nil
}

// writeFile writes one file of the state directory, readable by the user only:
// the kubeconfig holds an admin's client key.
func (d *stateDir) writeFile(name string, data []byte) error {
	if err := os.WriteFile(d.join(name), data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", d.join(name), err)
	}
	return nil
}

// writeState records the running environment in the state file.
func (d *stateDir) writeState(s State) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the state: %w", err)
	}
	return d.writeFile(StateFile, append(raw, '\n'))
}

// close removes what only made sense while the run lasted (the kubeconfig of a
// stopped API server, the state, the control plane's data) and unlocks.
func (d *stateDir) close() error {
	var errs []error
	for _, name := range []string{KubeconfigFile, StateFile, etcdDataDir, certsDir} {
		if err := os.RemoveAll(d.join(name)); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", d.join(name), err))
		}
	}
	if err := d.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("unlocking %s: %w", d.path, err))
	}
	return errors.Join(errs...)
}

// stopLeftovers kills the processes an earlier run recorded and left running,
// say because it was killed with SIGKILL. No need to be gentle: their data is
// about to be wiped.
func stopLeftovers(ctx context.Context, old State) {
	log := ctrl.LoggerFrom(ctx)
	for _, p := range old.Processes {
		if !isRunning(p) {
			continue
		}
		log.Info("Killing a process an earlier run left running", "pid", p.PID, "exe", p.Exe)
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
		gone := func(context.Context) (bool, error) { return !isRunning(p), nil }
		_ = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 5*time.Second, true, gone)
	}
}
