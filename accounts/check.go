package accounts

import (
	"cmp"
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
	// Name is the permission as Stripe names it (rak_event_read). It is
	// empty for the account's own details: which permission Stripe asks for
	// there has changed over the years, so Cashbell learns it from Stripe's
	// refusal and never writes one in.
	Name      string
	Label     string // what it is, in plain words
	Gives     string // what it gives the user
	IfMissing string // what the user loses without it
	Required  bool   // an account cannot be added without it
	Optional  bool   // nice to have; its absence is not worth a warning
	// probe makes the cheap read; the account read also returns the account,
	// so that nothing reads it twice.
	probe func(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error)
}

// Permission names. A restricted key's permission is rak_ and the
// resource's permission id in Stripe's own list (docs.stripe.com/stripe-apps/
// reference/permissions: event_read, charge_read, dispute_read, ...); real
// 403s name rak_subscription_read and rak_customer_read that way.
const (
	PermEventRead   = "rak_event_read"
	PermChargeRead  = "rak_charge_read"
	PermDisputeRead = "rak_dispute_read"
	// PermBalanceTransactionRead reads balance transactions, the fee and net
	// of a sale ("balance_transaction_source_read: Grants access to expand
	// the source attribute when retrieving Balance Transactions", Stripe
	// Apps' permissions reference; PostHog's Stripe source asks for it for
	// GET /v1/balance_transactions).
	PermBalanceTransactionRead = "rak_balance_transaction_source_read"
	PermCustomerRead           = "rak_customer_read"
	PermInvoiceRead            = "rak_invoice_read"
	PermProductRead            = "rak_product_read"
	PermSubscriptionRead       = "rak_subscription_read"
	PermPayoutRead             = "rak_payout_read"
	PermFileWrite              = "rak_file_write"
)

// AccountDetails is the label of the permission whose name Stripe says only
// when it refuses: reading the account's name and logo (GET /v1/account).
const AccountDetails = "Account name and logo"

