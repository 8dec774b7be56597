package poller

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// Poll polls one account once: it fetches new events into the store and
// notifies what should be notified. The loops call it; tests and "refresh"
// may too.
func (s *Service) Poll(ctx context.Context, id string) error {
	a, err := s.account(ctx, id)
	if err != nil {
		return err
	}
	if a.Stopped() {
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
		quiet := cmp.Or(st.QuietThrough, math.MaxInt64)
		added, err = s.fetch(ctx, c, params, a.ID, &st, oldest, quiet)
	case !st.Initialized:
		added, err = s.firstImport(ctx, c, params, a.ID, &st, oldest)
	default:
		added, err = s.fetch(ctx, c, params, a.ID, &st, max(st.NewestCreated-int64(Overlap/time.Second), oldest), 0)
	}
	if err != nil {
		return err
	}
	if added > 0 {
		s.changed(id)
	}
	// The net's balance transactions are listed while the notifications
	// go out (the listing mostly waits on Stripe, delivering mostly
	// decodes), and what MRR needs after them: neither holds a
	// notification back.
	var balances sync.WaitGroup
	balances.Go(func() { s.listBalances(ctx, c, params, a) })
	err = s.deliver(ctx, a, c, params)
	balances.Wait()
	if err != nil {
		return err
	}
	s.listSubscriptions(ctx, c, params, a)
	s.learnDiscounts(ctx, c, params, a)
	return nil
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
	Version  string `json:"api_version"`
	Data     struct {
		Object   json.RawMessage `json:"object"`
		Previous json.RawMessage `json:"previous_attributes"`
	} `json:"data"`
}

func (s *Service) listPage(ctx context.Context, c *client.API, base stripe.Params, p *stripe.EventListParams) (*eventPage, error) {
	p.Types = stripe.StringSlice(notifier.ListedTypes())
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
var ErrCursorStuck = errors.New("the same page of events came again: Cashbell will try again shortly")

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
func (s *Service) toEvents(page *eventPage, account string) []store.Event {
	out := make([]store.Event, 0, len(page.Data))
	for i := len(page.Data) - 1; i >= 0; i-- {
		r := page.Data[i]
		if r.ID == "" {
			continue
		}
		var ok1, ok2 bool
		e := store.Event{ID: r.ID, Type: r.Type, Created: r.Created, Livemode: r.Livemode, APIVersion: r.Version}
		e.Object, ok1 = compact(r.Data.Object)
		ok2 = true
		if len(r.Data.Previous) > 0 && string(r.Data.Previous) != "null" {
			e.Previous, ok2 = compact(r.Data.Previous)
		}
		e.Checked = ok1 && ok2
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
func compact(raw json.RawMessage) (json.RawMessage, bool) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw, false
	}
	return b.Bytes(), true
}

// firstImport stores an account's last FirstImport events without notifying,
// so that Activity has them at once. When there are more, it goes on to the
// rest of Stripe's 30 days, silently too, so that the month's chart is whole
// from the start; that refill is recorded in st before it begins, so a crash
// partway resumes it, and what is created meanwhile is still news.
func (s *Service) firstImport(ctx context.Context, c *client.API, base stripe.Params, id string, st *store.PollState, oldest int64) (int, error) {
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
	if page.HasMore {
		st.Rebuild, st.QuietThrough = true, st.NewestCreated
	}
	added, err := s.store.Ingest(ctx, id, events, st, false)
	s.kept(ctx, id, added)
	if err != nil {
		return len(added), err
	}
	n := len(added)
	if page.HasMore {
		more, err := s.fetch(ctx, c, base, id, st, oldest, st.QuietThrough)
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
// Events created at or before quietThrough are stored silently; later ones
// are news.
func (s *Service) fetch(ctx context.Context, c *client.API, base stripe.Params, id string, st *store.PollState, gte, quietThrough int64) (int, error) {
	p := &stripe.EventListParams{
		ListParams:   stripe.ListParams{Limit: stripe.Int64(pageSize)},
		CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: gte},
	}
	newest := st.NewestCreated
	total := 0
	seen := map[string]bool{}
	// The next page is asked for while this one is stored: the wait for
	// Stripe and the write to the disk overlap.
	type answer struct {
		page *eventPage
		err  error
	}
	ask := func(p stripe.EventListParams) chan answer {
		next := make(chan answer, 1)
		go func() {
			page, err := s.listPage(ctx, c, base, &p)
			next <- answer{page, err}
		}()
		return next
	}
	next := ask(*p)
	defer func() {
		if next != nil {
			<-next // nothing is left running after a failed or cancelled fetch
		}
	}()
	for n := 0; ; n++ {
		got := <-next
		next = nil
		page, err := got.page, got.err
		if err != nil {
			return total, err
		}
		if page.HasMore && !movesOn(page, seen) {
			s.log.Debug("the same page of events again", "account", id, "page", n+1,
				"cursor", stripe.StringValue(p.StartingAfter))
			return total, ErrCursorStuck
		}
		last := !page.HasMore || len(page.Data) == 0 || n == maxPages-1
		if !last {
			p.StartingAfter = stripe.String(page.Data[len(page.Data)-1].ID)
			next = ask(*p)
		}
		events := s.toEvents(page, id)
		for _, e := range events {
			newest = max(newest, e.Created)
		}
		var state *store.PollState
		if last {
			st.NewestCreated = newest
			st.Initialized, st.Rebuild, st.QuietThrough = true, false, 0
			state = st
		}
		quiet, news := splitAt(events, quietThrough)
		added, err := s.store.Ingest(ctx, id, quiet, nil, false)
		total += len(added)
		s.kept(ctx, id, added)
		if err == nil {
			added, err = s.store.Ingest(ctx, id, news, state, true)
			total += len(added)
			s.kept(ctx, id, added)
		}
		if err != nil {
			return total, err
		}
		if last {
			if total > 0 {
				s.log.Info("new events", "account", id, "count", total, "pages", n+1)
			}
			return total, nil
		}
	}
}

// splitAt parts events, keeping their order, into those created at or before
// t and those created after.
func splitAt(events []store.Event, t int64) (through, after []store.Event) {
	for _, e := range events {
		if e.Created <= t {
			through = append(through, e)
		} else {
			after = append(after, e)
		}
	}
	return through, after
}
