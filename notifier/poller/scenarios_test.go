package poller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testbus"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/poller"
	"github.com/cashbell/cashbell/notifier/store"
)

// told polls and returns the notifications that one happening raised,
// checking that a second poll raises no more.
func (w *world) told(t *testing.T, want int) []testbus.Notification {
	t.Helper()
	bus.Reset()
	w.apart() // each happening in its own burst, as minutes apart
	w.poll(t)
	got := settle(want)
	w.poll(t)
	time.Sleep(30 * time.Millisecond)
	if all := bus.Notifications(); len(all) != want {
		var lines []string
		for _, n := range all {
			lines = append(lines, n.Summary+" | "+n.Body)
		}
		t.Fatalf("%d notifications, want %d:\n%s", len(all), want, strings.Join(lines, "\n"))
	}
	return got
}

// says checks one notification's title and that its body holds each part.
func says(t *testing.T, n testbus.Notification, title string, parts ...string) {
	t.Helper()
	if n.Summary != title {
		t.Errorf("title %q, want %q (body %q)", n.Summary, title, n.Body)
	}
	for _, p := range parts {
		if !strings.Contains(n.Body, p) {
			t.Errorf("%s: body %q lacks %q", title, n.Body, p)
		}
	}
}

// The same happenings on every API version an account can be on: each is
// one notification with the facts Stripe has, and nothing that works on
// 2023-10-16 is lost on a newer version.
func TestScenariosOnEveryVersion(t *testing.T) {
	for _, version := range stripesim.Versions {
		t.Run(version, func(t *testing.T) {
			w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme", APIVersion: version}, stripesim.AllPermissions)
			g := w.gen
			w.poll(t) // the first import, of nothing
			ctx := context.Background()
			async := version != stripesim.Version20231016

			// A one-off sale. With asynchronous capture the fee comes after
			// the notification; the store has it once Stripe does.
			_, ch := g.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com", Country: "FR", Description: "Concert ticket"})
			n := w.told(t, 1)
			says(t, n[0], "New sale · $49.00 — Acme", "from jane@example.com (FR)", "Concert ticket")
			if strings.Contains(n[0].Body, "net") == async {
				t.Errorf("net in the notification = %v with async capture %v: %q", !async, async, n[0].Body)
			}
			if h := w.happening(t, ch); h.NetCurrency != "usd" || h.Net != 4900-(4900*29/1000+30) {
				t.Errorf("stored fee and net of the sale: %d %d %q", h.Fee, h.Net, h.NetCurrency)
			}

			// A full refund, then partial refunds of a second sale: each states
			// its own amount, with the running total beside it.
			g.Refund(ch, 0)
			says(t, w.told(t, 1)[0], "Refund · $49.00 — Acme", "to jane@example.com")
			_, ch2 := g.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "omar@example.com"})
			w.told(t, 1)
			g.Refund(ch2, 1000)
			says(t, w.told(t, 1)[0], "Refund · $10.00 — Acme", "to omar@example.com")
			g.Refund(ch2, 500)
			says(t, w.told(t, 1)[0], "Refund · $5.00 — Acme", "to omar@example.com", "$15.00 of $49.00 refunded in all")
			// The minimum amount is held to the refund's own amount.
			set, _ := w.store.Settings(ctx)
			set.MinAmount = 6
			_ = w.store.SaveSettings(ctx, set)
			g.Refund(ch2, 500)
			w.told(t, 0)
			set.MinAmount = 0
			_ = w.store.SaveSettings(ctx, set)
			// A refund that fails.
			refunds := g.Refunds(ch2)
			g.FailRefund(refunds[len(refunds)-1], "expired_or_canceled_card")
			says(t, w.told(t, 1)[0], "Refund failed · $5.00 — Acme", "expired or canceled card")

			// A dispute, opened and lost, and an early fraud warning.
			_, dp := g.Dispute(ch2, "fraudulent")
			says(t, w.told(t, 1)[0], "New dispute · $49.00 — Acme", "fraudulent")
			g.CloseDispute(dp, false)
			says(t, w.told(t, 1)[0], "Dispute lost · $49.00 — Acme")
			g.EarlyFraudWarning(ch2, "made_with_stolen_card")
			says(t, w.told(t, 1)[0], "Early fraud warning · $49.00 — Acme", "from omar@example.com", "made with stolen card")

			// A card hold is not a sale; its capture is.
			_, held := g.Authorize(stripesim.Sale{Amount: 12000, Currency: "eur", Email: "li@example.com"})
			w.told(t, 0)
			g.Capture(held, 10000)
			says(t, w.told(t, 1)[0], "New sale · €100.00 — Acme", "from li@example.com")

			// Payouts.
			g.Payout(100000, "usd", false)
			says(t, w.told(t, 1)[0], "Payout paid · $1,000.00 — Acme")
			g.Payout(50000, "usd", true)
			says(t, w.told(t, 1)[0], "Payout failed · $500.00 — Acme", "The bank account has been closed.")

			// A new paid subscription is one notification, with its plan.
			_, sub := g.Subscribe("sofia@example.com", stripesim.Plan{Product: "Starter plan", Amount: 900, Currency: "usd", Interval: "month"}, 0)
			says(t, w.told(t, 1)[0], "New subscription · $9.00 — Acme", "from sofia@example.com (US)", "Starter plan $9.00/month")
			// Renewed, then a renewal that fails.
			g.Renew(sub, true)
			says(t, w.told(t, 1)[0], "Renewal · $9.00 — Acme", "from sofia@example.com", "Starter plan $9.00/month")
			g.Renew(sub, false)
			says(t, w.told(t, 1)[0], "Renewal failed · $9.00 — Acme", "Starter plan")
			// An upgrade, a cancellation scheduled, and the end.
			g.ChangePlan(sub, stripesim.Plan{Product: "Pro plan", Amount: 4900, Currency: "usd", Interval: "month"})
			says(t, w.told(t, 1)[0], "Subscription changed — Acme", "sofia@example.com (US)", "plan changed to Pro plan: $9.00/month → $49.00/month")
			g.TouchMetadata(sub)
			w.told(t, 0)
			g.ScheduleCancel(sub, true)
			says(t, w.told(t, 1)[0], "Subscription changed — Acme", "cancels on")
			g.CancelSubscription(sub)
			says(t, w.told(t, 1)[0], "Subscription cancelled — Acme", "sofia@example.com (US)", "Pro plan · $49.00/month")

			// A trial is news when it starts: nothing is paid yet.
			_, trial := g.Subscribe("kenji@example.com", stripesim.Plan{Product: "Team plan", Amount: 2900, Currency: "usd", Interval: "year"}, 14*24*time.Hour)
			says(t, w.told(t, 1)[0], "New trial — Acme", "kenji@example.com", "Team plan · $29.00/year", "trial ends")
			g.TrialWillEnd(trial)
			says(t, w.told(t, 1)[0], "Trial ending soon — Acme", "Team plan")

			// The chart counts what came in once: the two sales, the
			// subscription and its renewal, less the refunds (the failed one
			// put back); the hold only at its capture.
			days, err := notifier.SumDays(ctx, w.store, nil, time.Now(), 1)
			if err != nil {
				t.Fatal(err)
			}
			sales, refunded := int64(4900+4900+900+900), int64(4900+1000+500+500-500) // the failed refund is put back
			if usd, eur := days.Total("usd", 1), days.Total("eur", 1); usd != sales-refunded || eur != 10000 {
				t.Errorf("today's net in the chart: usd %d, eur %d", usd, eur)
			}
			if days.Sales["usd"] != 4 || days.Sales["eur"] != 1 {
				t.Errorf("sales in the chart: %v", days.Sales)
			}
		})
	}
}

