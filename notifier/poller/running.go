package poller

import (
	"time"

	"github.com/cashbell/cashbell/notifier"
)

// A burst is an account's good news, or one kind of its bad news, told as
// one notification that updates itself (the notification service's
// replaces_id) while more keeps coming, instead of a stack of popups: a
// card-testing attack is one red notification that counts, not sixty. It goes on while happenings come within
// BurstWindow of each other, for at most BurstLength, so that its count
// never reads like a day's total.
const (
	BurstWindow = 2 * time.Minute
	BurstLength = 15 * time.Minute
)

// burst is an account's running notification: its tally, and the id the
// notification service gave it.
type burst struct {
	notifier.Tally
	id            uint32 // 0 until shown
	started, last time.Time
}

// burstFor returns the account's burst if it goes on at now, else a new one.
func (s *Service) burstFor(account string, now time.Time) *burst {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bursts[account]
	if b == nil || b.id == 0 || now.Sub(b.last) > BurstWindow || now.Sub(b.started) > BurstLength {
		b = &burst{started: now, last: now}
		s.bursts[account] = b
	}
	b.last = now
	return b
}

// burstShown records the id the notification service gave the burst.
func (s *Service) burstShown(account string, id uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bursts[account]; b != nil {
		b.id = id
	}
}
