package notifier

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cashbell/cashbell/notifier/store"
)

func ev(typ, object string, previous ...string) store.Event {
	e := store.Event{ID: "evt_1", Type: typ, Created: 1700000000, Object: json.RawMessage(object)}
	if len(previous) > 0 {
		e.Previous = json.RawMessage(previous[0])
	}
	return e
}

const subJSON = `{"id":"sub_1","object":"subscription","customer":"cus_1","status":"%s","cancel_at_period_end":%s,"cancel_at":%s,
 "trial_end":1701000000,"items":{"object":"list","data":[{"id":"si_1","quantity":%d,"price":{"id":"%s","product":"prod_1","nickname":%s,"unit_amount":%d,"currency":"usd","recurring":{"interval":"month"}}}]}}`

func sub(status, cancel, cancelAt string, qty int, price, nickname string, amount int) string {
	return fmt.Sprintf(subJSON, status, cancel, cancelAt, qty, price, nickname, amount)
}

func TestDescribe(t *testing.T) {
	opt := TextOptions{Money: NewMoney("en-US"), Location: time.UTC}
	cases := []struct {
		name        string
		e           store.Event
		d           store.Facts
		title, body string
	}{
		{"sale in USD with everything",
			ev("charge.succeeded", `{"id":"ch_1","amount":4900,"currency":"usd","billing_details":{"email":"jane@example.com","address":{"country":"FR"}}}`),
			store.Facts{Product: "Pro plan", Fee: 172, Net: 4728, NetCur: "usd"},
			"New sale · $49.00 — Acme", "from jane@example.com (FR) · Pro plan · net $47.28"},
		{"sale in JPY, zero-decimal",
			ev("charge.succeeded", `{"id":"ch_1","amount":500,"currency":"jpy"}`), store.Facts{},
			"New sale · ¥500 — Acme", ""},
		{"sale in KWD, three decimals",
			ev("charge.succeeded", `{"id":"ch_1","amount":1250,"currency":"kwd","billing_details":{"email":"a@b.kw"}}`), store.Facts{Country: "KW"},
			"New sale · KWD\u00a01.250 — Acme", "from a@b.kw (KW)"},
		{"sale with customer from enrichment and description",
			ev("charge.succeeded", `{"id":"ch_1","amount":123456,"currency":"eur","description":"Team licence"}`),
			store.Facts{Email: "li@example.com", Country: "DE", Net: 120000, NetCur: "eur"},
			"New sale · €1,234.56 — Acme", "from li@example.com (DE) · Team licence · net €1,200.00"},
		{"full refund",
			ev("charge.refunded", `{"id":"ch_1","amount":4900,"amount_refunded":4900,"currency":"usd","billing_details":{"email":"jane@example.com"}}`), store.Facts{},
			"Refund · $49.00 — Acme", "to jane@example.com"},
		{"partial refund, before its own amount is read",
			ev("charge.refunded", `{"id":"ch_1","amount":4900,"amount_refunded":900,"currency":"usd"}`), store.Facts{},
			"Refund · $9.00 — Acme", ""},
		{"a second partial refund states its own amount",
			ev("charge.refunded", `{"id":"ch_1","amount":4900,"amount_refunded":1500,"currency":"usd"}`), store.Facts{Amount: 500, Currency: "usd"},
			"Refund · $5.00 — Acme", "$15.00 of $49.00 refunded in all"},
		{"a refund object",
			ev("refund.created", `{"id":"re_1","object":"refund","amount":500,"currency":"eur","charge":"ch_1","status":"succeeded"}`), store.Facts{Email: "li@example.com", Refunded: 500, Charged: 4900},
			"Refund · €5.00 — Acme", "to li@example.com"},
		{"a failed refund",
			ev("refund.failed", `{"id":"re_1","object":"refund","amount":500,"currency":"eur","charge":"ch_1","status":"failed","failure_reason":"expired_or_canceled_card"}`), store.Facts{},
			"Refund failed · €5.00 — Acme", "reason: expired or canceled card"},
		{"an early fraud warning",
			ev("radar.early_fraud_warning.created", `{"id":"issfr_1","object":"radar.early_fraud_warning","charge":"ch_1","fraud_type":"made_with_stolen_card","actionable":true}`), store.Facts{Amount: 4900, Currency: "usd", Email: "x@example.com"},
			"Early fraud warning · $49.00 — Acme", "from x@example.com · made with stolen card"},
		{"a renewal",
			ev("charge.succeeded", `{"id":"ch_1","amount":4900,"currency":"usd","invoice":"in_1","billing_details":{"email":"jane@example.com"}}`),
			store.Facts{Reason: "subscription_cycle", Product: "Pro plan", Plan: store.Price{Amount: 4900, Currency: "usd", Interval: "month", Quantity: 1}},
			"Renewal · $49.00 — Acme", "from jane@example.com · Pro plan $49.00/month"},
		{"a new paid subscription",
			ev("charge.succeeded", `{"id":"ch_1","amount":1800,"currency":"usd","billing_details":{"email":"jane@example.com"}}`),
			store.Facts{Reason: "subscription_create", Product: "Team", Plan: store.Price{Amount: 900, Currency: "usd", Interval: "month", Quantity: 2}},
			"New subscription · $18.00 — Acme", "from jane@example.com · Team 2 × $9.00/month"},
		{"a failed renewal",
			ev("charge.failed", `{"id":"ch_1","amount":4900,"currency":"usd","failure_message":"Your card was declined."}`),
			store.Facts{Reason: "subscription_cycle", Product: "Pro plan", Plan: store.Price{Amount: 4900, Currency: "usd", Interval: "month"}},
			"Renewal failed · $49.00 — Acme", "Pro plan $49.00/month · Your card was declined."},
		{"failed payment",
			ev("charge.failed", `{"id":"ch_1","amount":2000,"currency":"gbp","failure_message":"Your card was declined.","billing_details":{"email":"o@x.uk"}}`), store.Facts{},
			"Payment failed · £20.00 — Acme", "from o@x.uk · Your card was declined."},
		{"dispute",
			ev("charge.dispute.created", `{"id":"dp_1","amount":4900,"currency":"usd","charge":"ch_1","reason":"product_not_received","evidence_details":{"due_by":1700600000}}`), store.Facts{},
			"New dispute · $49.00 — Acme", "reason: product not received · respond by Nov 21"},
		{"dispute won",
			ev("charge.dispute.closed", `{"id":"dp_1","amount":4900,"currency":"usd","charge":"ch_1","reason":"fraudulent","status":"won"}`), store.Facts{},
			"Dispute won · $49.00 — Acme", "reason: fraudulent"},
		{"dispute lost",
			ev("charge.dispute.closed", `{"id":"dp_1","amount":4900,"currency":"usd","charge":"ch_1","reason":"fraudulent","status":"lost"}`), store.Facts{},
			"Dispute lost · $49.00 — Acme", "reason: fraudulent"},
		{"payout paid",
			ev("payout.paid", `{"id":"po_1","amount":1234500,"currency":"usd","arrival_date":1700000000,"status":"paid"}`), store.Facts{},
			"Payout paid · $12,345.00 — Acme", "arriving Nov 14"},
		{"payout failed",
			ev("payout.failed", `{"id":"po_1","amount":99000,"currency":"eur","failure_message":"The bank account has been closed."}`), store.Facts{},
			"Payout failed · €990.00 — Acme", "The bank account has been closed."},
		{"subscription created",
			ev("customer.subscription.created", sub("active", "false", "null", 1, "price_1", "null", 4900)), store.Facts{Email: "jane@example.com", Product: "Pro plan"},
			"New subscription — Acme", "jane@example.com · Pro plan · $49.00/month"},
		{"trial created",
			ev("customer.subscription.created", sub("trialing", "false", "null", 2, "price_1", `"Starter"`, 900)), store.Facts{},
			"New trial — Acme", "Starter · 2 × $9.00/month · trial ends Nov 26"},
		{"plan change",
			ev("customer.subscription.updated", sub("active", "false", "null", 1, "price_2", `"Pro"`, 4900),
				`{"items":{"object":"list","data":[{"id":"si_1","quantity":1,"price":{"id":"price_1","nickname":"Basic","unit_amount":900,"currency":"usd","recurring":{"interval":"month"}}}]}}`),
			store.Facts{Email: "jane@example.com"},
			"Subscription changed — Acme", "jane@example.com · plan changed: Basic $9.00/month → Pro $49.00/month"},
		{"quantity change",
			ev("customer.subscription.updated", sub("active", "false", "null", 3, "price_1", "null", 900),
				`{"items":{"object":"list","data":[{"id":"si_1","quantity":1,"price":{"id":"price_1","unit_amount":900,"currency":"usd"}}]}}`),
			store.Facts{}, "Subscription changed — Acme", "quantity 1 → 3"},
		{"cancellation scheduled",
			ev("customer.subscription.updated", sub("active", "true", "1701388800", 1, "price_1", "null", 900), `{"cancel_at_period_end":false,"cancel_at":null}`),
			store.Facts{Email: "jane@example.com"}, "Subscription changed — Acme", "jane@example.com · cancels on Dec 1"},
		{"cancellation withdrawn",
			ev("customer.subscription.updated", sub("active", "false", "null", 1, "price_1", "null", 900), `{"cancel_at_period_end":true,"cancel_at":1701388800}`),
			store.Facts{}, "Subscription changed — Acme", "cancellation withdrawn"},
		{"subscription deleted",
			ev("customer.subscription.deleted", sub("canceled", "false", "null", 1, "price_1", "null", 4900)), store.Facts{Email: "jane@example.com", Product: "Pro plan"},
			"Subscription cancelled — Acme", "jane@example.com · Pro plan · $49.00/month"},
		{"trial will end",
			ev("customer.subscription.trial_will_end", sub("trialing", "false", "null", 1, "price_1", "null", 900)), store.Facts{Product: "Starter"},
			"Trial ending soon — Acme", "Starter · $9.00/month · trial ends Nov 26"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decode(tc.e, Source{Name: "Acme"}).With(tc.d).Text(opt)
			if got.Title != tc.title || got.Body != tc.body {
				t.Fatalf("got\n  %q\n  %q\nwant\n  %q\n  %q", got.Title, got.Body, tc.title, tc.body)
			}
		})
	}
}

