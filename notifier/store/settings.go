package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultInterval is how often an account is polled unless set otherwise.
const DefaultInterval = 15 * time.Second

// MinInterval keeps polling well inside Stripe's rate limits.
const MinInterval = 5 * time.Second

// Settings are the user's notification choices, shared by all accounts.
type Settings struct {
	Disabled    map[string]bool `json:"disabled,omitempty"`    // kinds switched off, by Kind.ID
	PausedUntil time.Time       `json:"paused_until,omitzero"` // no notifications before this
	QuietFrom   string          `json:"quiet_from,omitempty"`  // "22:00"; quiet hours are off when empty
	QuietTo     string          `json:"quiet_to,omitempty"`    // "07:00"
	// Minimum is the smallest amount worth a notification, in thousandths
	// of each currency's main unit (5500 is 5.50: $5.50, €5.50, ¥5.5, so
	// ¥6); 0 notifies all. Thousandths: no currency Stripe takes has
	// more than three decimals.
	Minimum int64 `json:"minimum,omitempty"`
	// MinAmount is the minimum as settings before 2026-11 kept it, in
	// whole main units; read once into Minimum.
	MinAmount   int64         `json:"min_amount,omitempty"`
	Interval    time.Duration `json:"interval,omitempty"`     // poll interval
	HideAmounts bool          `json:"hide_amounts,omitempty"` // for screen sharing
	SeenUntil   int64         `json:"seen_until,omitempty"`   // events created up to here were seen in Activity
	// NoDigest turns the morning summary off; DigestAt is when it comes,
	// "09:00" when empty.
	NoDigest bool   `json:"no_digest,omitempty"`
	DigestAt string `json:"digest_at,omitempty"`
	// Seen is up to when events were seen in Activity filtered to them,
	// where that is later than SeenUntil: by kind id, by "<account id>/"
	// for all of an account's, and by "<account id>/<kind id>".
	Seen map[string]int64 `json:"seen,omitempty"`
	// Sounds are the kinds whose notifications ring, by Kind.ID, where the
	// user changed Kind.Rings.
	Sounds map[string]bool `json:"sounds,omitempty"`
}

// Rings reports whether a kind's notifications ask for the bell.
func (s Settings) Rings(kind string, byDefault bool) bool {
	if on, ok := s.Sounds[kind]; ok {
		return on
	}
	return byDefault
}

// DefaultSettings are the settings of a new install: every type on.
func DefaultSettings() Settings {
	return Settings{Interval: DefaultInterval}
}

// DigestTime is when the morning summary comes on t's day, local time.
func (s Settings) DigestTime(t time.Time) time.Time {
	at := s.DigestAt
	if _, err := parseClock(at); err != nil {
		at = DefaultDigestAt
	}
	m, _ := parseClock(at)
	y, mo, d := t.Date()
	return time.Date(y, mo, d, m/60, m%60, 0, 0, t.Location())
}

// DefaultDigestAt is when the morning summary comes unless set otherwise.
const DefaultDigestAt = "09:00"

// SeenAt is up to when an account's events of a kind were seen in
// Activity ("" for what holds for every account).
func (s Settings) SeenAt(account, kind string) int64 {
	return max(s.SeenUntil, s.Seen[kind], s.Seen[account+"/"], s.Seen[account+"/"+kind])
}

// MarkSeen records that events were seen up to t: of the kinds named
// (every kind when none), in one account (every account when "").
func (s *Settings) MarkSeen(t int64, account string, kinds ...string) {
	if account == "" && len(kinds) == 0 {
		s.SeenUntil, s.Seen = max(s.SeenUntil, t), nil
		return
	}
	if s.Seen == nil {
		s.Seen = map[string]int64{}
	}
	if len(kinds) == 0 {
		kinds = []string{""}
	}
	for _, k := range kinds {
		if account != "" {
			k = account + "/" + k
		}
		s.Seen[k] = max(s.Seen[k], t)
	}
}

// Enabled reports whether a kind, by its id, is switched on.
func (s Settings) Enabled(kind string) bool { return kind != "" && !s.Disabled[kind] }

