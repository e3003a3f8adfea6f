package devenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// childProcesses lists the live child processes of ppid from /proc. Where there
// is no /proc (macOS), it finds none: leftovers are then not tracked.
func childProcesses(ppid int) []Process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		parent, err := parentPID(pid)
		if err != nil || parent != ppid {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue // exited meanwhile, or a zombie
		}
		out = append(out, Process{PID: pid, Exe: exe})
	}
	return out
}

// parentPID reads the parent's PID from /proc/<pid>/stat, whose second field (the
// command name, in parentheses) may itself hold spaces and parentheses.
func parentPID(pid int) (int, error) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	stat := string(raw)
	fields := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	if len(fields) < 2 {
		return 0, fmt.Errorf("parsing /proc/%d/stat: too few fields", pid)
	}
	return strconv.Atoi(fields[1]) // fields[0] is the state
}

// isRunning says whether p still runs the same binary, so a PID the kernel gave
// to another program since is never taken for p.
func isRunning(p Process) bool {
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.PID), "exe"))
	return err == nil && exe == p.Exe
}