func TestHideAmounts(t *testing.T) {
	e := ev("charge.succeeded", `{"id":"ch_1","amount":4900,"currency":"usd","billing_details":{"email":"jane@example.com"}}`)
	h := Decode(e, Source{Name: "Acme"})
	got := h.With(store.Facts{Net: 4728, NetCur: "usd"}).Text(TextOptions{HideAmounts: true})
	// Screen sharing hides who paid as well as how much.
	if strings.Contains(got.Body, "49") || strings.Contains(got.Body, "47") || strings.Contains(got.Body, "jane@example.com") {
		t.Fatalf("hidden amounts: %q", got.Body)
	}
	if strings.Contains(got.Title, "49") {
		t.Fatalf("hidden amounts: %q", got.Title)
	}
	s := Burst("Acme", []Happening{h, h}, TextOptions{HideAmounts: true})
	if strings.Contains(s.Title+s.Body, "$") || s.Title != "2 sales — Acme" {
		t.Fatalf("burst shows amounts: %+v", s)
	}
}

// notifies decodes an event and asks whether it is worth a notification.
func notifies(e store.Event) bool { return Decode(e, Source{}).Notifies() }

func TestOnlyMeaningfulSubscriptionUpdatesNotify(t *testing.T) {
	base := sub("active", "false", "null", 1, "price_1", "null", 900)
	if notifies(ev("customer.subscription.updated", base, `{"metadata":{}}`)) {
		t.Fatal("a metadata change notifies")
	}
	if notifies(ev("customer.subscription.updated", base, `{"current_period_end":1,"latest_invoice":"in_1"}`)) {
		t.Fatal("a renewal bookkeeping change notifies")
	}
	if notifies(ev("customer.subscription.updated", base)) {
		t.Fatal("an update without previous attributes notifies")
	}
	if notifies(ev("customer.subscription.updated", base, `{"status":"incomplete"}`)) {
		t.Fatal("incomplete → active after the first payment notifies")
	}
	if notifies(ev("customer.subscription.updated", sub("past_due", "false", "null", 1, "price_1", "null", 900), `{"status":"active"}`)) {
		t.Fatal("active → past_due after a failed renewal notifies (the failed charge does)")
	}
	if notifies(ev("charge.succeeded", `{"id":"ch_1","amount":100,"currency":"usd","captured":false}`)) {
		t.Fatal("a card hold (manual capture) notifies as a sale")
	}
	if !notifies(ev("charge.captured", `{"id":"ch_1","amount":100,"amount_captured":100,"currency":"usd","captured":true}`)) {
		t.Fatal("a capture does not notify")
	}
	if !notifies(store.Event{Type: "charge.refunded", APIVersion: "2024-06-20", Object: []byte(`{"id":"ch_1","amount":100,"amount_refunded":100,"currency":"usd"}`)}) {
		t.Fatal("charge.refunded is silent where it is the only word of a refund")
	}
	if notifies(ev("invoice.created", `{}`)) {
		t.Fatal("an unknown type notifies")
	}
	// A first invoice is news only when no charge paid it (the charge tells
	// it) and there was something to pay (a trial's or a free plan's is
	// nothing).
	invoice := func(reason, charge string, subtotal int) store.Event {
		return ev("invoice.paid", fmt.Sprintf(`{"id":"in_1","billing_reason":%q,"charge":%s,"subtotal":%d,"amount_paid":0,"currency":"usd"}`, reason, charge, subtotal))
	}
	if notifies(invoice("subscription_cycle", "null", 900)) {
		t.Fatal("a renewal's invoice.paid notifies (its charge does)")
	}
	if notifies(invoice("subscription_create", `"ch_1"`, 900)) {
		t.Fatal("a sign-up paid by a charge notifies twice")
	}
	if notifies(invoice("subscription_create", "null", 0)) {
		t.Fatal("a trial's invoice of nothing notifies as a sign-up")
	}
	if !notifies(invoice("subscription_create", "null", 900)) {
		t.Fatal("a sign-up whose first month is free is never told")
	}
}

