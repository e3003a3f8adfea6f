package checker

import (
	"sync/atomic"
	"time"
)

// defaultIdleWorkerTimeout is how long a checking goroutine waits for its
// next check before it ends.
const defaultIdleWorkerTimeout = 10 * time.Second

// workerPool runs checks on goroutines that outlive one check. A check's
// goroutine grows its stack through dialling and net/http, from the few KiB
// every goroutine starts with to tens of KiB, and each growth copies the
// stack: with a new goroutine per check, growing stacks was 8% of the
// manager's CPU at 500 checks a second. A goroutine that runs check after
// check keeps its grown stack until the garbage collector shrinks it.
//
// Written here because nothing in the ecosystem's well-kept libraries reuses
// goroutines (errgroup and x/sync/semaphore start one per task); the bound on
// concurrent checks stays with the callers' semaphores, so the pool only
// decides which goroutine runs a check, never whether or when.
//
// The pool has no goroutine of its own: an idle worker waits for the next
// check on an unbuffered channel, and ends after idleTimeout without one. So
// there are never more workers than checks that ran at once within the last
// idleTimeout, and a Checker that stops checking ends up with none.
type workerPool struct {
	tasks       chan func()
	idleTimeout time.Duration
	// started counts the goroutines the pool has started (for tests).
	started atomic.Int64
}

func newWorkerPool(idleTimeout time.Duration) *workerPool {
	return &workerPool{tasks: make(chan func()), idleTimeout: idleTimeout}
}

// run runs task on an idle worker, or on a new one if none is waiting. It
// never blocks.
func (p *workerPool) run(task func()) {
	select {
	case p.tasks <- task:
	default:
		p.started.Add(1)
		go p.work(task)
	}
}

// work runs task, then the tasks handed to it, until it has waited
// idleTimeout for one.
func (p *workerPool) work(task func()) {
	idle := time.NewTimer(p.idleTimeout)
	defer idle.Stop()
	for {
		task()
		task = nil // nothing the task holds outlives it
		idle.Reset(p.idleTimeout)
		select {
		case task = <-p.tasks:
		case <-idle.C:
			return
		}
	}
}
