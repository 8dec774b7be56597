package notifier

import (
	"fmt"
	"strings"
	"time"

	"github.com/cashbell/cashbell/internal/safetext"
)

// A Tally counts happenings for one notification that stands for them
// all: how many of each kind, each kind's totals, and the newest.
type Tally struct {
	N      int
	counts map[*Kind]int
	totals map[*Kind]Totals
	newest Happening
}

// Add counts a happening in.
func (b *Tally) Add(h Happening) {
	if b.counts == nil {
		b.counts, b.totals = map[*Kind]int{}, map[*Kind]Totals{}
	}
	b.N++
	b.counts[h.Kind]++
	if h.Kind != nil && h.Kind.Money && h.HasAmount() {
		if b.totals[h.Kind] == nil {
			b.totals[h.Kind] = Totals{}
		}
		b.totals[h.Kind].Add(h.Amount, h.Currency)
	}
	b.newest = h
}

// Text is "3 sales · $147.00 — Acme" with the newest in the body; for
// several kinds or currencies, "809 sales · 90 refunds — Acme" with each
// kind's totals above the newest.
func (b *Tally) Text(account string, opt TextOptions) Text {
	if opt.Money == nil {
		opt.Money = NewMoney("en-US")
	}
	var counts, lines []string
	for _, k := range Kinds {
		n := b.counts[k]
		if n == 0 {
			continue
		}
		label := Count(n, k.One, k.Many)
		counts = append(counts, label)
		if t := b.totals[k]; len(t) > 0 && !opt.HideAmounts {
			lines = append(lines, label+": "+t.Format(opt.Money))
		}
	}
	latest := "Latest: " + JoinNonEmpty(" · ", b.newest.Headline(opt), b.newest.Body(opt))
	// The title counts in the reader's words, two kinds at most; the amounts
	// go in the body, each kind's two leading currencies at most. One kind
	// in one currency fits whole: "3 sales · $147.00".
	title := strings.Join(counts[:min(2, len(counts))], " · ")
	if len(counts) > 2 {
		title += fmt.Sprintf(" · %d more", len(counts)-2)
	}
	body := strings.Join(append(lines, latest), "\n")
	if t := b.totals[b.newest.Kind]; len(counts) == 1 && len(t) == 1 && !opt.HideAmounts {
		title, body = title+" · "+t.Format(opt.Money), latest
	}
	return Text{Title: title + " — " + AccountName(safetext.Clean(account)), Body: body}
}

// Count is "1 sale", "3 sales".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Problems is a running notification of one kind of bad news: "37 failed
// payments in 5 min — Acme", the newest in the body. span is how long the
// run has gone on; it reads in whole minutes, at least one.
func (b *Tally) Problems(account string, span time.Duration, opt TextOptions) Text {
	if opt.Money == nil {
		opt.Money = NewMoney("en-US")
	}
	noun := "problems"
	if k := b.newest.Kind; k != nil {
		noun = k.Many
	}
	minutes := max(1, int((span+time.Minute-1)/time.Minute))
	title := fmt.Sprintf("%d %s in %d min", b.N, noun, minutes)
	latest := "Latest: " + JoinNonEmpty(" · ", b.newest.Headline(opt), b.newest.Body(opt))
	if t := b.totals[b.newest.Kind]; len(t) > 0 && !opt.HideAmounts {
		latest = t.Format(opt.Money) + " in all\n" + latest
	}
	return Text{Title: title + " — " + AccountName(safetext.Clean(account)), Body: latest}
}
