package devenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// TestChildProcessesOddCommandName runs sleep through a symlink whose name,
// the command name in /proc/<pid>/stat, holds spaces and parentheses: the child
// is still found, with the path of the binary itself.
func TestChildProcessesOddCommandName(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	g := NewWithT(t)
	sleepPath, err := exec.LookPath("sleep")
	g.Expect(err).NotTo(HaveOccurred())
	binary, err := filepath.EvalSymlinks(sleepPath)
	g.Expect(err).NotTo(HaveOccurred())
	link := filepath.Join(t.TempDir(), "a) b (c")
	g.Expect(os.Symlink(binary, link)).To(Succeed())

	sleep := exec.CommandContext(t.Context(), link, "60")
	sleep.Args[0] = "sleep" // multi-call binaries dispatch on it
	g.Expect(sleep.Start()).To(Succeed())
	defer func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
	}()

	g.Expect(childProcesses(os.Getpid())).To(ContainElement(Process{PID: sleep.Process.Pid, Exe: binary}))
	g.Expect(isRunning(Process{PID: sleep.Process.Pid, Exe: binary})).To(BeTrue())
}
