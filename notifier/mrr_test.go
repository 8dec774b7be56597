package notifier

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier/store"
)

// Each subscription's MRR, worked out by hand from Stripe's rules (see
// mrr.go): active and past_due count, trials and the rest do not; a year
// is a twelfth a month; quantity and interval_count apply; every item
// counts; metered prices and free plans do not; forever coupons reduce it,
// once and repeating ones do not; cancelling at the period's end takes it
// out at once.
func TestSubscriptionMRR(t *testing.T) {
	item := func(amount int, interval string, count, qty int, metered bool) string {
		usage := "licensed"
		if metered {
			usage = "metered"
		}
		return fmt.Sprintf(`{"quantity":%d,"price":{"unit_amount":%d,"currency":"usd","recurring":{"interval":%q,"interval_count":%d,"usage_type":%q}}}`, qty, amount, interval, count, usage)
	}
	sub := func(status string, cancel bool, discount string, items ...string) []byte {
		list := ""
		for i, it := range items {
			if i > 0 {
				list += ","
			}
			list += it
		}
		return []byte(fmt.Sprintf(`{"id":"sub_1","customer":"cus_1","status":%q,"cancel_at_period_end":%v,"discount":%s,"items":{"data":[%s]}}`, status, cancel, discount, list))
	}
	coupon := func(duration string, pct int) string {
		return fmt.Sprintf(`{"coupon":{"duration":%q,"percent_off":%d}}`, duration, pct)
	}
	cases := []struct {
		name string
		raw  []byte
		want string // minor units, exact
	}{
		{"monthly", sub("active", false, "null", item(4900, "month", 1, 1, false)), "4900"},
		{"yearly is a twelfth", sub("active", false, "null", item(120000, "year", 1, 1, false)), "10000"},
		{"weekly", sub("active", false, "null", item(1000, "week", 1, 1, false)), "13000/3"},
		{"daily", sub("active", false, "null", item(100, "day", 1, 1, false)), "36500/12"},
		{"every three months", sub("active", false, "null", item(9000, "month", 3, 1, false)), "3000"},
		{"quantity", sub("active", false, "null", item(900, "month", 1, 3, false)), "2700"},
		{"several items", sub("active", false, "null", item(4900, "month", 1, 1, false), item(12000, "year", 1, 1, false)), "5900"},
		{"past due counts", sub("past_due", false, "null", item(4900, "month", 1, 1, false)), "4900"},
		{"a trial does not", sub("trialing", false, "null", item(4900, "month", 1, 1, false)), ""},
		{"unpaid does not", sub("unpaid", false, "null", item(4900, "month", 1, 1, false)), ""},
		{"metered does not", sub("active", false, "null", item(4900, "month", 1, 1, false), item(10, "month", 1, 1, true)), "4900"},
		{"a free plan does not", sub("active", false, "null", item(0, "month", 1, 1, false)), ""},
		{"forever coupon", sub("active", false, coupon("forever", 50), item(4900, "month", 1, 1, false)), "2450"},
		{"once coupon does not", sub("active", false, coupon("once", 100), item(4900, "month", 1, 1, false)), "4900"},
		{"repeating coupon does not", sub("active", false, coupon("repeating", 20), item(4900, "month", 1, 1, false)), "4900"},
		{"forever amount off a yearly plan", sub("active", false, `{"coupon":{"duration":"forever","amount_off":1200,"currency":"usd"}}`, item(120000, "year", 1, 1, false)), "9900"},
		{"cancelling at the period's end", sub("active", true, "null", item(4900, "month", 1, 1, false)), ""},
		{"a decimal unit amount", sub("active", false, "null", `{"quantity":3,"price":{"unit_amount":null,"unit_amount_decimal":"0.5","currency":"usd","recurring":{"interval":"month","interval_count":1}}}`), "3/2"},
		{"a tiered price is not known", sub("active", false, "null", `{"quantity":3,"price":{"unit_amount":null,"unit_amount_decimal":null,"billing_scheme":"tiered","currency":"usd","recurring":{"interval":"month","interval_count":1}}}`), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := SubscriptionMRR(tc.raw, nil)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("counts: %v", got)
				}
				return
			}
			want, _ := new(big.Rat).SetString(tc.want)
			if got["usd"] == nil || got["usd"].Cmp(want) != 0 {
				t.Fatalf("MRR %v, want %v", got["usd"], want)
			}
		})
	}
	// Each customer counts once, however many subscriptions it has.
	paid := sub("active", false, "null", item(4900, "month", 1, 1, false))
	if r, _ := recurring([][]byte{paid, paid, sub("trialing", false, "null", item(4900, "month", 1, 1, false))}, nil); r.Subscribers != 1 {
		t.Fatalf("%d subscribers, want 1", r.Subscribers)
	}
	// From basil an event names discounts by id: a forever coupon counts
	// once it is known whole, and once only where 2024-06-20 gives it both
	// in discount and, expanded, in discounts.
	byID := []byte(`{"id":"sub_2","customer":"cus_2","status":"active","discounts":["di_1"],"items":{"data":[` + item(4900, "month", 1, 1, false) + `]}}`)
	known := Discounts{"di_1": []byte(`{"id":"di_1","coupon":{"duration":"forever","percent_off":50}}`)}
	if got := SubscriptionMRR(byID, nil)["usd"]; got == nil || got.Cmp(big.NewRat(4900, 1)) != 0 {
		t.Fatalf("an unknown discount took %v off", got)
	}
	if got := SubscriptionMRR(byID, known)["usd"]; got == nil || got.Cmp(big.NewRat(2450, 1)) != 0 {
		t.Fatalf("a known forever discount: MRR %v, want 2450", got)
	}
	both := []byte(`{"id":"sub_3","customer":"cus_3","status":"active","discount":{"id":"di_1","coupon":{"duration":"forever","percent_off":50}},` +
		`"discounts":[{"id":"di_1","coupon":{"duration":"forever","percent_off":50}}],"items":{"data":[` + item(4900, "month", 1, 1, false) + `]}}`)
	if got := SubscriptionMRR(both, nil)["usd"]; got == nil || got.Cmp(big.NewRat(2450, 1)) != 0 {
		t.Fatalf("one discount given twice: MRR %v, want 2450", got)
	}
	if d := DiscountsOf(both); len(d) != 1 || d["di_1"] == nil {
		t.Fatalf("discounts of a subscription: %v", d)
	}
}

