package app

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/notifier"
)

// chartDays is how many days the chart shows.
const chartDays = 30

// chartEvery is how often a busy store's chart is summed again while
// events keep arriving; a change of filter sums at once.
const chartEvery = 30 * time.Second

// monthChart is the last 30 days at a glance: sales less refunds per day in
// one currency, with today's, the week's and the month's totals. It is
// summed from the store, without asking Stripe.
type monthChart struct {
	env      *env
	hist     history
	days     notifier.Days
	hide     bool
	currency *widget.Select
	totals   *widget.Label
	note     *widget.Label
	bars     *barChart
	from, to *widget.RichText
	root     fyne.CanvasObject

	account string // "" for every account
	// accounts are the ids of every account, for MRR over all of them.
	accounts func() []string
	rec      recurringSum // MRR over the accounts shown
	mrrLine  *widget.Label
	// view switches between the sales chart and MRR over the 30 days.
	view       *widget.RadioGroup
	weekLine   *widget.Label
	payoutLine *widget.Label
	summedAt   time.Time
	summing    bool
	// again is the account to sum for once the running sum ends: the
	// filter changed, or events came, while it ran.
	again *string
	// chosen is the currency shown.
	chosen string
}

func newMonthChart(e *env, hist history) *monthChart {
	c := &monthChart{env: e, hist: hist, totals: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		note: widget.NewLabel(""), bars: newBarChart(), from: secondaryText(""), to: secondaryText("today")}
	c.currency = widget.NewSelect(nil, func(string) { c.show() })
	c.view = widget.NewRadioGroup([]string{"Sales", "MRR"}, func(string) { c.show() })
	c.view.Horizontal, c.view.Required = true, true
	c.view.Selected = "Sales"
	c.view.Hide()
	c.totals.Truncation = fyne.TextTruncateEllipsis
	c.mrrLine = widget.NewLabel("")
	c.mrrLine.Truncation = fyne.TextTruncateEllipsis
	c.mrrLine.Hide()
	c.weekLine = widget.NewLabel("")
	c.weekLine.Truncation = fyne.TextTruncateEllipsis
	c.payoutLine = widget.NewLabel("")
	c.payoutLine.Truncation = fyne.TextTruncateEllipsis
	c.payoutLine.Hide()
	c.note.Truncation = fyne.TextTruncateEllipsis
	c.to.Segments[0].(*widget.TextSegment).Style.Alignment = fyne.TextAlignTrailing
	// The day pointed at, between the ends of the axis: "2 Dec: net $1,234.00".
	c.note.Alignment = fyne.TextAlignCenter
	c.bars.pointed = c.showDay
	axis := container.NewBorder(nil, nil, c.from, c.to, c.note)
	// The view and the currency beside the first line; the lines under it
	// have the whole width.
	first := container.NewBorder(nil, nil, nil, container.NewHBox(c.view, c.currency), c.totals)
	c.root = container.NewBorder(container.NewVBox(first, c.weekLine, c.payoutLine, c.mrrLine), axis, nil, nil, c.bars)
	return c
}

// showDay says a day's value under the chart: its net in the chosen
// currency, or hidden.
func (c *monthChart) showDay(i int) {
	values := c.bars.values
	if i < 0 || i >= len(values) || c.chosen == "" {
		return
	}
	y, m, d := c.days.Start.Date()
	day := time.Date(y, m, d+i, 0, 0, 0, 0, time.Local).Format("2 Jan")
	what := ": net "
	if c.showingMRR() {
		what = ": MRR "
	}
	c.note.SetText(day + what + c.money(values[i]))
}

