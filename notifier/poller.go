package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/safetext"
)

// Polling constants.
const (
	// Overlap is how far back each poll re-reads, because Stripe can make an
	// event visible a little after events created later.
	Overlap = 5 * time.Minute
	// Retention is how long Stripe keeps events.
	Retention = 30 * 24 * time.Hour
	// FirstImport is how many events an account's first import stores, silently.
	FirstImport = 50
	// MaxIndividual is how many notifications an account may raise per poll
	// before the rest are summed up in one.
	MaxIndividual = 3
	// pageSize is Stripe's largest page.
	pageSize = 100
	// maxPages bounds one poll: 1,000 pages of 100 is more than 30 days of a busy shop.
	maxPages = 1000
)

// Accounts is what the poller needs from the account registry.
type Accounts interface {
	List(ctx context.Context) ([]accounts.Account, error)
	Client(a accounts.Account) (*client.API, stripe.Params, error)
	Update(ctx context.Context, id string, change func(*accounts.Account)) (accounts.Account, error)
}

var _ Accounts = (*accounts.Registry)(nil)

// Sink shows notifications on the desktop.
type Sink interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is one desktop notification.
type Notification struct {
	Title   string
	Body    string
	Icon    string // path of a PNG
	Account string
	EventID string // empty for summaries and notices
	URL     string // Dashboard page
	Urgent  bool
}

// Options configure a Service.
type Options struct {
	Store    *Store
	Accounts Accounts
	Sink     Sink
	Interval time.Duration // overrides the stored setting when not zero (--interval)
	Now      func() time.Time
	Logger   *slog.Logger
	Money    *Money
	Icon     string // the bundled logo, for accounts without one
	// MaxBackoff caps the wait after failures; 5 minutes when zero.
	MaxBackoff time.Duration
	// InitialBackoff is the first wait after a failure; 2 seconds when zero.
	InitialBackoff time.Duration
}

// Service runs one polling loop per account under one context.
type Service struct {
	opts   Options
	store  *Store
	log    *slog.Logger
	now    func() time.Time
	reload chan struct{}
	// changes signals that an account's events, status or the list of
	// accounts changed; signals coalesce while nobody reads them.
	changes chan struct{}

	mu       sync.Mutex
	kicks    map[string]chan struct{}
	products map[string]string // "<account>/<prod_id>" -> name
	clients  map[string]apiClient
}

// New returns a Service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Money == nil {
		opts.Money = NewMoney("")
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff = 2 * time.Second
	}
	return &Service{opts: opts, store: opts.Store, log: opts.Logger, now: opts.Now,
		reload: make(chan struct{}, 1), changes: make(chan struct{}, 1), kicks: map[string]chan struct{}{}, products: map[string]string{}, clients: map[string]apiClient{}}
}

// Reload makes Run pick up added, removed and re-checked accounts.
func (s *Service) Reload() {
	select {
	case s.reload <- struct{}{}:
	default:
	}
	s.changed("")
}

// Changed receives after an account's events or status changed, or the
// accounts were reloaded. Signals that nobody has read yet are merged into
// one: a window refreshes once for a burst.
func (s *Service) Changed() <-chan struct{} { return s.changes }

