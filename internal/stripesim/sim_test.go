package stripesim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
)

type fixture struct {
	sim     *fakestripe.Stripe
	account string
	key     string
	gen     *stripesim.Generator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sim := fakestripe.New(stripesim.Options{}).Start()
	t.Cleanup(sim.Close)
	acct := sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme", Icon: []byte("\x89PNG fake")})
	key := sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	return &fixture{sim: sim, account: acct, key: key, gen: sim.Generator(acct, false, 1)}
}

func apiClient(sim *fakestripe.Stripe, key string, timeout time.Duration) *client.API {
	cfg := &stripe.BackendConfig{
		URL:               stripe.String(sim.URL),
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		HTTPClient:        &http.Client{Timeout: timeout},
	}
	return client.New(key, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	})
}

func (f *fixture) client() *client.API { return apiClient(f.sim, f.key, 5*time.Second) }

func listIDs(t *testing.T, c *client.API, p *stripe.EventListParams) ([]string, bool) {
	t.Helper()
	p.Single = true
	it := c.Events.List(p)
	var ids []string
	for it.Next() {
		ids = append(ids, it.Event().ID)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("list events: %v", err)
	}
	return ids, it.Meta().HasMore
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func reverse(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[len(ids)-1-i] = id
	}
	return out
}

func TestEventsNewestFirstWithCursors(t *testing.T) {
	f := newFixture(t)
	var created []string
	for range 7 {
		id, _ := f.gen.Sale(f.gen.RandomSale())
		created = append(created, id)
	}
	newest := reverse(created)
	c := f.client()

	got, more := listIDs(t, c, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(3)}})
	if !equal(got, newest[:3]) || !more {
		t.Fatalf("first page = %v more=%v, want %v more=true", got, more, newest[:3])
	}
	got, more = listIDs(t, c, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(3), StartingAfter: stripe.String(newest[2])}})
	if !equal(got, newest[3:6]) || !more {
		t.Fatalf("starting_after page = %v more=%v, want %v", got, more, newest[3:6])
	}
	got, more = listIDs(t, c, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(3), StartingAfter: stripe.String(newest[5])}})
	if !equal(got, newest[6:]) || more {
		t.Fatalf("last page = %v more=%v, want %v more=false", got, more, newest[6:])
	}
	// ending_before gives the page nearest the cursor. Stripe sends it newest
	// first and stripe-go's iterator turns it around to walk towards newer events.
	got, more = listIDs(t, c, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(2), EndingBefore: stripe.String(newest[4])}})
	if !equal(got, reverse(newest[2:4])) || !more {
		t.Fatalf("ending_before page = %v more=%v, want %v more=true", got, more, newest[2:4])
	}
	got, more = listIDs(t, c, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(5), EndingBefore: stripe.String(newest[1])}})
	if !equal(got, newest[:1]) || more {
		t.Fatalf("ending_before near the top = %v more=%v", got, more)
	}
}