func TestBurstKeepsCurrenciesApart(t *testing.T) {
	var events []store.Event
	for range 30 {
		events = append(events, ev("charge.succeeded", `{"amount":1000,"currency":"usd"}`))
	}
	for range 4 {
		events = append(events, ev("charge.succeeded", `{"amount":500,"currency":"jpy"}`))
	}
	events = append(events, ev("charge.refunded", `{"amount":1000,"amount_refunded":1000,"currency":"usd"}`),
		ev("customer.subscription.created", sub("active", "false", "null", 1, "p", "null", 900)))
	var hs []Happening
	for _, e := range events {
		hs = append(hs, Decode(e, Source{}))
	}
	s := Burst("Acme", hs, TextOptions{Money: NewMoney("en-US")})
	// The title counts in words, two kinds at most; the amounts are in the
	// body, never "events".
	if s.Title != "34 sales · 1 refund · 1 more — Acme" {
		t.Fatalf("title %q", s.Title)
	}
	want := "34 sales: $300.00 + ¥2,000\n1 refund: $10.00\nLatest: New subscription · $9.00/month"
	if s.Body != want {
		t.Fatalf("body\n got %q\nwant %q", s.Body, want)
	}
}

// One kind in a burst leads with its count and total; the newest is told.
func TestBurstOfOneKind(t *testing.T) {
	var hs []Happening
	for i, amount := range []int{1000, 2500, 4900} {
		e := ev("charge.succeeded", fmt.Sprintf(`{"id":"ch_%d","amount":%d,"currency":"usd","billing_details":{"email":"c%d@example.com"}}`, i, amount, i))
		hs = append(hs, Decode(e, Source{Name: "Acme"}))
	}
	got := Burst("Acme", hs, TextOptions{Money: NewMoney("en-US")})
	if got.Title != "3 sales · $84.00 — Acme" || got.Body != "Latest: New sale · $49.00 · from c2@example.com" {
		t.Fatalf("%+v", got)
	}
}

