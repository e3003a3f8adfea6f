package delayserver

import (
	"context"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// itimerspec is struct itimerspec of timerfd_settime(2).
type itimerspec struct {
	interval syscall.Timespec
	value    syscall.Timespec
}

const clockMonotonic = 1

// sleepPrecise waits d on a timerfd, which the Go netpoller reports as soon as
// the kernel's high-resolution timer fires, or until ctx ends. It falls back
// to a time.Timer if timerfds are unavailable.
func sleepPrecise(ctx context.Context, d time.Duration) error {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return sleepTimer(ctx, d)
	}
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		_ = syscall.Close(int(fd))
		return sleepTimer(ctx, d)
	}
	// A non-blocking fd given to os.NewFile is registered with the netpoller,
	// so Read parks the goroutine instead of a thread.
	f := os.NewFile(fd, "timerfd")
	defer func() { _ = f.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	var expirations [8]byte
	_, err := f.Read(expirations[:])
	return err
}
