package notifier

import (
	"fmt"
	"strings"
	"time"

	"github.com/cashbell/cashbell/internal/safetext"
)

// A burst is an account's good news told as one notification that updates
// itself (the notification service's replaces_id) while more keeps coming,
// instead of a stack of popups. It goes on while happenings come within
// BurstWindow of each other, for at most BurstLength, so that its count
// never reads like a day's total.
const (
	BurstWindow = 2 * time.Minute
	BurstLength = 15 * time.Minute
)

// MaxBadNews is how many pieces of bad news one poll of one account tells on
// their own; the rest are counted in one more notification.
const MaxBadNews = 5

type burst struct {
	id            uint32 // the notification service's id; 0 until shown
	started, last time.Time
	n             int
	counts        map[*Kind]int
	totals        map[*Kind]Totals
	newest        Happening
}

func newBurst(now time.Time) *burst {
	return &burst{started: now, last: now, counts: map[*Kind]int{}, totals: map[*Kind]Totals{}}
}

func (b *burst) add(h Happening) {
	b.n++
	b.counts[h.Kind]++
	if h.Kind != nil && h.Kind.Money && h.HasAmount() {
		if b.totals[h.Kind] == nil {
			b.totals[h.Kind] = Totals{}
		}
		b.totals[h.Kind].Add(h.Amount, h.Currency)
	}
	b.newest = h
}

// text is "3 sales · $147.00 — Acme" with the newest in the body; for
// several kinds, "5 events — Acme" with each kind's count and total first.
func (b *burst) text(account string, opt TextOptions) Text {
	if opt.Money == nil {
		opt.Money = NewMoney("en-US")
	}
	var parts, titles []string
	for _, k := range append(Kinds, nil) {
		n := b.counts[k]
		if n == 0 {
			continue
		}
		noun := "other event"
		switch {
		case k != nil && n == 1:
			noun = k.One
		case k != nil:
			noun = k.Many
		case n != 1:
			noun += "s"
		}
		label, total := fmt.Sprintf("%d %s", n, noun), ""
		if t := b.totals[k]; len(t) > 0 && !opt.HideAmounts {
			total = t.Format(opt.Money)
		}
		titles = append(titles, joinNonEmpty(" · ", label, total))
		parts = append(parts, joinNonEmpty(" ", label, total))
	}
	latest := "Latest: " + joinNonEmpty(" · ", b.newest.Headline(opt), b.newest.Body(opt))
	title, body := titles[0], latest
	if len(parts) > 1 {
		title = fmt.Sprintf("%d events", b.n)
		body = strings.Join(parts, " · ") + "\n" + latest
	}
	return Text{Title: title + " — " + accountName(safetext.Clean(account)), Body: body}
}

// Burst is the text of one notification for several happenings of an
// account, oldest first, as a burst shows them.
func Burst(account string, hs []Happening, opt TextOptions) Text {
	b := newBurst(time.Time{})
	for _, h := range hs {
		b.add(h)
	}
	return b.text(account, opt)
}

// burstFor returns the account's burst if it goes on at now, else a new one.
func (s *Service) burstFor(account string, now time.Time) *burst {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bursts[account]
	if b == nil || b.id == 0 || now.Sub(b.last) > BurstWindow || now.Sub(b.started) > BurstLength {
		b = newBurst(now)
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