func TestMinimumIsTypedWithDecimals(t *testing.T) {
	for text, want := range map[string]int64{"": 0, "5": 5000, "5.5": 5500, "5.50": 5500, "5,50": 5500, " 0.125 ": 125, ".5": 500, "12.": 12000} {
		if got, err := store.ParseMinimum(text); err != nil || got != want {
			t.Errorf("ParseMinimum(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	for _, text := range []string{"5.5555", "-1", "1e3", "five", ".", "1.2.3", "1,000.50", "9999999999999"} {
		if _, err := store.ParseMinimum(text); err == nil {
			t.Errorf("ParseMinimum(%q) took it", text)
		}
	}
	for milli, want := range map[int64]string{0: "", 5000: "5", 5500: "5.50", 125: "0.125", 5050: "5.05"} {
		if got := store.FormatMinimum(milli); got != want {
			t.Errorf("FormatMinimum(%d) = %q, want %q", milli, got, want)
		}
	}
	// The minimum holds in each currency's own unit, exactly.
	for _, tc := range []struct {
		amount   int64
		currency string
		below    bool
	}{{549, "usd", true}, {550, "usd", false}, {5, "jpy", true}, {6, "jpy", false}, {5499, "kwd", true}, {5500, "kwd", false}} {
		h := Happening{Amount: tc.amount, Currency: tc.currency}
		if got := h.Below(5500); got != tc.below {
			t.Errorf("%d %s below 5.50: %v", tc.amount, tc.currency, got)
		}
	}
}

func TestDashboardURL(t *testing.T) {
	cases := []struct {
		e         store.Event
		live      bool
		connected string
		want      string
	}{
		{ev("charge.succeeded", `{"id":"ch_1"}`), true, "", "https://dashboard.stripe.com/payments/ch_1"},
		{ev("charge.refunded", `{"id":"ch_1"}`), false, "", "https://dashboard.stripe.com/test/payments/ch_1"},
		{ev("charge.dispute.created", `{"id":"dp_1","charge":"ch_9"}`), true, "", "https://dashboard.stripe.com/payments/ch_9"},
		{ev("payout.paid", `{"id":"po_1"}`), true, "acct_7", "https://dashboard.stripe.com/acct_7/payouts/po_1"},
		{ev("customer.subscription.updated", `{"id":"sub_1"}`), false, "acct_7", "https://dashboard.stripe.com/acct_7/test/subscriptions/sub_1"},
	}
	for _, tc := range cases {
		if got := Decode(tc.e, Source{Live: tc.live, Connected: tc.connected}).Link; got != tc.want {
			t.Errorf("%s: %s, want %s", tc.e.Type, got, tc.want)
		}
	}
}

func TestMoneyFormats(t *testing.T) {
	m := NewMoney("en-US")
	cases := []struct {
		minor int64
		cur   string
		want  string
	}{
		{4900, "usd", "$49.00"}, {5, "usd", "$0.05"}, {-250, "usd", "-$2.50"},
		{500, "jpy", "¥500"}, {1000000, "krw", "₩1,000,000"}, {1250, "kwd", "KWD\u00a01.250"},
		{5, "bhd", "BHD\u00a00.005"}, {123456789, "eur", "€1,234,567.89"}, {100, "xyz", "1.00 XYZ"},
	}
	for _, tc := range cases {
		if got := m.Format(tc.minor, tc.cur); got != tc.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tc.minor, tc.cur, got, tc.want)
		}
	}
	if got := NewMoney("fr_FR.UTF-8").Format(123456, "eur"); !strings.HasPrefix(got, "1") || !strings.HasSuffix(got, "234,56\u00a0€") {
		t.Errorf("fr-FR: %q", got)
	}
}