// happening reads a charge's sale from the store as Activity shows it.
func (w *world) happening(t *testing.T, charge string) notifier.Happening {
	t.Helper()
	evs, _, err := w.store.Page(context.Background(), store.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := notifier.Happenings(context.Background(), notifier.History{Store: w.store}, evs, func(string) notifier.Source { return notifier.Source{Name: "Acme"} })
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Object == charge && h.Kind != nil && h.Kind.ID == "sale" {
			return h
		}
	}
	t.Fatalf("no sale of %s stored", charge)
	return notifier.Happening{}
}

// One notification per happening, whatever mix of Stripe's events tells it
// and on every version: sign-ups whose first invoice no card paid, and
// refunds told by every event that may tell them. The chart counts each
// sale and refund once.
func TestOneNotificationPerHappeningOnEveryVersion(t *testing.T) {
	starter := stripesim.Plan{Product: "Starter plan", Amount: 900, Currency: "usd", Interval: "month"}
	for _, version := range stripesim.Versions {
		t.Run(version, func(t *testing.T) {
			w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme", APIVersion: version}, stripesim.AllPermissions)
			g := w.gen
			w.poll(t)

			// Sign-ups, each announced once, by what proves it.
			g.SubscribeWith(stripesim.SignUp{Email: "ana@example.com", Plan: starter, PercentOff: 100})
			says(t, w.told(t, 1)[0], "New subscription — Acme", "ana@example.com", "Starter plan · $9.00/month", "first month free")
			g.SubscribeWith(stripesim.SignUp{Email: "ben@example.com", Plan: starter, PercentOff: 50})
			says(t, w.told(t, 1)[0], "New subscription · $4.50 — Acme", "from ben@example.com", "Starter plan $9.00/month", "$4.50 off the first month")
			g.SubscribeWith(stripesim.SignUp{Email: "cy@example.com", Plan: starter, Credit: 2000})
			says(t, w.told(t, 1)[0], "New subscription — Acme", "cy@example.com", "$9.00 from credit balance")
			sub := g.SubscribeWith(stripesim.SignUp{Email: "dee@example.com", Plan: starter, SendInvoice: true})
			w.told(t, 0) // sent, not paid yet
			g.PayFirstInvoice(sub, false)
			says(t, w.told(t, 1)[0], "New subscription · $9.00 — Acme", "from dee@example.com", "Starter plan $9.00/month")
			sub = g.SubscribeWith(stripesim.SignUp{Email: "eve@example.com", Plan: starter, SendInvoice: true})
			w.told(t, 0)
			g.PayFirstInvoice(sub, true)
			says(t, w.told(t, 1)[0], "New subscription — Acme", "eve@example.com", "paid outside Stripe")

			// Refunds told by every event that may tell them, running total first.
			r := g.EveryRefundEvent()
			_, ch := g.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "omar@example.com"})
			w.told(t, 1)
			r.Refund(ch, 1000)
			says(t, w.told(t, 1)[0], "Refund · $10.00 — Acme", "to omar@example.com")
			r.Refund(ch, 500)
			says(t, w.told(t, 1)[0], "Refund · $5.00 — Acme", "$15.00 of $49.00 refunded in all")
			// Two refunds between two polls: each by its own amount.
			r.Refund(ch, 300)
			r.Refund(ch, 200)
			says(t, w.told(t, 1)[0], "2 refunds · $5.00 — Acme", "Refund · $2.00", "$20.00 of $49.00 refunded in all")
			refunds := g.Refunds(ch)
			r.FailRefund(refunds[len(refunds)-1], "expired_or_canceled_card")
			says(t, w.told(t, 1)[0], "Refund failed · $2.00 — Acme", "expired or canceled card")

			// A customer kept as an Accounts v2 account has no email: its
			// business name says who paid.
			g.Sale(stripesim.Sale{Amount: 2500, Currency: "usd", Business: "Globex Ltd", Country: "DE"})
			says(t, w.told(t, 1)[0], "New sale · $25.00 — Acme", "from Globex Ltd")
			g.SubscribeWith(stripesim.SignUp{Business: "Initech GmbH", Plan: starter})
			says(t, w.told(t, 1)[0], "New subscription · $9.00 — Acme", "from Initech GmbH", "Starter plan $9.00/month")

			// A dispute Stripe prevented is news, not an alarm (2025-08-27 on).
			_, disputed := g.Sale(stripesim.Sale{Amount: 3000, Currency: "usd", Email: "zed@example.com"})
			w.told(t, 1)
			if g.PreventDispute(disputed, "block") != "" {
				n := w.told(t, 1)[0]
				says(t, n, "Dispute prevented · $30.00 — Acme", "Stripe blocked it before it became a chargeback")
				if n.Urgency() == 2 {
					t.Error("a prevented dispute is a critical notification")
				}
			}

			// The chart: the sales that were charged (4.50, 9.00, 49.00, 25.00,
			// 9.00, 30.00), less each refund once, plus the refund that failed.
			days, err := notifier.SumDays(context.Background(), w.store, nil, time.Now(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := days.Total("usd", 1), int64(450+900+4900+2500+900+3000-1000-500-300-200+200); got != want {
				t.Errorf("today's net in the chart %d, want %d", got, want)
			}
			if got := days.Sales["usd"]; got != 6 {
				t.Errorf("%d sales in the chart, want 6", got)
			}
		})
	}
}

