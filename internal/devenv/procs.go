package devenv

import "github.com/prometheus/procfs"

// childProcesses lists the live child processes of ppid from /proc. Where there
// is no /proc (macOS), it finds none: leftovers are then not tracked.
func childProcesses(ppid int) []Process {
	procs, err := procfs.AllProcs()
	if err != nil {
		return nil
	}
	var out []Process
	for _, p := range procs {
		stat, err := p.Stat()
		if err != nil || stat.PPID != ppid {
			continue // exited meanwhile, or another's child
		}
		if exe := executable(p); exe != "" {
			out = append(out, Process{PID: p.PID, Exe: exe})
		}
	}
	return out
}

// isRunning says whether p still runs the same binary, so a PID the kernel gave
// to another program since is never taken for p.
func isRunning(p Process) bool {
	proc, err := procfs.NewProc(p.PID)
	return err == nil && executable(proc) == p.Exe
}

// executable is the path of p's binary, or "" if p has exited or is a zombie
// (procfs reports a missing link as "" without an error).
func executable(p procfs.Proc) string {
	exe, err := p.Executable()
	if err != nil {
		return ""
	}
	return exe
}