// listProbe reads one object of each list endpoint Cashbell calls for a
// permission (GET /v1/<resource>?limit=1): the cheapest read that needs
// what the real call needs, so that Stripe's refusal names it.
func listProbe(paths ...string) func(context.Context, *client.API, stripe.Params) (*stripe.Account, error) {
	return func(ctx context.Context, c *client.API, p stripe.Params) (*stripe.Account, error) {
		values := &form.Values{}
		values.Add("limit", "1")
		p.Context = ctx
		for _, path := range paths {
			var list struct {
				stripe.APIResource
				stripe.ListMeta
			}
			if err := c.Events.B.CallRaw(http.MethodGet, path, c.Events.Key, values, &p, &list); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
}

// Permissions lists what Cashbell asks for, in the order the report shows them.
var Permissions = []Permission{
	{Name: PermEventRead, Label: "Events", Required: true, Gives: "new sales, refunds, disputes, payouts and subscription changes",
		IfMissing: "Cashbell cannot see anything, so the account cannot be added",
		probe:     listProbe("/v1/events")},
	// Stripe Apps need charge_read and dispute_read to receive the events of
	// charges, refunds, early fraud warnings and disputes (the permissions
	// reference's event table); Cashbell asks for them so that no payment
	// event is kept from it.
	// Refunds are read with charge_read: Stripe Apps' reference has no
	// refund permission and maps refund events to charge_read. Cashbell
	// lists a charge's refunds (GET /v1/refunds?charge=), so the probe
	// lists refunds too, and a refusal there names what it needs.
	{Name: PermChargeRead, Label: "Payments and refunds", Gives: "payments, refunds and early fraud warnings, and which invoice a payment paid",
		IfMissing: "Stripe may leave payment events out of what this key sees, refunds lose their own amount, and subscription payments lose their product name",
		probe:     listProbe("/v1/charges", "/v1/refunds")},
	{Name: PermDisputeRead, Label: "Disputes", Gives: "disputes as they open and close",
		IfMissing: "Stripe may leave dispute events out of what this key sees",
		probe:     listProbe("/v1/disputes")},
	{Name: PermBalanceTransactionRead, Label: "Balance transactions", Gives: "the fee and net amount of each sale",
		IfMissing: "no fee or net amount",
		probe:     listProbe("/v1/balance_transactions")},
	{Name: PermCustomerRead, Label: "Customers", Gives: "the customer's email and country",
		IfMissing: "no customer in notifications when the payment form did not collect an email",
		probe:     listProbe("/v1/customers")},
	{Name: PermInvoiceRead, Label: "Invoices", Gives: "what an invoice payment was for, and whether it starts or renews a subscription",
		IfMissing: "no product name on invoice and subscription payments",
		probe:     listProbe("/v1/invoices")},
	{Name: PermProductRead, Label: "Products", Gives: "product names",
		IfMissing: "no product names in notifications",
		probe:     listProbe("/v1/products")},
	{Name: PermSubscriptionRead, Label: "Subscriptions", Gives: "subscription details",
		IfMissing: "less detail on subscription changes",
		probe:     listProbe("/v1/subscriptions")},
	{Name: PermPayoutRead, Label: "Payouts", Gives: "payout details",
		IfMissing: "less detail on payouts",
		probe:     listProbe("/v1/payouts")},
	{Label: AccountDetails, Optional: true, Gives: "the account's name and logo",
		IfMissing: "a generic name and logo; you can type a name and pick a logo yourself",
		probe:     getAccount},
	{Name: PermFileWrite, Label: "Files (write)", Optional: true,
		Gives:     "the account's logo, through a download link that Stripe lets expire five minutes later",
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

// ErrAccountUnknown means Stripe answered every read without saying which
// account the key belongs to.
var ErrAccountUnknown = errors.New("no read named the account this key belongs to")

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
	Err    error // why it is missing or unknown
	// StripeName is the permission Stripe named when it refused, which for
	// the account's details is the only source of its name.
	StripeName string
	// NotForRestrictedKeys: Stripe lets no restricted key make this read.
	NotForRestrictedKeys bool
}

// Advice says how to get a missing permission that the create-key link
// cannot ask for, or "" when the link covers it.
func (r PermissionResult) Advice() string {
	switch {
	case r.Status != Missing || r.Name != "":
		return ""
	case r.NotForRestrictedKeys:
		return "Stripe does not let restricted keys read the account's name and logo; type a name and pick a logo yourself"
	case r.StripeName != "":
		return "Stripe asks for the permission it names " + r.StripeName + ", which the create-key link cannot ask for: add it to the key in the Stripe Dashboard, or type a name yourself"
	}
	return "Stripe refused without naming a permission; type a name and pick a logo yourself"
}

// Shown is the permission's name for people: Stripe's name when it gave
// one, else Cashbell's.
func (r PermissionResult) Shown() string { return cmp.Or(r.StripeName, r.Name) }

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

// Status returns the status of one permission, by name or label.
func (r Report) Status(name string) Status {
	for _, res := range r.Results {
		if res.Name == name || res.Label == name {
			return res.Status
		}
	}
	return Unknown
}

// Has reports whether a permission was granted.
func (r Report) Has(name string) bool { return r.Status(name) == Granted }

// MissingNames lists the permissions that are missing, as Stripe names them
// (or, where Stripe named none, by what they are).
func (r Report) MissingNames() []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == Missing {
			out = append(out, cmp.Or(res.Shown(), res.Label))
		}
	}
	return out
}

// Warnings are sentences the user should read before adding the key.
func (r Report) Warnings() []string {
	var w []string
	if r.Kind == KindSecret {
		w = append(w, "This is a secret key: it can change your Stripe account, not just read it. "+
			"Cashbell only reads, so a restricted key is safer. Create one here: "+r.CreateKeyURL())
	}
	return w
}

// CreateKeyURL is the Stripe Dashboard page that creates a restricted key named
// Cashbell with exactly the permissions Cashbell asks for. It is the one place
// that knows this link's format.
func CreateKeyURL(mode Mode) string { return Report{Mode: mode}.CreateKeyURL() }

// CreateKeyURL is the create-key page for the report's mode, asking for each
// permission by the name Stripe's refusal gave it, where it gave one.
func (r Report) CreateKeyURL() string {
	base := "https://dashboard.stripe.com/apikeys/create"
	if r.Mode == ModeTest {
		base = "https://dashboard.stripe.com/test/apikeys/create"
	}
	named := map[string]string{}
	for _, res := range r.Results {
		if res.Name != "" && res.StripeName != "" {
			named[res.Name] = res.StripeName
		}
	}
	q := url.Values{}
	q.Set("name", "Cashbell")
	for _, p := range Permissions {
		if p.Name != "" && !p.Optional { // a name Cashbell is sure of, for a read
			q.Add("permissions[]", cmp.Or(named[p.Name], p.Name))
		}
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
				res.StripeName, res.NotForRestrictedKeys = pe.Permission, pe.NotForRestrictedKeys
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
		if res.Err != nil && (errors.Is(res.Err, ErrKeyInvalid) || errors.Is(res.Err, ErrKeyExpired) || errors.Is(res.Err, ErrNoAccountAccess) || errors.Is(res.Err, ErrNoConnectPermissions)) {
			return rep, res.Err
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if rep.Status(PermEventRead) == Unknown {
		return rep, rep.Results[0].Err
	}
	if rep.AccountID == "" && rep.account == nil && rep.Status(AccountDetails) == Unknown {
		// No read named the account, and the account's own read failed on
		// its way: once more.
		if acct, err := getAccount(ctx, c, params); err == nil {
			rep.account = acct
		} else if err := Classify(err); !errors.Is(err, ErrPermissionMissing) {
			return rep, err
		}
	}
	if rep.AccountID == "" && rep.account != nil {
		rep.AccountID = rep.account.ID
	}
	if connected != "" {
		rep.AccountID = connected
	}
	if rep.AccountID == "" {
		return rep, ErrAccountUnknown
	}
	if !ValidAccountID(rep.AccountID) {
		rep.AccountID = ""
		return rep, ErrBadAccountID
	}
	return rep, nil
}
