package plugin

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// flushDelay is how long a row of run's report may wait in the buffer: too
// short for a reader to notice, long enough that thousands of rows a second
// cost a write system call each few milliseconds instead of one each.
const flushDelay = 10 * time.Millisecond

// delayedWriter buffers writes to w and writes them out at most flushDelay
// after the first byte that is not written yet, so rows still appear as checks
// complete. Flush writes out the rest. Safe for concurrent use.
type delayedWriter struct {
	mu      sync.Mutex
	buf     *bufio.Writer
	pending *time.Timer // the flush to come, nil when the buffer is out
	// err is the first error of w, returned by every later Write and Flush.
	err error
}

func newDelayedWriter(w io.Writer) *delayedWriter {
	return &delayedWriter{buf: bufio.NewWriterSize(w, 64<<10)}
}

func (d *delayedWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.buf.Write(p)
	if err != nil {
		d.err = err
		return n, err
	}
	if d.pending == nil && d.buf.Buffered() > 0 {
		d.pending = time.AfterFunc(flushDelay, d.flushPending)
	}
	return n, nil
}

// flushPending is the delayed flush.
func (d *delayedWriter) flushPending() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending = nil
	d.flushLocked()
}

// Flush writes out what is buffered and returns the first error of w.
func (d *delayedWriter) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending != nil {
		d.pending.Stop()
		d.pending = nil
	}
	d.flushLocked()
	return d.err
}

func (d *delayedWriter) flushLocked() {
	if d.err == nil {
		d.err = d.buf.Flush()
	}
}
