package poller

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier/store"
)

// balanceDays is how far back an account's first listing of balance
// transactions reaches: Activity's 30 days, and a day more for time zones.
const balanceDays = 31

// kept takes in newly stored events: subscriptions for MRR, and the oldest
// money event, whose balance transactions the poll then lists.
func (s *Service) kept(ctx context.Context, account string, added []store.Event) {
	s.keepSubscriptions(ctx, account, added)
	for _, e := range added {
		if !strings.HasPrefix(e.Type, "charge.") && !strings.HasPrefix(e.Type, "refund.") {
			continue
		}
		// The object's own creation: a bank debit's charge, and its
		// balance transaction, can be days older than its event.
		at := e.Created
		if made := createdIn(e.Object); made > 0 {
			at = min(at, made)
		}
		s.mu.Lock()
		if since, ok := s.moneySince[account]; !ok || at < since {
			s.moneySince[account] = at
		}
		s.mu.Unlock()
	}
}

// createdIn reads the first "created" in an object's JSON, without
// decoding the rest: its own, or a nested object's made about as early,
// which is as good a place to list from (0 when there is none).
func createdIn(object []byte) int64 {
	_, rest, ok := bytes.Cut(object, []byte(`"created":`))
	if !ok {
		return 0
	}
	end := bytes.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.ParseInt(string(rest[:end]), 10, 64)
	return n
}

// listBalances lists the balance transactions made since the oldest money
// event the poll stored (the last 31 days, the first time), when the key
// may read them: each holds Stripe's own fee, net and exchange rate into
// the currency the account is paid out in. An idle poll lists nothing.
func (s *Service) listBalances(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account) {
	if slices.Contains(a.Missing, accounts.PermBalanceTransactionRead) {
		return
	}
	listed, err := s.store.BalancesListed(ctx, a.ID)
	if err != nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	since, ok := s.moneySince[a.ID]
	s.mu.Unlock()
	first := listed.IsZero()
	switch {
	case first:
		since = now.AddDate(0, 0, -balanceDays).Unix()
	case !ok:
		return
	default:
		// A charge's balance transaction can be made a little after its
		// event (asynchronous capture).
		since -= int64(time.Hour / time.Second)
	}
	// Read raw, into what Cashbell keeps: stripe-go's BalanceTransaction
	// costs more to decode than the listing takes to arrive.
	var txns []store.Balance
	values := &form.Values{}
	values.Add("created[gte]", strconv.FormatInt(since, 10))
	values.Add("limit", "100")
	for range 1000 { // at most 100,000 balance transactions
		p := base
		p.Context = ctx
		var list struct {
			stripe.APIResource
			stripe.ListMeta
			Data []store.Balance `json:"data"`
		}
		if err := c.BalanceTransactions.B.CallRaw(http.MethodGet, "/v1/balance_transactions", c.BalanceTransactions.Key, values, &p, &list); err != nil {
			s.log.Debug("balance transactions not listed", "account", a.ID, "err", accounts.Classify(err))
			return
		}
		for _, t := range list.Data {
			if t.Source != "" && counts(t.Category) {
				txns = append(txns, t)
			}
		}
		if !list.HasMore || len(list.Data) == 0 {
			break
		}
		values.Set("starting_after", list.Data[len(list.Data)-1].ID)
	}
	var mark time.Time
	if first {
		mark = now
	}
	if err := s.store.PutBalances(ctx, a.ID, txns, mark); err != nil {
		s.log.Warn("balance transactions not kept", "account", a.ID, "err", err)
		return
	}
	s.mu.Lock() // an account's polls run one at a time: nothing was noted meanwhile
	delete(s.moneySince, a.ID)
	s.mu.Unlock()
	if len(txns) > 0 {
		s.changed(a.ID) // Activity's net
	}
}

// counts reports whether a balance transaction's reporting category is
// part of what sales bring in: charges, refunds and failed refunds,
// disputes and their reversals (docs.stripe.com/reports/reporting-categories).
// Payouts, transfers and Stripe's own billing are not.
func counts(category string) bool {
	return slices.Contains([]string{"charge", "refund", "refund_failure", "dispute", "dispute_reversal", "partial_capture_reversal"}, category)
}
