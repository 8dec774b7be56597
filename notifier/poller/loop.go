package poller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/safetext"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/store"
)

// errStopped means the account cannot be polled (its key was refused, or is
// missing); its loop waits for a re-check.
var errStopped = errors.New("polling stopped")

// errKeyRevoked is the errStopped of an account already marked as refused.
var errKeyRevoked = fmt.Errorf("%w: the key was refused; check it again in Preferences", errStopped)

// errGone means the account was removed.
var errGone = errors.New("account removed")

func (s *Service) watch(ctx context.Context, id string, kick chan struct{}) {
	// A loop that stops (a refused key, a key that cannot be read) is no
	// longer there to kick, and answers whoever still waits on it, in one
	// step: a CheckNow after it finds no loop instead of waiting for ever.
	// No CheckNow registers once the kick is gone, so the waiters taken
	// after are all there are.
	defer func() {
		s.mu.Lock()
		if s.kicks[id] == kick {
			delete(s.kicks, id)
		}
		s.mu.Unlock()
		for _, w := range s.takeWaiting(id) {
			w <- errStopped
		}
	}()
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = s.opts.InitialBackoff
	b.MaxInterval = s.opts.MaxBackoff
	b.MaxElapsedTime = 0
	b.RandomizationFactor = 0.5
	b.Reset()
	failing := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		err := s.pollFor(ctx, id)
		if ctx.Err() != nil {
			return
		}
		wait := s.interval(ctx)
		switch {
		case err == nil:
			b.Reset()
			if failing {
				s.log.Info("polling recovered", "account", id)
				s.setStatus(ctx, id, accounts.StatusOK)
			}
			failing = false
		case errors.Is(err, errGone):
			return
		case errors.Is(err, errStopped):
			if !errors.Is(err, errKeyRevoked) {
				s.log.Error("polling stopped for this account", "account", id, "err", err)
			}
			return
		case isKeyRefused(err):
			s.keyRefused(ctx, id, err)
			return
		default:
			wait = b.NextBackOff()
			if !failing {
				s.log.Warn("poll failed; backing off", "account", id, "err", err, "retry_in", wait.Round(time.Millisecond))
				if accounts.Retryable(err) {
					s.setStatus(ctx, id, accounts.StatusOffline)
				}
			} else {
				s.log.Debug("poll failed again", "account", id, "err", err, "retry_in", wait.Round(time.Millisecond))
			}
			failing = true
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-kick:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// takeWaiting takes the CheckNow callers waiting on id's loop.
func (s *Service) takeWaiting(id string) []chan error {
	s.mu.Lock()
	defer s.mu.Unlock()
	waiting := s.waiting[id]
	delete(s.waiting, id)
	return waiting
}

// isKeyRefused: the key can no longer read the account's events at all
// (only GET /v1/events is made before a poll succeeds, so a 403 there is a
// permission the key lost).
func isKeyRefused(err error) bool {
	return errors.Is(err, accounts.ErrKeyInvalid) || errors.Is(err, accounts.ErrKeyExpired) || errors.Is(err, accounts.ErrNoAccountAccess) ||
		errors.Is(err, accounts.ErrNoConnectPermissions) || errors.Is(err, accounts.ErrPermissionMissing)
}

func (s *Service) interval(ctx context.Context) time.Duration {
	if s.opts.Interval > 0 {
		return s.opts.Interval
	}
	set, err := s.store.Settings(ctx)
	if err != nil {
		return store.DefaultInterval
	}
	return set.PollInterval()
}

func (s *Service) setStatus(ctx context.Context, id string, st accounts.AccountStatus) {
	_, err := s.opts.Accounts.Update(ctx, id, func(a *accounts.Account) {
		if a.Status != accounts.StatusMissingPermissions || st != accounts.StatusOK {
			a.Status = st
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("saving account status", "account", id, "err", err)
	}
	s.changed(id)
}

// keyRefused stops an account whose key Stripe refused, or which lost the
// permission to read events, and tells the user once, in Stripe's words.
func (s *Service) keyRefused(ctx context.Context, id string, cause error) {
	var pe *accounts.PermissionError
	lost := errors.As(cause, &pe)
	a, err := s.opts.Accounts.Update(ctx, id, func(a *accounts.Account) {
		a.Status = accounts.StatusKeyRevoked
		if lost {
			a.Status = accounts.StatusPermissionLost
			if pe.Permission != "" && !slices.Contains(a.Missing, pe.Permission) {
				a.Missing = append(a.Missing, pe.Permission)
			}
		}
	})
	if err != nil {
		s.log.Warn("saving account status", "account", id, "err", err)
		return
	}
	s.log.Error("key refused; polling stopped for this account", "account", id, "key", a.KeyMasked, "err", cause)
	s.changed(id)
	name := notifier.AccountName(safetext.Clean(a.Name))
	n := desktop.Notification{
		Title:   "Stripe key stopped working — " + name,
		Body:    fmt.Sprintf("Stripe refused the key %s. Open Cashbell's Preferences to check it again or add a new key.", a.KeyMasked),
		Icon:    s.opts.AlertIcon,
		Account: id,
		Urgent:  true,
	}
	switch {
	case lost && pe.Permission != "":
		n.Title = "Stripe stopped showing events to Cashbell — " + name
		n.Body = fmt.Sprintf("The key %s lost a permission: Stripe now asks for %s. Add it to the key in the Stripe Dashboard, then check the key again in Cashbell's Preferences.", a.KeyMasked, pe.Permission)
	case lost:
		n.Title = "Stripe stopped showing events to Cashbell — " + name
		n.Body = fmt.Sprintf("Stripe refused to show events to the key %s. Check the key's permissions in the Stripe Dashboard, then check it again in Cashbell's Preferences.", a.KeyMasked)
	}
	_, err = s.opts.Sink.Notify(ctx, n)
	s.shown(err)
}

func (s *Service) changed(string) {
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

func (s *Service) account(ctx context.Context, id string) (accounts.Account, error) {
	list, err := s.opts.Accounts.List(ctx)
	if err != nil {
		return accounts.Account{}, err
	}
	for _, a := range list {
		if a.ID == id {
			return a, nil
		}
	}
	return accounts.Account{}, errGone
}
