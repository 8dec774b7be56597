package app

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/testsupport/testproc"
)

// fakeMainLoop stands in for Fyne's loop: one goroutine runs queued
// functions in order.
type fakeMainLoop struct {
	funcs chan func()
}

func newFakeMainLoop(t *testing.T) *fakeMainLoop {
	l := &fakeMainLoop{funcs: make(chan func(), 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for f := range l.funcs {
			f()
		}
	}()
	t.Cleanup(func() { close(l.funcs); testproc.Within(t, done, 5*time.Second, "the fake main loop ending") })
	return l
}

func (l *fakeMainLoop) queue(f func()) { l.funcs <- f }

func TestIdleLoopParksUntilWorkArrives(t *testing.T) {
	loop := newFakeMainLoop(t)
	var shown atomic.Bool
	idle := newIdleLoop(loop.queue, func() bool { return !shown.Load() }, time.Minute)
	go idle.run()
	t.Cleanup(idle.stop)

	// The first park holds the loop: nothing else runs while idle.
	time.Sleep(50 * time.Millisecond)
	blocked := make(chan struct{})
	loop.queue(func() { close(blocked) })
	select {
	case <-blocked:
		t.Fatal("the loop ran queued work while parked; it should sleep until woken")
	case <-time.After(100 * time.Millisecond):
	}

	// Work through do wakes it at once, and runs.
	ran := make(chan struct{})
	start := time.Now()
	idle.do(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(2 * time.Second):
		t.Fatal("do did not wake the parked loop")
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("do took %v to run; it should wake the loop at once", waited)
	}
	<-blocked // queued before the wake-up, so it ran first

	// With a window shown the loop is left to run freely.
	idle.do(func() { shown.Store(true) })
	time.Sleep(50 * time.Millisecond)
	free := make(chan struct{})
	loop.queue(func() { close(free) })
	select {
	case <-free:
	case <-time.After(500 * time.Millisecond):
		t.Fatal("the loop stayed parked while a window was shown")
	}
}

func TestIdleLoopWakesByItselfAndStops(t *testing.T) {
	loop := newFakeMainLoop(t)
	idle := newIdleLoop(loop.queue, func() bool { return true }, 30*time.Millisecond)
	go idle.run()

	// Work Fyne queues itself still runs, at most maxPark later.
	ran := make(chan struct{})
	loop.queue(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(time.Second):
		t.Fatal("work queued behind a park never ran")
	}

	// After stop, nothing parks the loop again.
	idle.stop()
	time.Sleep(50 * time.Millisecond)
	for i := range 3 {
		start := time.Now()
		done := make(chan struct{})
		loop.queue(func() { close(done) })
		testproc.Within(t, done, 5*time.Second, "a queued function running")
		if waited := time.Since(start); waited > 20*time.Millisecond {
			t.Fatalf("run %d waited %v after stop; the loop should be free", i, waited)
		}
	}
}

// A toolkit loop that never ends after Quit is given up on after the grace,
// and one that ends in time is not.
func TestQuitIsNotHeldByAStuckToolkit(t *testing.T) {
	quitting, ran := make(chan struct{}), make(chan struct{})
	gaveUp := make(chan struct{})
	go watchQuit(quitting, ran, 50*time.Millisecond, func() { close(gaveUp) })
	close(quitting) // ran is never closed: Fyne's Run hangs
	select {
	case <-gaveUp:
	case <-time.After(2 * time.Second):
		t.Fatal("a hung toolkit held the quit")
	}

	quitting, ran = make(chan struct{}), make(chan struct{})
	called := make(chan struct{}, 1)
	finished := make(chan struct{})
	go func() {
		watchQuit(quitting, ran, 50*time.Millisecond, func() { called <- struct{}{} })
		close(finished)
	}()
	close(quitting)
	close(ran)
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
		t.Fatal("watchQuit did not return once the loop ended")
	}
	if len(called) != 0 {
		t.Fatal("gave up on a loop that ended in time")
	}
}