// reload sums the days again, off Fyne's thread, when the filter changed or
// the last sum is older than chartEvery; hiding amounts only redraws.
func (c *monthChart) reload(accountID string, hide bool, force bool) {
	if hide != c.hide {
		c.hide = hide
		if !c.summedAt.IsZero() {
			c.show()
		}
	}
	if c.summing {
		if force || accountID != c.account {
			c.again = &accountID
		}
		return
	}
	if !force && accountID == c.account && time.Since(c.summedAt) < chartEvery {
		return
	}
	c.summing = true
	c.account = accountID
	now, scope := c.env.now(), c.accounts()
	var only []string // every account's sales
	if accountID != "" {
		only, scope = []string{accountID}, []string{accountID}
	}
	go func() {
		ctx, cancel := c.env.ctx()
		defer cancel()
		days, err := c.hist.SumDays(ctx, only, now, chartDays)
		rec := c.recurring(ctx, scope, now)
		c.env.do(func() {
			c.summing = false
			again := c.again
			c.again = nil
			switch {
			case err != nil:
				c.env.log.Error("summing the last 30 days", "err", err)
			case again == nil || *again == accountID:
				c.days, c.summedAt = days, time.Now()
				c.rec = rec
				c.show()
			}
			if again != nil { // another account's figures are not shown meanwhile
				c.reload(*again, c.hide, true)
			}
		})
	}()
}

// recurringSum is MRR by currency over the accounts shown, their
// subscribers, and why it moved over the 30 days; known: listed at least
// once.
type recurringSum struct {
	mrr         map[string]int64
	subscribers int
	moved       map[string]notifier.Movement
	days        map[string][]int64
	known       bool
}

// recurring reads MRR, subscribers and the 30 days' movements of the
// accounts shown, off Fyne's thread.
func (c *monthChart) recurring(ctx context.Context, scope []string, now time.Time) recurringSum {
	sum := recurringSum{mrr: map[string]int64{}, moved: map[string]notifier.Movement{}, days: map[string][]int64{}}
	for _, id := range scope {
		month, err := c.hist.MRRMonth(ctx, id, now, chartDays)
		r := month.Recurring // read with the month, in one pass
		if !r.Known {
			continue // no listing yet, or no permission: no partial figure
		}
		sum.known = true
		sum.subscribers += r.Subscribers
		for cur, v := range r.MRR {
			sum.mrr[cur] += v
		}
		if err != nil {
			continue
		}
		for cur, days := range month.Days {
			if sum.days[cur] == nil {
				sum.days[cur] = make([]int64, len(days))
			}
			for i, v := range days {
				sum.days[cur][i] += v
			}
		}
		for cur, m := range month.Moved {
			t := sum.moved[cur]
			t.New, t.Expansion, t.Contraction, t.Churn, t.Reactivation = t.New+m.New, t.Expansion+m.Expansion,
				t.Contraction+m.Contraction, t.Churn+m.Churn, t.Reactivation+m.Reactivation
			sum.moved[cur] = t
		}
	}
	return sum
}

// showPayout says what the sales brought in the currencies the accounts
// are paid out in, after Stripe's fees, refunds and disputes: "Net after
// fees, in USD: today $80.12 · 7 days $1,020.40 · 30 days $4,210.00 · 2
// sales not settled yet".
func (c *monthChart) showPayout() {
	net, pending := c.days.PayoutTotal(chartDays)
	if len(c.days.Payout) == 0 && pending == 0 {
		c.payoutLine.Hide()
		return
	}
	text := "Net after fees, in " + strings.ToUpper(strings.Join(slices.Sorted(maps.Keys(net)), " + ")) + ":"
	for i, span := range []struct {
		label string
		n     int
	}{{"today", 1}, {"7 days", 7}, {"30 days", chartDays}} {
		net, _ := c.days.PayoutTotal(span.n)
		amount := "•••"
		if !c.hide {
			amount = net.Format(c.env.money)
			if len(net) == 0 {
				amount = "nothing"
			}
		}
		if i > 0 {
			text += " ·"
		}
		text += " " + span.label + " " + amount
	}
	if pending > 0 {
		text += " · " + notifier.Count(pending, "sale", "sales") + " not settled yet"
	}
	c.payoutLine.SetText(text)
	c.payoutLine.Show()
}

