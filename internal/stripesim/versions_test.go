package stripesim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testclock"
)

// get asks the simulator with a plain HTTP client, so that headers show.
func get(t *testing.T, sim *fakestripe.Stripe, key, path, version string, header ...string) (map[string]any, http.Header, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if version != "" {
		req.Header.Set("Stripe-Version", version)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m, resp.Header, resp.StatusCode
}

// eventsOf lists an account's events by type, oldest first.
func eventsOf(t *testing.T, sim *fakestripe.Stripe, key string) map[string][]map[string]any {
	t.Helper()
	list, _, _ := get(t, sim, key, "/v1/events?limit=100", "")
	out := map[string][]map[string]any{}
	data := list["data"].([]any)
	for i := len(data) - 1; i >= 0; i-- {
		e := data[i].(map[string]any)
		out[e["type"].(string)] = append(out[e["type"].(string)], e)
	}
	return out
}

func object(e map[string]any) map[string]any {
	return e["data"].(map[string]any)["object"].(map[string]any)
}

// Each account speaks its API version: in its events and in every answer to
// a request that names no version; a request that names one gets that one.
func TestEachAccountSpeaksItsVersion(t *testing.T) {
	for _, v := range stripesim.Versions {
		t.Run(v, func(t *testing.T) {
			sim, key, g := simAt(t, v)
			_, ch := g.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com", Product: "Pro plan"})
			_, sub := g.Subscribe("omar@example.com", stripesim.Plan{Product: "Team", Amount: 900, Currency: "usd", Interval: "month"}, 0)
			g.Refund(ch, 1000)
			basil := strings.HasPrefix(v, "2025") || strings.HasPrefix(v, "2026")
			async := v != stripesim.Version20231016

			byType := eventsOf(t, sim, key)
			for typ, evs := range byType {
				for _, e := range evs {
					if e["api_version"] != v {
						t.Fatalf("%s has api_version %v", typ, e["api_version"])
					}
				}
			}
			sale := object(byType["charge.succeeded"][0])
			if _, has := sale["invoice"]; has == basil {
				t.Errorf("charge.invoice present = %v at %s", has, v)
			}
			if (sale["balance_transaction"] == nil) != async || (len(byType["charge.updated"]) > 0) != async {
				t.Errorf("async capture at %s: balance_transaction %v, %d charge.updated", v, sale["balance_transaction"], len(byType["charge.updated"]))
			}
			if async {
				up := byType["charge.updated"][0]
				if object(up)["balance_transaction"] == nil || up["data"].(map[string]any)["previous_attributes"].(map[string]any)["balance_transaction"] != nil {
					t.Errorf("charge.updated does not bring the balance transaction: %v", up)
				}
			}
			created := object(byType["customer.subscription.created"][0])
			item := created["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
			if _, top := created["current_period_end"]; top == basil {
				t.Errorf("subscription.current_period_end at the top = %v at %s", top, v)
			}
			if _, onItem := item["current_period_end"]; onItem != basil {
				t.Errorf("items[].current_period_end = %v at %s", onItem, v)
			}
			inv := object(byType["invoice.paid"][0])
			line := inv["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)
			if basil {
				if inv["parent"].(map[string]any)["subscription_details"].(map[string]any)["subscription"] != sub || line["pricing"] == nil || line["price"] != nil {
					t.Errorf("basil invoice: parent %v, line %v", inv["parent"], line)
				}
			} else if inv["subscription"] != sub || line["price"] == nil {
				t.Errorf("invoice before basil: subscription %v, line %v", inv["subscription"], line)
			}
			if (len(byType["refund.created"]) > 0) != basil || len(byType["charge.refunded"]) != 1 {
				t.Errorf("refund events at %s: %d refund.created, %d charge.refunded", v, len(byType["refund.created"]), len(byType["charge.refunded"]))
			}
			// Direct reads follow the request's version, then the account's.
			_, h, _ := get(t, sim, key, "/v1/charges/"+ch, "")
			if h.Get("Stripe-Version") != v {
				t.Errorf("Stripe-Version %q, want %q", h.Get("Stripe-Version"), v)
			}
			old, h, _ := get(t, sim, key, "/v1/charges/"+ch, stripesim.Version20231016)
			if _, has := old["invoice"]; !has || h.Get("Stripe-Version") != stripesim.Version20231016 {
				t.Errorf("a 2023-10-16 read of a charge: invoice present %v, version %q", has, h.Get("Stripe-Version"))
			}
			refunds, _, _ := get(t, sim, key, "/v1/refunds?charge="+ch, "")
			if data := refunds["data"].([]any); len(data) != 1 || data[0].(map[string]any)["amount"].(float64) != 1000 {
				t.Errorf("refunds of the charge: %v", refunds)
			}
		})
	}
}

// GET /v1/account has three answers for a restricted key, and a restricted
// key without Connect permissions cannot use Stripe-Account.
func TestAccountReadAndConnectRefusals(t *testing.T) {
	sim := fakestripe.New(stripesim.Options{}).Start()
	defer sim.Close()
	without := func(perm string) []string {
		var out []string
		for _, p := range stripesim.AllPermissions {
			if p != perm {
				out = append(out, p)
			}
		}
		return out
	}
	for read, want := range map[stripesim.AccountRead]string{
		stripesim.AccountReadKYCBasic:             "Having the 'rak_accounts_kyc_basic_read' permission would allow this request to continue.",
		stripesim.AccountReadKYCIDNumbers:         "Having the 'rak_accounts_kyc_id_numbers_read' permission would allow this request to continue.",
		stripesim.AccountReadNotForRestrictedKeys: "This is a restricted API key, but the required permissions are not available for use by restricted keys.",
	} {
		acct := sim.CreateAccount(stripesim.AccountSpec{AccountRead: read})
		key := sim.NewKey(acct, false, stripesim.Restricted, without(string(read))...)
		body, _, status := get(t, sim, key, "/v1/account", "")
		msg := body["error"].(map[string]any)["message"].(string)
		if status != 403 || !strings.HasSuffix(msg, want) {
			t.Errorf("%s: %d %q", read, status, msg)
		}
	}
	platform := sim.CreateAccount(stripesim.AccountSpec{})
	connected := sim.CreateAccount(stripesim.AccountSpec{Platform: platform})
	key := sim.NewKey(platform, false, stripesim.Restricted, without(stripesim.PermConnectedAccountRead)...)
	body, _, status := get(t, sim, key, "/v1/events", "", "Stripe-Account", connected)
	if msg := body["error"].(map[string]any)["message"]; status != 403 || msg != "You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions." {
		t.Errorf("no Connect permissions: %d %v", status, msg)
	}
}

// A file link with expires_at serves its file until then, and nothing after.
func TestFileLinksExpire(t *testing.T) {
	clock := testclock.New(time.Now())
	sim := fakestripe.New(stripesim.Options{Now: clock.Now}).Start()
	defer sim.Close()
	acct := sim.CreateAccount(stripesim.AccountSpec{Icon: []byte("\\x89PNG icon")})
	key := sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	form := url.Values{"file": {"file_icon"}, "expires_at": {itoa(clock.Now().Add(5 * time.Minute).Unix())}}
	req, _ := http.NewRequest(http.MethodPost, sim.URL+"/v1/file_links", strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var link map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&link)
	resp.Body.Close()
	fetch := func() int {
		r, err := http.Get(link["url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if link["expires_at"] == nil || fetch() != 200 {
		t.Fatalf("link %v", link)
	}
	clock.Advance(6 * time.Minute)
	if fetch() != 404 {
		t.Fatal("an expired link still serves the file")
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A subscription's discounts at each version: until 2024-06-20 the first
// one whole in discount, from basil none; in discounts ids unless expanded;
// from 2025-09-30.clover the coupon under source.coupon.
func TestSubscriptionDiscountsAtEachVersion(t *testing.T) {
	for _, v := range stripesim.Versions {
		t.Run(v, func(t *testing.T) {
			sim, key, g := simAt(t, v)
			_, sub := g.Subscribe("omar@example.com", stripesim.Plan{Product: "Team", Amount: 900, Currency: "usd", Interval: "month"}, 0)
			g.ApplyCoupon(sub, stripesim.Coupon{Duration: "forever", PercentOff: 25})
			basil := strings.HasPrefix(v, "2025") || strings.HasPrefix(v, "2026")
			evs := eventsOf(t, sim, key)["customer.subscription.updated"]
			got := object(evs[len(evs)-1])
			ids, _ := got["discounts"].([]any)
			if len(ids) != 1 {
				t.Fatalf("discounts %v", got["discounts"])
			}
			if _, isID := ids[0].(string); !isID {
				t.Errorf("an event expands discounts at %s", v)
			}
			if d, has := got["discount"]; has == basil || !basil && d == nil {
				t.Errorf("discount %v (present %v) at %s", d, has, v)
			}
			whole, _, _ := get(t, sim, key, "/v1/subscriptions/"+sub+"?expand[]=discounts", v)
			d := whole["discounts"].([]any)[0].(map[string]any)
			_, onSource := d["source"]
			_, top := d["coupon"]
			if clover := v >= "2025-09-30"; onSource != clover || top == clover {
				t.Errorf("coupon at the top %v, under source %v at %s", top, onSource, v)
			}
		})
	}
}

// simAt starts a simulator with one account at version v, and returns a
// secret key for it and its generator.
func simAt(t *testing.T, v string) (*fakestripe.Stripe, string, *stripesim.Generator) {
	t.Helper()
	sim := fakestripe.New(stripesim.Options{}).Start()
	t.Cleanup(sim.Close)
	acct := sim.CreateAccount(stripesim.AccountSpec{APIVersion: v})
	return sim, sim.NewKey(acct, false, stripesim.Secret), sim.Generator(acct, false, 1)
}
