package accounts

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"
)

// Permission is one read-only permission Cashbell asks for.
type Permission struct {
	Name      string // as Stripe names it, e.g. rak_event_read
	Gives     string // what it gives the user
	IfMissing string // what the user loses without it
	Required  bool   // an account cannot be added without it
	Optional  bool   // nice to have; its absence is not worth a warning
	// probe makes the cheap read; the account read also returns the account,
	// so that nothing reads it twice.
	probe func(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error)
}

// Permission names.
const (
	PermEventRead            = "rak_event_read"
	PermBalanceRead          = "rak_balance_read"
	PermCustomerRead         = "rak_customer_read"
	PermInvoiceRead          = "rak_invoice_read"
	PermProductRead          = "rak_product_read"
	PermSubscriptionRead     = "rak_subscription_read"
	PermPayoutRead           = "rak_payout_read"
	PermConnectedAccountRead = "rak_connected_account_read"
	PermFileWrite            = "rak_file_write"
)

// listProbe reads one object of a list endpoint (GET /v1/<resource>?limit=1):
// the cheapest read that needs the resource's read permission.
func listProbe(path string) func(context.Context, *client.API, stripe.Params) (*stripe.Account, error) {
	return func(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error) {
		values := &form.Values{}
		values.Add("limit", "1")
		p.Context = ctx
		var list struct {
			stripe.APIResource
			stripe.ListMeta
		}
		return nil, c.Events.B.CallRaw(http.MethodGet, path, c.Events.Key, values, &p, &list)
	}
}

// Permissions lists what Cashbell asks for, in the order the report shows them.
var Permissions = []Permission{
	{Name: PermEventRead, Required: true, Gives: "new sales, refunds, disputes, payouts and subscription changes",
		IfMissing: "Cashbell cannot see anything, so the account cannot be added",
		probe:     listProbe("/v1/events")},
	{Name: PermBalanceRead, Gives: "the fee and net amount of each sale",
		IfMissing: "no fee or net amount in notifications",
		probe: func(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error) {
			bp := &stripe.BalanceParams{Params: p}
			bp.Context = ctx
			_, err := c.Balance.Get(bp)
			return nil, err
		}},
	{Name: PermCustomerRead, Gives: "the customer's email and country",
		IfMissing: "no customer in notifications when the payment form did not collect an email",
		probe:     listProbe("/v1/customers")},
	{Name: PermInvoiceRead, Gives: "which invoice a charge paid",
		IfMissing: "no product name on invoice and subscription payments",
		probe:     listProbe("/v1/invoices")},
	{Name: PermProductRead, Gives: "product names",
		IfMissing: "no product names in notifications",
		probe:     listProbe("/v1/products")},
	{Name: PermSubscriptionRead, Gives: "subscription details",
		IfMissing: "less detail on subscription changes",
		probe:     listProbe("/v1/subscriptions")},
	{Name: PermPayoutRead, Gives: "payout details",
		IfMissing: "less detail on payouts",
		probe:     listProbe("/v1/payouts")},
	{Name: PermConnectedAccountRead, Optional: true, Gives: "the account's name and logo",
		IfMissing: "a generic name and logo; you can type a name and pick a logo yourself",
		probe:     getAccount},
	{Name: PermFileWrite, Optional: true, Gives: "a link to download the account's logo",
		IfMissing: "a generic logo; you can pick a logo file yourself",
		probe: func(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error) {
			// Without a file id Stripe checks the permission first and then
			// refuses the missing parameter with a 400, so nothing is created.
			fp := &stripe.FileLinkParams{Params: p}
			fp.Context = ctx
			_, err := c.FileLinks.New(fp)
			var se *stripe.Error
			if errors.As(err, &se) && se.HTTPStatusCode == 400 {
				return nil, nil
			}
			return nil, err
		}},
}

func getAccount(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error) {
	// GET /v1/account reads the account the key (or Stripe-Account) names.
	acct := &stripe.Account{}
	p.Context = ctx
	err := c.Accounts.B.Call("GET", "/v1/account", c.Accounts.Key, &p, acct)
	return acct, err
}

// Status is the outcome of checking one permission.
type Status string

// Outcomes of a permission check.
const (
	Granted Status = "granted"
	Missing Status = "missing"
	Unknown Status = "unknown" // the check itself failed (network, rate limit); never guessed
)

