package app

import (
	"testing"
	"time"
)

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