// PollNow asks an account's loop to poll at once.
func (s *Service) PollNow(accountID string) {
	s.mu.Lock()
	ch := s.kicks[accountID]
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Run polls every account until ctx ends, starting and stopping loops as
// accounts come and go. It returns when every loop has stopped.
func (s *Service) Run(ctx context.Context) error {
	type loop struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	loops := map[string]*loop{}
	defer func() {
		for _, l := range loops {
			l.cancel()
			<-l.done
		}
	}()
	for {
		list, err := s.opts.Accounts.List(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("listing accounts", "err", err)
		}
		seen := map[string]bool{}
		for _, a := range list {
			seen[a.ID] = true
			if l := loops[a.ID]; l != nil {
				select {
				case <-l.done:
					// The loop stopped on a refused key; a re-check that
					// repaired it starts it again.
					if a.Status == accounts.StatusKeyRevoked {
						continue
					}
				default:
					continue // still polling
				}
			}
			lctx, cancel := context.WithCancel(ctx)
			l := &loop{cancel: cancel, done: make(chan struct{})}
			loops[a.ID] = l
			kick := make(chan struct{}, 1)
			s.mu.Lock()
			s.kicks[a.ID] = kick
			delete(s.clients, a.ID) // a (re)started loop reads the key afresh
			s.mu.Unlock()
			go func(id string) {
				defer close(l.done)
				s.watch(lctx, id, kick)
			}(a.ID)
		}
		for id, l := range loops {
			if !seen[id] {
				l.cancel()
				<-l.done
				delete(loops, id)
				s.mu.Lock()
				delete(s.kicks, id)
				delete(s.clients, id)
				s.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.reload:
		}
	}
}

// errStopped means the account cannot be polled (its key was refused, or is
// missing); its loop waits for a re-check.
var errStopped = errors.New("polling stopped")

// errKeyRevoked is the errStopped of an account already marked as refused.
var errKeyRevoked = fmt.Errorf("%w: the key was refused; check it again in Preferences", errStopped)

// errGone means the account was removed.
var errGone = errors.New("account removed")

func (s *Service) watch(ctx context.Context, id string, kick <-chan struct{}) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = s.opts.InitialBackoff
	b.MaxInterval = s.opts.MaxBackoff
	b.MaxElapsedTime = 0
	b.RandomizationFactor = 0.5
	b.Reset()
	failing := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		err := s.Poll(ctx, id)
		if ctx.Err() != nil {
			return
		}
		wait := s.interval(ctx)
		switch {
		case err == nil:
			b.Reset()
			if failing {
				s.log.Info("polling recovered", "account", id)
				s.setStatus(ctx, id, accounts.StatusOK)
			}
			failing = false
		case errors.Is(err, errGone):
			return
		case errors.Is(err, errStopped):
			if !errors.Is(err, errKeyRevoked) {
				s.log.Error("polling stopped for this account", "account", id, "err", err)
			}
			return
		case isKeyRefused(err):
			s.keyRefused(ctx, id, err)
			return
		default:
			wait = b.NextBackOff()
			if !failing {
				s.log.Warn("poll failed; backing off", "account", id, "err", err, "retry_in", wait.Round(time.Millisecond))
				if accounts.Retryable(err) {
					s.setStatus(ctx, id, accounts.StatusOffline)
				}
			} else {
				s.log.Debug("poll failed again", "account", id, "err", err, "retry_in", wait.Round(time.Millisecond))
			}
			failing = true
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-kick:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

func isKeyRefused(err error) bool {
	return errors.Is(err, accounts.ErrKeyInvalid) || errors.Is(err, accounts.ErrKeyExpired) || errors.Is(err, accounts.ErrNoAccountAccess)
}

func (s *Service) interval(ctx context.Context) time.Duration {
	if s.opts.Interval > 0 {
		return s.opts.Interval
	}
	set, err := s.store.Settings(ctx)
	if err != nil {
		return DefaultInterval
	}
	return set.PollInterval()
}

func (s *Service) setStatus(ctx context.Context, id string, st accounts.AccountStatus) {
	_, err := s.opts.Accounts.Update(ctx, id, func(a *accounts.Account) {
		if a.Status != accounts.StatusMissingPermissions || st != accounts.StatusOK {
			a.Status = st
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("saving account status", "account", id, "err", err)
	}
	s.changed(id)
}

// keyRefused stops an account whose key Stripe refused, and tells the user once.
func (s *Service) keyRefused(ctx context.Context, id string, cause error) {
	a, err := s.opts.Accounts.Update(ctx, id, func(a *accounts.Account) { a.Status = accounts.StatusKeyRevoked })
	if err != nil {
		s.log.Warn("saving account status", "account", id, "err", err)
		return
	}
	s.log.Error("key refused; polling stopped for this account", "account", id, "key", a.KeyMasked, "err", cause)
	s.changed(id)
	n := Notification{
		Title:   safetext.Clean(a.Name) + " — Stripe key stopped working",
		Body:    fmt.Sprintf("Stripe refused the key %s. Open Cashbell's Preferences to check it again or add a new key.", a.KeyMasked),
		Icon:    s.icon(a),
		Account: id,
		Urgent:  true,
	}
	if err := s.opts.Sink.Notify(ctx, n); err != nil {
		s.log.Warn("notification not shown", "err", err)
	}
}

func (s *Service) changed(string) {
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

func (s *Service) account(ctx context.Context, id string) (accounts.Account, error) {
	list, err := s.opts.Accounts.List(ctx)
	if err != nil {
		return accounts.Account{}, err
	}
	for _, a := range list {
		if a.ID == id {
			return a, nil
		}
	}
	return accounts.Account{}, errGone
}

// Poll polls one account once: it fetches new events into the store and
// notifies what should be notified. The loops call it; tests and "refresh"
// may too.
func (s *Service) Poll(ctx context.Context, id string) error {
	a, err := s.account(ctx, id)
	if err != nil {
		return err
	}
	if a.Status == accounts.StatusKeyRevoked {
		return errKeyRevoked
	}
	c, params, err := s.client(a)
	if err != nil {
		return fmt.Errorf("%w: %w", errStopped, err)
	}
	st, err := s.store.State(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	oldest := now.Add(-Retention).Unix()
	var added int
	switch {
	case st.Rebuild:
		added, err = s.fetch(ctx, c, params, a.ID, &st, oldest, false)
	case !st.Initialized:
		added, err = s.firstImport(ctx, c, params, a.ID, &st)
	default:
		added, err = s.fetch(ctx, c, params, a.ID, &st, max(st.NewestCreated-int64(Overlap/time.Second), oldest), true)
	}
	if err != nil {
		return err
	}
	if added > 0 {
		s.changed(id)
	}
	return s.deliver(ctx, a, c, params)
}

// apiClient is an account's Stripe client and the params its calls carry.
type apiClient struct {
	api    *client.API
	params stripe.Params
}

// client returns an account's Stripe client, built once per loop: building
// one reads the key from the keyring, which is not worth doing every poll.
func (s *Service) client(a accounts.Account) (*client.API, stripe.Params, error) {
	s.mu.Lock()
	cached, ok := s.clients[a.ID]
	s.mu.Unlock()
	if ok {
		return cached.api, cached.params, nil
	}
	c, params, err := s.opts.Accounts.Client(a)
	if err != nil {
		return nil, params, err
	}
	s.mu.Lock()
	s.clients[a.ID] = apiClient{c, params}
	s.mu.Unlock()
	return c, params, nil
}

// eventPage is one page of GET /v1/events, read raw so that stored objects
// keep every field, including ones newer than stripe-go knows.
type eventPage struct {
	stripe.APIResource
	stripe.ListMeta
	Data []rawEvent `json:"data"`
}

type rawEvent struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Created  int64  `json:"created"`
	Livemode bool   `json:"livemode"`
	Data     struct {
		Object   json.RawMessage `json:"object"`
		Previous json.RawMessage `json:"previous_attributes"`
	} `json:"data"`
}

func (s *Service) listPage(ctx context.Context, c *client.API, base stripe.Params, p *stripe.EventListParams) (*eventPage, error) {
	p.Types = stripe.StringSlice(NotifiedTypes)
	values := &form.Values{}
	form.AppendTo(values, p)
	params := base
	params.Context = ctx
	page := &eventPage{}
	if err := c.Events.B.CallRaw(http.MethodGet, "/v1/events", c.Events.Key, values, &params, page); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, accounts.Classify(err)
	}
	return page, nil
}

// ErrCursorStuck means Stripe answered a page that says there is more with
// nothing new in it, so paging on would ask for the same page for ever.
var ErrCursorStuck = errors.New("Stripe returned the same page of events again: Cashbell will try again shortly")

// movesOn reports whether a page holds an event this fetch has not seen yet,
// and remembers its events.
func movesOn(page *eventPage, seen map[string]bool) bool {
	fresh := false
	for _, r := range page.Data {
		if !seen[r.ID] {
			seen[r.ID] = true
			fresh = true
		}
	}
	return fresh
}

// MaxEventObject bounds what is stored of one event's object. Stripe's
// objects are a few kilobytes; one far larger is trimmed to its small fields
// so that it cannot fill the memory and the disk every time it is read.
const MaxEventObject = 256 << 10

// toEvents converts a page, oldest first, so that ingest order follows time.
func (s *Service) toEvents(page *eventPage, account string) []Event {
	out := make([]Event, 0, len(page.Data))
	for i := len(page.Data) - 1; i >= 0; i-- {
		r := page.Data[i]
		if r.ID == "" {
			continue
		}
		e := Event{ID: r.ID, Type: r.Type, Created: r.Created, Livemode: r.Livemode, Object: compact(r.Data.Object)}
		if len(r.Data.Previous) > 0 && string(r.Data.Previous) != "null" {
			e.Previous = compact(r.Data.Previous)
		}
		if len(e.Object)+len(e.Previous) > MaxEventObject {
			s.log.Warn("an event's object is far larger than Stripe's usually are; its large fields are left out",
				"account", account, "event", e.ID, "bytes", len(e.Object)+len(e.Previous))
			e.Object, e.Previous = trim(e.Object), trim(e.Previous)
		}
		out = append(out, e)
	}
	return out
}

// trim keeps the fields of a JSON object that are small, which are the ones
// Cashbell reads (amounts, ids, a status, an email), and drops the rest.
func trim(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	const field = 4 << 10
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return json.RawMessage(`{}`)
	}
	for k, v := range m {
		if len(v) > field {
			delete(m, k)
		}
	}
	out, _ := json.Marshal(m)
	if len(out) > MaxEventObject { // thousands of small fields
		return json.RawMessage(`{}`)
	}
	return out
}

// compact drops the whitespace of pretty-printed JSON, which is a third of
// what Stripe sends.
func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// firstImport stores an account's last FirstImport events without notifying.
// When there are more, it also stores the rest of the overlap window silently,
// so that the next poll's look back does not take them for new events.
func (s *Service) firstImport(ctx context.Context, c *client.API, base stripe.Params, id string, st *PollState) (int, error) {
	page, err := s.listPage(ctx, c, base, &stripe.EventListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(FirstImport)}})
	if err != nil {
		return 0, err
	}
	events := s.toEvents(page, id)
	st.Initialized = true
	st.NewestCreated = s.now().Unix()
	if len(events) > 0 {
		st.NewestCreated = events[len(events)-1].Created
	}
	added, err := s.store.Ingest(ctx, id, events, st, false)
	if err != nil {
		return len(added), err
	}
	n := len(added)
	if page.HasMore {
		more, err := s.fetch(ctx, c, base, id, st, st.NewestCreated-int64(Overlap/time.Second), false)
		n += more
		if err != nil {
			return n, err
		}
	}
	s.log.Info("first import", "account", id, "events", n)
	return n, nil
}

// fetch pages through every event created at or after gte, storing each page
// as it comes; the poll state moves forward only with the last page, so a crash
// partway re-reads from the same place and de-duplication drops the repeats.
func (s *Service) fetch(ctx context.Context, c *client.API, base stripe.Params, id string, st *PollState, gte int64, notify bool) (int, error) {
	p := &stripe.EventListParams{
		ListParams:   stripe.ListParams{Limit: stripe.Int64(pageSize)},
		CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: gte},
	}
	newest := st.NewestCreated
	total := 0
	seen := map[string]bool{}
	for n := 0; ; n++ {
		page, err := s.listPage(ctx, c, base, p)
		if err != nil {
			return total, err
		}
		if page.HasMore && !movesOn(page, seen) {
			s.log.Debug("the same page of events again", "account", id, "page", n+1,
				"cursor", stripe.StringValue(p.StartingAfter))
			return total, ErrCursorStuck
		}
		events := s.toEvents(page, id)
		for _, e := range events {
			newest = max(newest, e.Created)
		}
		last := !page.HasMore || len(page.Data) == 0 || n == maxPages-1
		var state *PollState
		if last {
			st.NewestCreated = newest
			st.Initialized, st.Rebuild = true, false
			state = st
		}
		added, err := s.store.Ingest(ctx, id, events, state, notify)
		total += len(added)
		if err != nil {
			return total, err
		}
		if last {
			if total > 0 {
				s.log.Info("new events", "account", id, "count", total, "pages", n+1)
			}
			return total, nil
		}
		p.StartingAfter = stripe.String(page.Data[len(page.Data)-1].ID)
	}
}

// deliver notifies an account's waiting events: the first few on their own and
// the rest in one summary. Each event is marked in the store before anything is
// shown, so none is ever shown twice.
func (s *Service) deliver(ctx context.Context, a accounts.Account, c *client.API, params stripe.Params) error {
	pending, err := s.store.Outbox(ctx, a.ID)
	if err != nil || len(pending) == 0 {
		return err
	}
	set, err := s.store.Settings(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	silenced := set.Paused(now) || set.Quiet(now.Local()) || a.Muted
	marks := make(map[string]Mark, len(pending))
	var chosen []Event
	for _, e := range pending {
		if silenced || !set.Enabled(e.Type) || !Notifies(e) || belowMinimum(e, set.MinAmount) {
			marks[e.ID] = MarkSkipped
			continue
		}
		chosen = append(chosen, e)
	}
	individual, rest := chosen, []Event(nil)
	if len(chosen) > MaxIndividual {
		individual, rest = chosen[:MaxIndividual], chosen[MaxIndividual:]
	}
	opt := TextOptions{Money: s.opts.Money, HideAmounts: set.HideAmounts}
	var out []Notification
	for _, e := range individual {
		marks[e.ID] = MarkNotified
		t := Describe(e, a.Name, s.enrich(ctx, c, params, a, e), opt)
		out = append(out, Notification{Title: t.Title, Body: t.Body, Icon: s.icon(a), Account: a.ID, EventID: e.ID,
			URL: DashboardURL(e, a.Live(), a.ConnectedID()), Urgent: e.Type == "charge.dispute.created"})
	}
	if len(rest) > 0 {
		for _, e := range rest {
			marks[e.ID] = MarkSummarised
		}
		t := Summary(a.Name, rest, opt)
		out = append(out, Notification{Title: t.Title, Body: t.Body, Icon: s.icon(a), Account: a.ID})
	}
	if err := s.store.MarkEvents(ctx, a.ID, marks); err != nil {
		return err
	}
	for _, n := range out {
		if err := s.opts.Sink.Notify(ctx, n); err != nil {
			s.log.Warn("notification not shown", "account", a.ID, "err", err)
		}
	}
	return nil
}

func (s *Service) icon(a accounts.Account) string {
	if a.Logo != "" {
		return a.Logo
	}
	return s.opts.Icon
}

// belowMinimum compares in minor units: min is in major units of each currency.
func belowMinimum(e Event, minMajor int64) bool {
	if minMajor <= 0 {
		return false
	}
	n, cur, ok := Amount(e)
	if !ok {
		return false
	}
	limit := minMajor
	for range stripeDigits(strings.ToUpper(cur)) {
		limit *= 10
	}
	return n < limit
}

// enrich reads what the event does not carry, as far as the key's permissions
// allow; every failure just leaves a detail out.
func (s *Service) enrich(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account, e Event) Details {
	var d Details
	o := parseObj(e.Object)
	missing := map[string]bool{}
	for _, m := range a.Missing {
		missing[m] = true
	}
	params := func() stripe.Params { p := base; p.Context = ctx; return p }
	logErr := func(what string, err error) {
		if err != nil {
			s.log.Debug("detail not read", "what", what, "account", a.ID, "err", accounts.Classify(err))
		}
	}
	if cus := o.id("customer"); cus != "" && !missing[accounts.PermCustomerRead] && o.str("billing_details", "email") == "" {
		p := &stripe.CustomerParams{Params: params()}
		if got, err := c.Customers.Get(cus, p); err == nil {
			d.Email = got.Email
			if got.Address != nil {
				d.Country = got.Address.Country
			}
		} else {
			logErr("customer", err)
		}
	}
	switch e.Type {
	case "charge.succeeded":
		if txn := o.id("balance_transaction"); txn != "" && !missing[accounts.PermBalanceRead] {
			p := &stripe.BalanceTransactionParams{Params: params()}
			if got, err := c.BalanceTransactions.Get(txn, p); err == nil {
				d.Fee, d.Net, d.NetCur = got.Fee, got.Net, string(got.Currency)
			} else {
				logErr("balance transaction", err)
			}
		}
		fallthrough
	case "charge.refunded":
		if inv := o.id("invoice"); inv != "" && !missing[accounts.PermInvoiceRead] {
			p := &stripe.InvoiceParams{Params: params()}
			if got, err := c.Invoices.Get(inv, p); err == nil && got.Lines != nil && len(got.Lines.Data) > 0 && got.Lines.Data[0].Price != nil && got.Lines.Data[0].Price.Product != nil {
				d.Product = s.productName(ctx, c, base, a, got.Lines.Data[0].Price.Product.ID, missing)
			} else {
				logErr("invoice", err)
			}
		}
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted", "customer.subscription.trial_will_end":
		if p := obj(firstPrice(o, "items")); p != nil {
			d.Product = s.productName(ctx, c, base, a, p.id("product"), missing)
		}
	}
	return d
}

func (s *Service) productName(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account, id string, missing map[string]bool) string {
	if id == "" || missing[accounts.PermProductRead] {
		return ""
	}
	key := a.ID + "/" + id
	s.mu.Lock()
	name, ok := s.products[key]
	s.mu.Unlock()
	if ok {
		return name
	}
	p := &stripe.ProductParams{Params: base}
	p.Context = ctx
	got, err := c.Products.Get(id, p)
	if err != nil {
		s.log.Debug("product not read", "account", a.ID, "product", id, "err", accounts.Classify(err))
		return ""
	}
	s.mu.Lock()
	if len(s.products) > 10000 {
		clear(s.products)
	}
	s.products[key] = got.Name
	s.mu.Unlock()
	return got.Name
}