// PermissionResult is one line of a Report.
type PermissionResult struct {
	Permission
	Status Status
	Err    error // why it is unknown
}

// Report is what a key can do.
type Report struct {
	Key       string // masked
	Kind      KeyKind
	Mode      Mode
	AccountID string // the account the key reads, learnt from Stripe
	Connected string // the connected account checked, if any
	Results   []PermissionResult
	account   *stripe.Account // read by the account probe, for the identity import
}

// Usable reports whether the key can read events: the one hard requirement.
func (r Report) Usable() bool { return r.Status(PermEventRead) == Granted }

// Status returns the status of one permission.
func (r Report) Status(name string) Status {
	for _, res := range r.Results {
		if res.Name == name {
			return res.Status
		}
	}
	return Unknown
}

// Has reports whether a permission was granted.
func (r Report) Has(name string) bool { return r.Status(name) == Granted }

// MissingNames lists the permissions that are missing.
func (r Report) MissingNames() []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == Missing {
			out = append(out, res.Name)
		}
	}
	return out
}

// Warnings are sentences the user should read before adding the key.
func (r Report) Warnings() []string {
	var w []string
	if r.Kind == KindSecret {
		w = append(w, "This is a secret key: it can change your Stripe account, not just read it. "+
			"Cashbell only reads, so a restricted key is safer. Create one here: "+CreateKeyURL(r.Mode))
	}
	return w
}

// CreateKeyURL is the Stripe Dashboard page that creates a restricted key named
// Cashbell with exactly the permissions Cashbell asks for. It is the one place
// that knows this link's format.
func CreateKeyURL(mode Mode) string {
	base := "https://dashboard.stripe.com/apikeys/create"
	if mode == ModeTest {
		base = "https://dashboard.stripe.com/test/apikeys/create"
	}
	q := url.Values{}
	q.Set("name", "Cashbell")
	for _, p := range Permissions {
		q.Add("permissions[]", p.Name)
	}
	return base + "?" + strings.NewReplacer("%5B", "[", "%5D", "]").Replace(q.Encode())
}

// Check asks Stripe, with one cheap read per permission, what key can do, on
// the connected account if one is named. It returns an error when the key
// itself is refused (ErrKeyInvalid, ErrKeyExpired, ErrNoAccountAccess) or when
// the required permission could not be checked (ErrOffline, ErrRateLimited,
// ErrStripeUnavailable...); the report is still filled in as far as it got.
func Check(ctx context.Context, c *client.API, key Key, connected string) (Report, error) {
	rep := Report{Key: key.Masked(), Kind: key.Kind(), Mode: key.Mode(), Connected: connected,
		Results: make([]PermissionResult, len(Permissions))}
	var params stripe.Params
	if connected != "" {
		params.SetStripeAccount(connected)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, p := range Permissions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct, err := p.probe(ctx, c, params)
			if acct != nil && err == nil {
				mu.Lock()
				rep.account = acct
				mu.Unlock()
			}
			err = Classify(err)
			res := PermissionResult{Permission: p, Status: Granted}
			var pe *PermissionError
			switch {
			case err == nil:
			case errors.As(err, &pe):
				res.Status, res.Err = Missing, err
			default:
				res.Status, res.Err = Unknown, err
			}
			rep.Results[i] = res
		}()
	}
	wg.Wait()

	for _, res := range rep.Results {
		var pe *PermissionError
		if errors.As(res.Err, &pe) && pe.Account != "" {
			rep.AccountID = pe.Account
		}
		if res.Err != nil && (errors.Is(res.Err, ErrKeyInvalid) || errors.Is(res.Err, ErrKeyExpired) || errors.Is(res.Err, ErrNoAccountAccess)) {
			return rep, res.Err
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if rep.Status(PermEventRead) == Unknown {
		return rep, rep.Results[0].Err
	}
	if rep.AccountID == "" {
		// No read was refused, so the key may read the account itself; the
		// probe read it already unless that one read failed on its way.
		if rep.account == nil {
			acct, err := getAccount(ctx, c, params)
			if err != nil {
				return rep, Classify(err)
			}
			rep.account = acct
		}
		rep.AccountID = rep.account.ID
	}
	if connected != "" {
		rep.AccountID = connected
	}
	if !ValidAccountID(rep.AccountID) {
		rep.AccountID = ""
		return rep, ErrBadAccountID
	}
	return rep, nil
}