// MRR and subscribers, as Stripe's Billing analytics count them, kept
// current from the subscription events on every version after one
// listing, through every flow the simulator has; each step's MRR and the
// movements are worked out by hand from Stripe's rules (notifier/mrr.go).
func TestRecurringOnEveryVersion(t *testing.T) {
	for _, version := range stripesim.Versions {
		t.Run(version, func(t *testing.T) {
			w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme", APIVersion: version}, stripesim.AllPermissions)
			ctx := context.Background()
			g := w.gen
			month := func(product string, amount int64) stripesim.Plan {
				return stripesim.Plan{Product: product, Amount: amount, Currency: "usd", Interval: "month"}
			}
			_, listed := g.Subscribe("lee@example.com", month("Starter plan", 900), 0)
			w.poll(t) // the first import, and the one listing
			var yearly, trial, weekly string
			steps := []struct {
				what        string
				do          func()
				mrr         int64
				subscribers int
			}{
				{"listed: $9 a month", func() {}, 900, 1},
				{"a yearly $120 is $10 a month", func() {
					_, yearly = g.Subscribe("ann@example.com", stripesim.Plan{Product: "Team plan", Amount: 12000, Currency: "usd", Interval: "year"}, 0)
				}, 1900, 2},
				{"a trial does not count", func() { _, trial = g.Subscribe("tia@example.com", month("Pro plan", 4900), 14*24*time.Hour) }, 1900, 2},
				{"it counts once the trial ends", func() { g.SetStatus(trial, "active") }, 6800, 3},
				{"three seats", func() { g.ChangeQuantity(listed, 3) }, 8600, 3},
				{"an upgrade to $99", func() { g.ChangePlan(trial, month("Scale plan", 9900)) }, 13600, 3},
				{"a downgrade to $79", func() { g.ChangePlan(trial, month("Growth plan", 7900)) }, 11600, 3},
				{"a forever coupon takes half", func() { g.ApplyCoupon(yearly, stripesim.Coupon{Duration: "forever", PercentOff: 50}) }, 11100, 3},
				{"a once coupon takes nothing", func() { g.ApplyCoupon(listed, stripesim.Coupon{Duration: "once", PercentOff: 100}) }, 11100, 3},
				{"$30 every two weeks is $65 a month", func() {
					_, weekly = g.Subscribe("wes@example.com", stripesim.Plan{Product: "Fortnightly box", Amount: 3000, Currency: "usd", Interval: "week", Every: 2}, 0)
				}, 17600, 4},
				{"a yearly $240 item beside it", func() {
					g.AddItem(weekly, stripesim.Plan{Product: "Support", Amount: 24000, Currency: "usd", Interval: "year"}, 1)
				}, 19600, 4},
				{"a metered item does not count", func() {
					g.AddItem(weekly, stripesim.Plan{Product: "API calls", Amount: 1, Currency: "usd", Interval: "month", Metered: true}, 1)
				}, 19600, 4},
				{"past due still counts", func() { g.Renew(listed, false) }, 19600, 4},
				{"set to cancel at the period's end leaves at once", func() { g.ScheduleCancel(yearly, true) }, 19100, 3},
				{"cancelled", func() { g.CancelSubscription(trial) }, 11200, 2},
				{"the same customer back", func() {
					g.SubscribeWith(stripesim.SignUp{Email: "tia@example.com", Plan: month("Pro plan", 4900), Customer: g.CustomerOf(trial)})
				}, 16100, 3},
			}
			for _, step := range steps {
				step.do()
				w.poll(t)
				r, err := notifier.History{Store: w.store}.Recurring(ctx, w.acct.ID)
				if err != nil || !r.Known || r.MRR["usd"] != step.mrr || r.Subscribers != step.subscribers {
					t.Fatalf("%s: MRR %v, %d subscribers (known %v, %v); want %d, %d", step.what, r.MRR, r.Subscribers, r.Known, err, step.mrr, step.subscribers)
				}
			}
			// Why it moved: new $9, $10, $49 and $65; expansion $18, $50 and
			// $20; contraction $20 and $5; churn $5 and $79; reactivation $49.
			moved, err := notifier.History{Store: w.store}.Movements(ctx, w.acct.ID, time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := notifier.Movement{New: 13300, Expansion: 8800, Contraction: 2500, Churn: 8400, Reactivation: 4900}
			if m := moved["usd"]; m == nil || *m != want || m.Net() != 16100 {
				t.Fatalf("movements %+v, want %+v", m, want)
			}
			// One figure per currency: a plan in euros is counted in euros.
			g.Subscribe("eva@example.com", stripesim.Plan{Product: "Pro plan", Amount: 1900, Currency: "eur", Interval: "month"}, 0)
			w.poll(t)
			r, err := notifier.History{Store: w.store}.Recurring(ctx, w.acct.ID)
			if err != nil || r.MRR["eur"] != 1900 || r.MRR["usd"] != 16100 || len(r.MRR) != 2 || r.Subscribers != 4 {
				t.Fatalf("with a euro plan: MRR %v, %d subscribers (%v)", r.MRR, r.Subscribers, err)
			}
			before := w.sim.Requests()
			w.poll(t)
			if n := w.sim.Requests() - before; n != 1 {
				t.Fatalf("an idle poll made %d requests", n)
			}
		})
	}
}

// A large account's first listing of subscriptions (made before the 30
// days of events Stripe lists) shows how far it got: cut short on its
// third page (a rate limit), it keeps the 200 read so far and says it is
// still counting; the next poll lists them whole.
func TestFirstListingOfSubscriptionsShowsProgress(t *testing.T) {
	w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme"}, stripesim.AllPermissions)
	ctx := context.Background()
	for i := range 250 {
		w.gen.At(time.Now().AddDate(0, 0, -60)).Subscribe(fmt.Sprintf("s%d@example.com", i), stripesim.Plan{Product: "Starter plan", Amount: 900, Currency: "usd", Interval: "month"}, 0)
	}
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.RateLimit, Path: "/v1/subscriptions", After: 2})
	w.poll(t)
	r, err := notifier.History{Store: w.store}.Recurring(ctx, w.acct.ID)
	if err != nil || r.Known || r.Kept != 200 {
		t.Fatalf("cut short: known %v, %d kept (%v); want still counting, 200 kept", r.Known, r.Kept, err)
	}
	w.poll(t)
	r, err = notifier.History{Store: w.store}.Recurring(ctx, w.acct.ID)
	if err != nil || !r.Known || r.Kept != 250 || r.Subscribers != 250 || r.MRR["usd"] != 250*900 {
		t.Fatalf("whole: known %v, %d kept, %d subscribers, MRR %v (%v)", r.Known, r.Kept, r.Subscribers, r.MRR, err)
	}
}