// Movements know what a customer paid before the span, from the kept
// subscriptions: a customer of long standing who adds a plan expands, and
// who drops it contracts; a trial cancelled before it ends never counted,
// so it is no churn.
func TestMovementsKnowTheCustomerBeforeTheSpan(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Now()
	if err := s.SaveAccount(ctx, accounts.Account{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	sub := func(id, customer, status string, amount int, extra string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"customer":%q,"status":%q,%s"items":{"data":[{"quantity":1,"price":{"unit_amount":%d,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}`,
			id, customer, status, extra, amount)
	}
	old := sub("sub_old", "cus_1", "active", 5000, "")
	added := sub("sub_add", "cus_1", "active", 2000, "")
	trial := sub("sub_trial", "cus_2", "canceled", 4900, fmt.Sprintf(`"trial_end":%d,"ended_at":%d,`, now.Unix()+86400, now.Unix()-60))
	// Today's state: the old plan alone (the added one was dropped again).
	dropped := sub("sub_add", "cus_1", "canceled", 2000, fmt.Sprintf(`"ended_at":%d,`, now.Unix()-120))
	if err := s.PutSubscriptions(ctx, "a", []store.Subscription{{ID: "sub_old", AsOf: 1, JSON: old}, {ID: "sub_add", AsOf: now.Unix(), JSON: dropped}}, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	evs := []store.Event{
		{ID: "evt_1", Type: "customer.subscription.created", Created: now.Unix() - 600, Object: added},
		{ID: "evt_2", Type: "customer.subscription.deleted", Created: now.Unix() - 120, Object: dropped},
		{ID: "evt_3", Type: "customer.subscription.deleted", Created: now.Unix() - 60, Object: trial},
	}
	if _, err := s.Ingest(ctx, "a", evs, nil, false); err != nil {
		t.Fatal(err)
	}
	moved, err := History{Store: s}.Movements(ctx, "a", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if m := moved["usd"]; m == nil || *m != (Movement{Expansion: 2000, Contraction: 2000}) {
		t.Fatalf("movements %+v, want expansion and contraction of $20 alone", m)
	}
}
