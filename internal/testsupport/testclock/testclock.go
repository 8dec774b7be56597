// Package testclock is a clock that tests move by hand, so that behaviour
// that depends on time (an event that Stripe shows late, a window that
// closes) is tested without sleeping.
package testclock

import (
	"sync"
	"time"
)

// Clock starts at a given time and moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock that reads at.
func New(at time.Time) *Clock { return &Clock{now: at} }

// Now is the clock's time; pass it where a func() time.Time is taken.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