// showMRRView draws MRR at the end of each of the 30 days, in the chosen
// currency, with why it moved: "MRR $12,340.00 · 214 subscribers", then
// "30 days: new +$900.00 · churn −$49.00".
func (c *monthChart) showMRRView() {
	currencies := slices.Sorted(maps.Keys(c.rec.days))
	lead, _ := notifier.Recurring{MRR: c.rec.mrr}.Leading()
	if i := slices.Index(currencies, lead); i > 0 { // the MRR's largest first
		currencies = append(append([]string{lead}, currencies[:i]...), currencies[i+1:]...)
	}
	chosen := c.pick(currencies)
	c.payoutLine.Hide()
	c.weekLine.Hide()
	if len(currencies) == 0 {
		c.totals.SetText("No MRR yet: no paid subscription is active")
		c.mrrLine.Hide()
		c.bars.set(nil)
		return
	}
	c.totals.SetText("MRR " + c.money(c.rec.mrr[chosen]) + " · " + notifier.Count(c.rec.subscribers, "subscriber", "subscribers"))
	var parts []string
	for _, p := range c.rec.moved[chosen].Parts() {
		parts = append(parts, p.Label+" "+notifier.Signed(p.Signed, c.money))
	}
	c.mrrLine.SetText("30 days: no change")
	if len(parts) > 0 {
		c.mrrLine.SetText("30 days: " + strings.Join(parts, " · "))
	}
	c.mrrLine.Show()
	c.bars.set(c.rec.days[chosen])
}

// pick offers currencies, keeps the one chosen if it is among them, else
// chooses the first, and returns it.
func (c *monthChart) pick(currencies []string) string {
	chosen := strings.ToLower(c.currency.Selected)
	if !slices.Contains(currencies, chosen) && len(currencies) > 0 {
		chosen = currencies[0]
	}
	c.chosen = chosen
	c.note.SetText("")
	upper := make([]string, len(currencies))
	for i, cur := range currencies {
		upper[i] = strings.ToUpper(cur)
	}
	c.currency.Options, c.currency.Selected = upper, strings.ToUpper(chosen)
	c.currency.Hidden = len(currencies) < 2
	c.currency.Refresh()
	return chosen
}

// money writes an amount in the chosen currency, or hides it.
func (c *monthChart) money(v int64) string {
	if c.hide {
		return "•••"
	}
	return c.env.money.Format(v, c.chosen)
}

// showingMRR reports whether the MRR view is chosen, and can be shown.
func (c *monthChart) showingMRR() bool { return c.rec.known && c.view.Selected == "MRR" }

// show draws the chosen view in the chosen currency (the busiest, at
// first).
func (c *monthChart) show() {
	c.view.Hidden = !c.rec.known
	c.view.Refresh()
	if c.showingMRR() {
		c.showMRRView()
		return
	}
	currencies := c.days.Currencies()
	chosen := c.pick(currencies)
	y, m, d := c.days.Start.Date()
	c.from.Segments[0].(*widget.TextSegment).Text = time.Date(y, m, d, 0, 0, 0, 0, time.Local).Format("2 Jan")
	c.from.Refresh()
	if len(currencies) == 0 {
		c.totals.SetText("No sales in the last 30 days")
		c.weekLine.Hide()
		c.mrrLine.Hide()
		c.payoutLine.Hide()
		c.bars.set(nil)
		return
	}
	sales, refunds := c.days.Split(chosen, 1)
	today := "•••"
	if !c.hide {
		today = notifier.DayText(c.env.money, sales, refunds, chosen)
	}
	c.totals.SetText("Today: " + today)
	c.weekLine.SetText("7 days: net " + c.money(c.days.Total(chosen, 7)) + " · 30 days: net " + c.money(c.days.Total(chosen, chartDays)))
	c.weekLine.Show()
	c.mrrLine.Hide() // the MRR view tells it
	c.showPayout()
	c.bars.set(c.days.Net[chosen])
}