// A key that cannot read subscriptions never gets an MRR figure, even
// though the events it reads tell of some subscriptions: part of a figure
// would be a wrong one.
func TestNoMRRWithoutSubscriptionRead(t *testing.T) {
	var perms []string
	for _, p := range stripesim.AllPermissions {
		if p != stripesim.PermSubscriptionRead {
			perms = append(perms, p)
		}
	}
	w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme"}, perms)
	w.gen.Subscribe("ann@example.com", stripesim.Plan{Product: "Pro plan", Amount: 4900, Currency: "usd", Interval: "month"}, 0)
	checked := w.sim.RequestsTo("/v1/subscriptions") // the permission check's
	w.poll(t)
	w.poll(t)
	h := notifier.History{Store: w.store}
	r, err := h.Recurring(context.Background(), w.acct.ID)
	if err != nil || r.Known || len(r.MRR) != 0 || r.Subscribers != 0 {
		t.Fatalf("MRR %v, %d subscribers, known %v (%v)", r.MRR, r.Subscribers, r.Known, err)
	}
	if n := w.sim.RequestsTo("/v1/subscriptions") - checked; n != 0 {
		t.Fatalf("%d requests for subscriptions the key cannot read", n)
	}
	if m, err := h.MRRMonth(context.Background(), w.acct.ID, time.Now(), 30); err != nil || len(m.Days) != 0 {
		t.Fatalf("MRR by day %v (%v)", m.Days, err)
	}
}

// A listing that stops at its cap is not whole: it keeps what it read,
// gives no MRR (part of one would be wrong), and is not tried again at
// every poll.
func TestACappedListingGivesNoMRR(t *testing.T) {
	defer poller.SetSubscriptionPages(2)()
	w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme"}, stripesim.AllPermissions)
	for i := range 250 {
		w.gen.At(time.Now().AddDate(0, 0, -60)).Subscribe(fmt.Sprintf("s%d@example.com", i), stripesim.Plan{Product: "Starter plan", Amount: 900, Currency: "usd", Interval: "month"}, 0)
	}
	w.poll(t)
	r, err := notifier.History{Store: w.store}.Recurring(context.Background(), w.acct.ID)
	if err != nil || r.Known || r.Kept != 200 || len(r.MRR) != 0 {
		t.Fatalf("capped: known %v, %d kept, MRR %v (%v)", r.Known, r.Kept, r.MRR, err)
	}
	before := w.sim.RequestsTo("/v1/subscriptions")
	w.poll(t)
	if n := w.sim.RequestsTo("/v1/subscriptions") - before; n != 0 {
		t.Fatalf("listed again at once: %d requests", n)
	}
}