// legacyKinds are the kind ids of the Stripe event types that switches were
// keyed by before kinds had ids: part of that old format, so fixed.
var legacyKinds = map[string]string{
	"charge.succeeded": "sale", "charge.captured": "sale", "refund.created": "refund", "charge.refunded": "refund",
	"charge.refund.updated": "failed_refund", "refund.failed": "failed_refund", "charge.failed": "failed_payment",
	"charge.dispute.created": "dispute", "charge.dispute.closed": "dispute_closed",
	"radar.early_fraud_warning.created": "early_fraud_warning", "payout.paid": "payout", "payout.failed": "failed_payout",
	"customer.subscription.created": "new_subscription", "customer.subscription.updated": "subscription_change",
	"customer.subscription.deleted": "cancellation", "customer.subscription.trial_will_end": "trial_ending",
}

// upgrade reads settings written before kinds had IDs, when the switches
// were keyed by Stripe event type, and before the minimum took decimals.
func (s *Settings) upgrade() {
	if s.MinAmount > 0 && s.Minimum == 0 {
		s.Minimum = s.MinAmount * 1000
	}
	s.MinAmount = 0
	for key, off := range s.Disabled {
		if id, ok := legacyKinds[key]; ok {
			delete(s.Disabled, key)
			if off {
				s.Disabled[id] = true
			}
		}
	}
}

// PollInterval is the interval, clamped to sane bounds.
func (s Settings) PollInterval() time.Duration {
	switch {
	case s.Interval == 0:
		return DefaultInterval
	case s.Interval < MinInterval:
		return MinInterval
	}
	return s.Interval
}

// Quiet reports whether t falls in quiet hours (local time).
func (s Settings) Quiet(t time.Time) bool {
	from, err1 := parseClock(s.QuietFrom)
	to, err2 := parseClock(s.QuietTo)
	if err1 != nil || err2 != nil || from == to {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if from < to {
		return m >= from && m < to
	}
	return m >= from || m < to
}

// Paused reports whether notifications are paused at t.
func (s Settings) Paused(t time.Time) bool { return t.Before(s.PausedUntil) }

// ParseClock reads "HH:MM" into minutes after midnight.
func parseClock(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like 22:00", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ValidClock reports whether s is empty or a time like 22:00.
func ValidClock(s string) error {
	if s == "" {
		return nil
	}
	_, err := parseClock(s)
	return err
}

// ParseMinimum reads a minimum amount as a person types it ("5", "5.50",
// "5,5", "0.125") into thousandths of a main unit; "" is no minimum.
func ParseMinimum(text string) (int64, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, nil
	}
	if !strings.Contains(text, ".") && strings.Count(text, ",") == 1 {
		text = strings.Replace(text, ",", ".", 1) // a decimal comma
	}
	whole, frac, _ := strings.Cut(text, ".")
	bad := fmt.Errorf("%q is not an amount like 10 or 5.50", text)
	if whole == "" && frac == "" || len(frac) > 3 || len(whole) > 12 {
		return 0, bad
	}
	var n int64
	for _, c := range whole + (frac + "000")[:3] {
		if c < '0' || c > '9' {
			return 0, bad
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// FormatMinimum writes a minimum as ParseMinimum reads it: "5", "5.50", "0.125".
func FormatMinimum(milli int64) string {
	if milli <= 0 {
		return ""
	}
	whole, frac := milli/1000, milli%1000
	if frac == 0 {
		return fmt.Sprint(whole)
	}
	f := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	if len(f) < 2 {
		f += "0"
	}
	return fmt.Sprintf("%d.%s", whole, f)
}

func isReadOnlyFS(err error) bool {
	return slices.ContainsFunc(append([]error{syscall.EROFS, syscall.EACCES}, readOnlyErrnos...), func(t error) bool { return errors.Is(err, t) })
}

// isNoSpace tells a full disk. bbolt formats some errors with %s, so the
// text is read too.
func isNoSpace(err error) bool {
	return slices.ContainsFunc(append([]error{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG}, noSpaceErrnos...), func(t error) bool {
		return errors.Is(err, t) || strings.Contains(err.Error(), t.Error())
	})
}
