package app

import (
	"sync"
	"time"
)

// idleLoop lets Fyne's main loop sleep while no window is on screen.
//
// Fyne 2.7.1 wakes its main loop 60 times a second whether or not a window
// is shown (fyne-io/fyne#2506). Cashbell spends nearly all day as a tray icon
// with no window, and those wake-ups were most of its idle CPU time. A
// function queued with fyne.Do runs on that loop, so while park blocks, the
// loop sleeps. Work queued through do wakes it at once; work Fyne queues by
// itself (a theme change, its own SIGTERM handler) waits at most maxPark.
type idleLoop struct {
	queue   func(func()) // fyne.Do
	idle    func() bool  // no window is shown; called on Fyne's thread
	maxPark time.Duration

	wake     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

func newIdleLoop(queue func(func()), idle func() bool, maxPark time.Duration) *idleLoop {
	return &idleLoop{
		queue: queue, idle: idle, maxPark: maxPark,
		wake: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
}

// do queues f on Fyne's thread and wakes the loop to run it.
func (l *idleLoop) do(f func()) {
	l.queue(f)
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// stop releases the loop for good: Quit must not wait behind a park.
func (l *idleLoop) stop() {
	l.stopOnce.Do(func() { close(l.stopped) })
}

// run keeps a park queued on Fyne's loop until stop. While a window is shown
// it only looks again once a second.
func (l *idleLoop) run() {
	parked := make(chan bool, 1)
	for {
		l.queue(func() { parked <- l.park() })
		var slept bool
		select {
		case slept = <-parked:
		case <-l.stopped:
			return
		}
		if !slept {
			select {
			case <-time.After(time.Second):
			case <-l.stopped:
				return
			}
		}
	}
}

// park blocks Fyne's thread until woken, stopped or maxPark has passed. It
// reports false without blocking when a window is shown: windows need the
// loop's ticks for input and drawing.
func (l *idleLoop) park() bool {
	if !l.idle() {
		return false
	}
	t := time.NewTimer(l.maxPark)
	defer t.Stop()
	select {
	case <-l.wake:
	case <-l.stopped:
	case <-t.C:
	}
	return true
}