// barChart draws one bar per day, scaled to the largest; a day with more
// refunds than sales hangs below the line in the error colour.
type barChart struct {
	widget.BaseWidget
	values []int64
	// pointed is told the day under the pointer or a tap, by its index.
	pointed func(day int)
}

// dayAt is the index of the day drawn at x, or -1.
func (b *barChart) dayAt(x float32) int {
	if len(b.values) == 0 || b.Size().Width <= 0 {
		return -1
	}
	i := int(x / (b.Size().Width / float32(len(b.values))))
	if i < 0 || i >= len(b.values) {
		return -1
	}
	return i
}

// Tapped and MouseMoved say which day's bar is pointed at: the chart
// shows its value.
func (b *barChart) Tapped(ev *fyne.PointEvent) { b.point(ev.Position.X) }

func (b *barChart) MouseIn(ev *desktop.MouseEvent)    { b.point(ev.Position.X) }
func (b *barChart) MouseMoved(ev *desktop.MouseEvent) { b.point(ev.Position.X) }
func (b *barChart) MouseOut()                         {}

func (b *barChart) point(x float32) {
	if i := b.dayAt(x); i >= 0 && b.pointed != nil {
		b.pointed(i)
	}
}

func newBarChart() *barChart {
	b := &barChart{}
	b.ExtendBaseWidget(b)
	return b
}

func (b *barChart) set(values []int64) {
	b.values = values
	b.Refresh()
}

func (b *barChart) CreateRenderer() fyne.WidgetRenderer {
	r := &barRenderer{chart: b, line: canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))}
	r.Refresh()
	return r
}

type barRenderer struct {
	chart *barChart
	line  *canvas.Rectangle
	bars  []*canvas.Rectangle
}

func (r *barRenderer) MinSize() fyne.Size { return fyne.NewSize(chartDays*4, 72) }

func (r *barRenderer) Objects() []fyne.CanvasObject {
	out := []fyne.CanvasObject{r.line}
	for _, bar := range r.bars {
		out = append(out, bar)
	}
	return out
}

func (r *barRenderer) Destroy() {}

func (r *barRenderer) Refresh() {
	for len(r.bars) < len(r.chart.values) {
		r.bars = append(r.bars, canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)))
	}
	r.bars = r.bars[:len(r.chart.values)]
	r.line.FillColor = theme.Color(theme.ColorNameSeparator)
	for i, bar := range r.bars {
		bar.FillColor = theme.Color(theme.ColorNamePrimary)
		if r.chart.values[i] < 0 {
			bar.FillColor = theme.Color(theme.ColorNameError)
		}
		bar.CornerRadius = 2
	}
	r.Layout(r.chart.Size())
	canvas.Refresh(r.chart)
}

func (r *barRenderer) Layout(size fyne.Size) {
	var top, bottom int64
	for _, v := range r.chart.values {
		top, bottom = max(top, v), min(bottom, v)
	}
	span := float32(top - bottom)
	baseline := size.Height
	if span > 0 {
		baseline = size.Height * float32(top) / span
	}
	r.line.Move(fyne.NewPos(0, baseline))
	r.line.Resize(fyne.NewSize(size.Width, 1))
	n := float32(max(len(r.bars), 1))
	slot := size.Width / n
	gap := min(slot*0.25, 4)
	for i, bar := range r.bars {
		v := r.chart.values[i]
		h := float32(0)
		if span > 0 {
			h = size.Height * float32(abs(v)) / span
		}
		if v != 0 {
			h = max(h, 2) // a small day is still seen
		}
		y := baseline - h
		if v < 0 {
			y = baseline
		}
		bar.Move(fyne.NewPos(float32(i)*slot+gap/2, y))
		bar.Resize(fyne.NewSize(slot-gap, h))
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
