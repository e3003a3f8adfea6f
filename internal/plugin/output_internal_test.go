package plugin

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

// signallingWriter records what is written to it and says when it was.
type signallingWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
	written chan struct{}
	err     error
}

func (s *signallingWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	s.writes++
	select {
	case s.written <- struct{}{}:
	default:
	}
	return s.buf.Write(p)
}

func (s *signallingWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestDelayedWriterWritesRowsOutWithoutAFlush: a row reaches the output on
// its own, shortly, so that a report still streams as checks complete.
func TestDelayedWriterWritesRowsOutWithoutAFlush(t *testing.T) {
	out := &signallingWriter{written: make(chan struct{}, 1)}
	w := newDelayedWriter(out)
	if _, err := w.Write([]byte("row 1\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-out.written:
	case <-time.After(10 * time.Second): // a failsafe, far beyond flushDelay
		t.Fatal("the row was never written out")
	}
	if got := out.String(); got != "row 1\n" {
		t.Errorf("written %q, want %q", got, "row 1\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestDelayedWriterBatchesRows: rows written together reach the output in
// one write, and Flush writes out the rest at once.
func TestDelayedWriterBatchesRows(t *testing.T) {
	out := &signallingWriter{written: make(chan struct{}, 1)}
	w := newDelayedWriter(out)
	var g sync.WaitGroup
	for i := range 4 {
		g.Go(func() {
			for range 250 {
				if _, err := w.Write([]byte{'a' + byte(i), '\n'}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	g.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); len(got) != 2000 {
		t.Fatalf("written %d bytes, want 2000", len(got))
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	if out.writes >= 1000 {
		t.Errorf("%d writes for 1000 rows: not buffered", out.writes)
	}
}

// TestDelayedWriterKeepsTheFirstError: once the output fails, every later
// Write and Flush says so, as an unbuffered report would.
func TestDelayedWriterKeepsTheFirstError(t *testing.T) {
	broken := errors.New("broken pipe")
	out := &signallingWriter{written: make(chan struct{}, 1), err: broken}
	w := newDelayedWriter(out)
	if _, err := w.Write([]byte("row\n")); err != nil {
		t.Fatalf("the first write failed before reaching the output: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, broken) {
		t.Fatalf("Flush = %v, want %v", err, broken)
	}
	if _, err := w.Write([]byte("row\n")); !errors.Is(err, broken) {
		t.Errorf("Write after the failure = %v, want %v", err, broken)
	}
}