func TestEventsFilterByCreatedAndTypes(t *testing.T) {
	f := newFixture(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var ids []string
	for i := range 5 {
		id, _ := f.gen.At(base.Add(time.Duration(i) * time.Minute)).Sale(f.gen.RandomSale())
		ids = append(ids, id)
	}
	payout := f.gen.At(base.Add(10*time.Minute)).Payout(100000, "usd", false)
	c := f.client()

	cases := []struct {
		name  string
		rng   *stripe.RangeQueryParams
		types []string
		want  []string
	}{
		{"gte", &stripe.RangeQueryParams{GreaterThanOrEqual: base.Add(3 * time.Minute).Unix()}, nil, []string{payout, ids[4], ids[3]}},
		{"gt", &stripe.RangeQueryParams{GreaterThan: base.Add(3 * time.Minute).Unix()}, nil, []string{payout, ids[4]}},
		{"lt", &stripe.RangeQueryParams{LesserThan: base.Add(2 * time.Minute).Unix()}, nil, []string{ids[1], ids[0]}},
		{"lte", &stripe.RangeQueryParams{LesserThanOrEqual: base.Add(1 * time.Minute).Unix()}, nil, []string{ids[1], ids[0]}},
		{"types", nil, []string{"payout.paid"}, []string{payout}},
		{"types and range", &stripe.RangeQueryParams{LesserThan: base.Add(time.Minute).Unix()}, []string{"charge.succeeded", "payout.paid"}, []string{ids[0]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &stripe.EventListParams{CreatedRange: tc.rng}
			for _, typ := range tc.types {
				p.Types = append(p.Types, stripe.String(typ))
			}
			got, _ := listIDs(t, c, p)
			if !equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEventsOlderThan30DaysAreGoneAndHiddenEventsAppearLate(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	sim := fakestripe.New(stripesim.Options{Now: clock}).Start()
	t.Cleanup(sim.Close)
	acct := sim.CreateAccount(stripesim.AccountSpec{})
	key := sim.NewKey(acct, true, stripesim.Restricted, stripesim.PermEventRead)
	gen := sim.Generator(acct, true, 2)
	gen.At(now.Add(-31*24*time.Hour)).Payout(100, "usd", false)
	kept := gen.At(now.Add(-29*24*time.Hour)).Payout(100, "usd", false)
	late := gen.Hidden(time.Minute).Payout(200, "usd", false)
	c := apiClient(sim, key, 5*time.Second)

	got, _ := listIDs(t, c, &stripe.EventListParams{})
	if !equal(got, []string{kept}) {
		t.Fatalf("before visibility: %v, want only %s", got, kept)
	}
	now = now.Add(2 * time.Minute)
	got, _ = listIDs(t, c, &stripe.EventListParams{})
	if !equal(got, []string{late, kept}) {
		t.Fatalf("after visibility: %v, want %v", got, []string{late, kept})
	}
	ev, err := c.Events.Get(late, nil)
	if err != nil || ev.Type != "payout.paid" || !ev.Livemode {
		t.Fatalf("get event: %+v %v", ev, err)
	}
}

func TestBadListParametersAreRefusedLikeStripe(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	_, err := c.Events.Get("evt_missing", nil)
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != 404 || se.Code != stripe.ErrorCodeResourceMissing {
		t.Fatalf("missing event: %v", err)
	}
	it := c.Events.List(&stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(101), Single: true}})
	it.Next()
	if !errors.As(it.Err(), &se) || se.HTTPStatusCode != 400 || se.Param != "limit" {
		t.Fatalf("limit 101: %v", it.Err())
	}
	p := &stripe.EventListParams{ListParams: stripe.ListParams{Single: true}}
	for i := range 21 {
		p.Types = append(p.Types, stripe.String("charge.x"+string(rune('a'+i))))
	}
	it = c.Events.List(p)
	it.Next()
	if !errors.As(it.Err(), &se) || se.HTTPStatusCode != 400 {
		t.Fatalf("21 types: %v", it.Err())
	}
}

func TestEveryReadNeedsItsPermission(t *testing.T) {
	f := newFixture(t)
	_, ch := f.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com", Country: "FR", Product: "Pro plan"})
	f.gen.Payout(10000, "usd", false)
	f.gen.Subscribe("omar@example.com", stripesim.Plan{Product: "Team plan", Amount: 9900, Currency: "usd", Interval: "month"}, 0)

	reads := map[string]func(c *client.API) error{
		stripesim.PermEventRead: func(c *client.API) error {
			it := c.Events.List(&stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermBalanceRead: func(c *client.API) error { _, err := c.Balance.Get(nil); return err },
		stripesim.PermBalanceTransactionRead: func(c *client.API) error {
			it := c.BalanceTransactions.List(&stripe.BalanceTransactionListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermCustomerRead: func(c *client.API) error {
			it := c.Customers.List(&stripe.CustomerListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermInvoiceRead: func(c *client.API) error {
			it := c.Invoices.List(&stripe.InvoiceListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermProductRead: func(c *client.API) error {
			it := c.Products.List(&stripe.ProductListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermSubscriptionRead: func(c *client.API) error {
			it := c.Subscriptions.List(&stripe.SubscriptionListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermPayoutRead: func(c *client.API) error {
			it := c.Payouts.List(&stripe.PayoutListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermAccountsKYCBasicRead: func(c *client.API) error { _, err := c.Accounts.Get(); return err },
		stripesim.PermChargeRead: func(c *client.API) error {
			it := c.Charges.List(&stripe.ChargeListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermDisputeRead: func(c *client.API) error {
			it := c.Disputes.List(&stripe.DisputeListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermPlanRead: func(c *client.API) error {
			it := c.Prices.List(&stripe.PriceListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(1), Single: true}})
			it.Next()
			return it.Err()
		},
		stripesim.PermFileWrite: func(c *client.API) error {
			_, err := c.FileLinks.New(&stripe.FileLinkParams{File: stripe.String("file_icon")})
			return err
		},
	}
	for perm, read := range reads {
		t.Run(perm, func(t *testing.T) {
			var others []string
			for _, p := range stripesim.AllPermissions {
				if p != perm {
					others = append(others, p)
				}
			}
			key := f.sim.NewKey(f.account, false, stripesim.Restricted, others...)
			err := read(apiClient(f.sim, key, 5*time.Second))
			var se *stripe.Error
			if !errors.As(err, &se) || se.HTTPStatusCode != 403 || se.Type != stripe.ErrorTypeInvalidRequest {
				t.Fatalf("without %s: %v, want a 403 invalid_request_error", perm, err)
			}
			want := "The provided key 'rk_test_*****" + key[len(key)-4:] + "' does not have the required permissions for this endpoint on account '" +
				f.account + "'. Having the '" + perm + "' permission would allow this request to continue."
			if se.Msg != want {
				t.Fatalf("message:\n got %q\nwant %q", se.Msg, want)
			}
			if err := read(apiClient(f.sim, f.key, 5*time.Second)); err != nil {
				t.Fatalf("with every permission: %v", err)
			}
		})
	}
	c := f.client()
	charge, err := c.Charges.Get(ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	txn, err := c.BalanceTransactions.Get(charge.BalanceTransaction.ID, nil)
	if err != nil || txn.Fee != 4900*29/1000+30 || txn.Net != 4900-txn.Fee {
		t.Fatalf("balance transaction: %+v %v", txn, err)
	}
	inv, err := c.Invoices.Get(charge.Invoice.ID, nil)
	if err != nil || len(inv.Lines.Data) != 1 {
		t.Fatalf("invoice: %+v %v", inv, err)
	}
	prod, err := c.Products.Get(inv.Lines.Data[0].Price.Product.ID, nil)
	if err != nil || prod.Name != "Pro plan" {
		t.Fatalf("product: %+v %v", prod, err)
	}
	cus, err := c.Customers.Get(charge.Customer.ID, nil)
	if err != nil || cus.Email != "jane@example.com" {
		t.Fatalf("customer: %+v %v", cus, err)
	}
}

func TestSecretKeysReadEverything(t *testing.T) {
	f := newFixture(t)
	key := f.sim.NewKey(f.account, true, stripesim.Secret)
	acct, err := apiClient(f.sim, key, 5*time.Second).Accounts.Get()
	if err != nil || acct.ID != f.account || acct.Settings.Dashboard.DisplayName != "Acme" {
		t.Fatalf("account: %+v %v", acct, err)
	}
}

func TestUnknownRevokedAndExpiredKeys(t *testing.T) {
	f := newFixture(t)
	var se *stripe.Error
	_, err := apiClient(f.sim, "rk_test_unknownkeyabcd", time.Second).Balance.Get(nil)
	if !errors.As(err, &se) || se.HTTPStatusCode != 401 || se.Msg != "Invalid API Key provided: rk_test_****abcd" {
		t.Fatalf("unknown key: %v", err)
	}
	f.sim.RevokeKey(f.key)
	_, err = f.client().Balance.Get(nil)
	if !errors.As(err, &se) || se.HTTPStatusCode != 401 || se.Type != stripe.ErrorTypeInvalidRequest || strings.Contains(se.Msg, f.key) {
		t.Fatalf("revoked key: %v", err)
	}
	key := f.sim.NewKey(f.account, false, stripesim.Restricted, stripesim.AllPermissions...)
	f.sim.ExpireKey(key)
	_, err = apiClient(f.sim, key, time.Second).Balance.Get(nil)
	if !errors.As(err, &se) || se.HTTPStatusCode != 401 || se.Code != stripe.ErrorCodeAPIKeyExpired {
		t.Fatalf("expired key: %v", err)
	}
}

func TestLiveAndTestDataAreSeparate(t *testing.T) {
	f := newFixture(t)
	f.gen.Sale(f.gen.RandomSale())
	liveKey := f.sim.NewKey(f.account, true, stripesim.Restricted, stripesim.PermEventRead)
	got, _ := listIDs(t, apiClient(f.sim, liveKey, time.Second), &stripe.EventListParams{})
	if len(got) != 0 {
		t.Fatalf("live key sees test events: %v", got)
	}
}

func TestConnectedAccountThroughStripeAccountHeader(t *testing.T) {
	f := newFixture(t)
	connected := f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Shop on Acme", Platform: f.account})
	stranger := f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Not yours"})
	evt, _ := f.sim.Generator(connected, false, 3).Sale(stripesim.Sale{Amount: 1000, Currency: "eur"})
	c := f.client()

	p := &stripe.EventListParams{}
	p.SetStripeAccount(connected)
	got, _ := listIDs(t, c, p)
	if !equal(got, []string{evt}) {
		t.Fatalf("connected events: %v, want %s", got, evt)
	}
	ev, err := c.Events.Get(evt, &stripe.EventParams{Params: stripe.Params{StripeAccount: stripe.String(connected)}})
	if err != nil || ev.Account != connected {
		t.Fatalf("event.account = %q, %v", ev.Account, err)
	}
	own, _ := listIDs(t, c, &stripe.EventListParams{})
	if len(own) != 0 {
		t.Fatalf("platform sees connected events without the header: %v", own)
	}
	p = &stripe.EventListParams{}
	p.SetStripeAccount(stranger)
	it := c.Events.List(p)
	it.Next()
	var se *stripe.Error
	if !errors.As(it.Err(), &se) || se.HTTPStatusCode != 403 || se.Code != "account_invalid" {
		t.Fatalf("stranger: %v", it.Err())
	}
}

func TestFileLinksGiveADownloadableURL(t *testing.T) {
	f := newFixture(t)
	link, err := f.client().FileLinks.New(&stripe.FileLinkParams{File: stripe.String("file_icon")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link.URL, "http://127.0.0.1:") {
		t.Fatalf("url %q is not on loopback", link.URL)
	}
	resp, err := http.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "\x89PNG fake" {
		t.Fatalf("download: %d %q", resp.StatusCode, body)
	}
	_, err = f.client().FileLinks.New(&stripe.FileLinkParams{File: stripe.String("file_nope")})
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode != 404 {
		t.Fatalf("missing file: %v", err)
	}
}

func TestInjectedFaults(t *testing.T) {
	f := newFixture(t)
	f.gen.Sale(f.gen.RandomSale())
	c := f.client()
	list := func(c *client.API) error {
		it := c.Events.List(&stripe.EventListParams{ListParams: stripe.ListParams{Single: true}})
		for it.Next() {
		}
		return it.Err()
	}
	var se *stripe.Error

	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.RateLimit, Times: 2})
	for range 2 {
		if err := list(c); !errors.As(err, &se) || se.HTTPStatusCode != 429 || se.Code != stripe.ErrorCodeRateLimit {
			t.Fatalf("rate limit: %v", err)
		}
	}
	if err := list(c); err != nil {
		t.Fatalf("after the fault: %v", err)
	}

	for _, status := range []int{500, 502, 503} {
		f.sim.Inject(fakestripe.Fault{Kind: fakestripe.ServerError, Status: status, Path: "/v1/events"})
		if err := list(c); !errors.As(err, &se) || se.HTTPStatusCode != status {
			t.Fatalf("server error %d: %v", status, err)
		}
	}

	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.Slow, Delay: 2 * time.Second})
	start := time.Now()
	if err := list(apiClient(f.sim, f.key, 200*time.Millisecond)); err == nil || time.Since(start) > time.Second {
		t.Fatalf("slow answer did not time out the client: %v after %v", err, time.Since(start))
	}

	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.Drop})
	if err := list(c); err == nil || errors.As(err, &se) {
		t.Fatalf("dropped connection: %v, want a transport error", err)
	}

	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.BrokenJSON})
	var syntax *json.SyntaxError
	if err := list(c); err == nil || (!errors.As(err, &syntax) && !strings.Contains(err.Error(), "unexpected end of JSON")) {
		t.Fatalf("broken JSON: %v", err)
	}

	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.HTML})
	if err := list(c); err == nil {
		t.Fatal("HTML answer was accepted")
	}

	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.Huge, Size: 1 << 20})
	if err := list(c); err != nil {
		t.Fatalf("a 1 MiB padded answer is still valid JSON: %v", err)
	}
}

func TestShouldRetryHeaderOn429(t *testing.T) {
	f := newFixture(t)
	f.sim.Inject(fakestripe.Fault{Kind: fakestripe.RateLimit})
	req, _ := http.NewRequest("GET", f.sim.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+f.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Stripe-Should-Retry") != "true" {
		t.Fatalf("429: status %d, Stripe-Should-Retry %q", resp.StatusCode, resp.Header.Get("Stripe-Should-Retry"))
	}
}

func TestRateLimitPerKeyInTestMode(t *testing.T) {
	sim := fakestripe.New(stripesim.Options{RateLimit: true}).Start()
	t.Cleanup(sim.Close)
	acct := sim.CreateAccount(stripesim.AccountSpec{})
	c := apiClient(sim, sim.NewKey(acct, false, stripesim.Secret), time.Second)
	limited := 0
	for range 60 {
		if _, err := c.Balance.Get(nil); err != nil {
			var se *stripe.Error
			if !errors.As(err, &se) || se.HTTPStatusCode != 429 {
				t.Fatalf("unexpected error %v", err)
			}
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("60 reads in about a second were never limited in test mode")
	}
}

func TestChaosFailsAShareOfRequests(t *testing.T) {
	f := newFixture(t)
	f.sim.SetChaos(0.5, 7, 0, fakestripe.RateLimit, fakestripe.ServerError)
	c := f.client()
	failed := 0
	for range 40 {
		if _, err := c.Balance.Get(nil); err != nil {
			failed++
		}
	}
	if failed < 8 || failed > 32 {
		t.Fatalf("%d of 40 failed at a 50%% rate", failed)
	}
	f.sim.ClearFaults()
	if _, err := c.Balance.Get(nil); err != nil {
		t.Fatal(err)
	}
}

func TestGeneratorMakesEveryKindOfEvent(t *testing.T) {
	f := newFixture(t)
	g := f.gen
	_, ch := g.Sale(stripesim.Sale{Amount: 500, Currency: "jpy", Email: "kenji@example.com", Country: "JP"})
	g.Refund(ch, 200)
	g.Dispute(ch, "fraudulent")
	g.FailedCharge(stripesim.Sale{Amount: 1250, Currency: "kwd"}, "Your card was declined.")
	g.Payout(99000, "eur", false)
	g.Payout(99000, "eur", true)
	_, sub := g.Subscribe("sofia@example.com", stripesim.Plan{Product: "Starter plan", Amount: 900, Currency: "usd", Interval: "month"}, 3*24*time.Hour)
	g.ChangePlan(sub, stripesim.Plan{Product: "Pro plan", Amount: 4900, Currency: "usd", Interval: "month"})
	g.ChangeQuantity(sub, 3)
	g.ScheduleCancel(sub, true)
	g.TrialWillEnd(sub)
	g.CancelSubscription(sub)

	c := f.client()
	it := c.Events.List(&stripe.EventListParams{})
	types := map[string]int{}
	for it.Next() {
		ev := it.Event()
		types[string(ev.Type)]++
		if ev.Type == "charge.refunded" && ev.GetObjectValue("amount_refunded") != "200" {
			t.Errorf("refund amount_refunded = %s", ev.GetObjectValue("amount_refunded"))
		}
		if ev.Type == "customer.subscription.updated" && len(ev.Data.PreviousAttributes) == 0 {
			t.Errorf("update %s has no previous_attributes", ev.ID)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"charge.succeeded": 1, "charge.refunded": 1, "charge.dispute.created": 1, "charge.failed": 1,
		"payout.paid": 1, "payout.failed": 1, "customer.subscription.created": 1, "customer.subscription.updated": 3,
		"customer.subscription.trial_will_end": 1, "customer.subscription.deleted": 1}
	for typ, n := range want {
		if types[typ] != n {
			t.Errorf("%s: %d events, want %d", typ, types[typ], n)
		}
	}
	before := len(f.sim.EventIDs(f.account, false))
	for range 200 {
		g.Random()
	}
	if n := len(f.sim.EventIDs(f.account, false)) - before; n < 200 {
		t.Fatalf("%d events after 200 random ones", n)
	}
}

func TestGeneratorRunStopsWithContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { f.gen.Run(ctx, 10*time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
	if n := len(f.sim.EventIDs(f.account, false)); n < 3 {
		t.Fatalf("only %d events in 120ms at one per 10ms", n)
	}
}

// The demo's shop sells its catalogue, mostly in dollars: its first minute
// reads like a real shop, not random dinars and yen.
func TestShopLooksLikeOneShop(t *testing.T) {
	f := newFixture(t)
	g := f.gen.Shop()
	byCurrency := map[string]int{}
	for range 300 {
		s := g.RandomSale()
		byCurrency[s.Currency]++
		if s.Product == "" || s.Amount%100 != 0 {
			t.Fatalf("a sale off the catalogue: %+v", s)
		}
	}
	if len(byCurrency) > 3 || byCurrency["usd"] < 200 || byCurrency["kwd"]+byCurrency["jpy"] > 0 {
		t.Fatalf("currencies %v", byCurrency)
	}
}
