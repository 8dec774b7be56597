package poller

import (
	"context"
	"time"

	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/desktop"
)

// digestCheck is how often the morning summary's loop looks again at most:
// a changed time or a pause that ends is seen within it.
const digestCheck = 15 * time.Minute

// Digest sends the morning summary of yesterday, once a day: when its time
// (Settings.DigestTime) has come, notifications are not held back, and it
// was not sent yet today, which the store records before it is shown, so
// that no start sends it twice. Missed while Cashbell was off, it comes at
// the next start on the same day; on a new store's first day it does not
// come. It reports whether it sent it.
func (s *Service) Digest(ctx context.Context) (bool, error) {
	set, err := s.store.Settings(ctx)
	if err != nil {
		return false, err
	}
	now := s.now().Local()
	if set.NoDigest || now.Before(set.DigestTime(now)) || heldBack(set, now) != "" {
		return false, nil
	}
	day := now.Format(time.DateOnly)
	last, err := s.store.LastDigest(ctx)
	switch {
	case err != nil || last >= day:
		return false, err
	case last == "":
		// The first day: what came before is the first import, nothing a
		// person missed. The first summary is tomorrow's.
		return false, s.store.MarkDigest(ctx, day)
	}
	if list, err := s.opts.Accounts.List(ctx); err != nil || len(list) == 0 {
		return false, err
	}
	facts, err := notifier.History{Store: s.store}.DayFacts(ctx, now.AddDate(0, 0, -1))
	if err != nil {
		return false, err
	}
	t := notifier.Digest(facts, notifier.TextOptions{Money: s.opts.Money, HideAmounts: set.HideAmounts})
	if err := s.store.MarkDigest(ctx, day); err != nil {
		return false, err
	}
	_, err = s.opts.Sink.Notify(ctx, desktop.Notification{Title: t.Title, Body: t.Body, Icon: s.opts.Icon, Burst: true})
	s.shown(err)
	return true, nil
}

// digestLoop sends the morning summary when its time comes, looking again
// at that time or within digestCheck, whichever is sooner.
func (s *Service) digestLoop(ctx context.Context) {
	for {
		if _, err := s.Digest(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("morning summary not sent", "err", err)
		}
		wait := digestCheck
		if set, err := s.store.Settings(ctx); err == nil {
			now := s.now().Local()
			next := set.DigestTime(now)
			if !next.After(now) {
				next = set.DigestTime(now.AddDate(0, 0, 1))
			}
			wait = min(wait, next.Sub(now)+time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