func FuzzDescribe(f *testing.F) {
	for _, seed := range []string{
		`{"id":"ch_1","amount":4900,"currency":"usd"}`,
		`{"amount":"lots","currency":7,"billing_details":[]}`,
		`{"items":{"data":[{"price":"x","quantity":"2"}]}}`,
		`{"items":{"data":"none"},"cancel_at":"soon"}`,
		`[]`, `null`, `{"amount":1e400}`, ``,
	} {
		f.Add("charge.succeeded", seed, `{"status":3}`)
		f.Add("customer.subscription.updated", seed, `{"items":{"data":[{"price":{"unit_amount":"9"}}]},"cancel_at_period_end":"yes"}`)
	}
	types := append([]string{"unknown.type"}, ListedTypes()...)
	f.Fuzz(func(t *testing.T, typ, object, previous string) {
		for _, ty := range append(types, typ) {
			e := store.Event{ID: "evt_f", Type: ty, Object: json.RawMessage(object), Previous: json.RawMessage(previous)}
			h := Decode(e, Source{Name: "Acme", Live: true})
			got := h.Text(TextOptions{})
			if !strings.HasSuffix(got.Title, " — Acme") || !utf8.ValidString(got.Body) && utf8.ValidString(object) {
				t.Fatalf("bad text for %s %q: %+v", ty, object, got)
			}
			h.Notifies()
			h.AmountText(TextOptions{})
			Burst("Acme", []Happening{h, h}, TextOptions{})
			if !strings.HasPrefix(h.Link, "https://dashboard.stripe.com/") {
				t.Fatalf("link %q", h.Link)
			}
		}
	})
}

// Burst is the text of one notification for several happenings of an
// account, oldest first, as a burst shows them.
func Burst(account string, hs []Happening, opt TextOptions) Text {
	var b Tally
	for _, h := range hs {
		b.Add(h)
	}
	return b.Text(account, opt)
}
