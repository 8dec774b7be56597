package poller

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
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

// Options configure a Service.
type Options struct {
	Store    *store.Store
	Accounts Accounts
	Sink     Sink
	Interval time.Duration // overrides the stored setting when not zero (--interval)
	Now      func() time.Time
	Logger   *slog.Logger
	Money    *notifier.Money
	Icon     string // the bundled logo, for accounts without one
	// AlertIcon is the icon of bad news (a red bell), a PNG file.
	AlertIcon string
	// MaxBackoff caps the wait after failures; 5 minutes when zero.
	MaxBackoff time.Duration
	// InitialBackoff is the first wait after a failure; 2 seconds when zero.
	InitialBackoff time.Duration
}

// Service runs one polling loop per account under one context.
type Service struct {
	opts   Options
	store  *store.Store
	log    *slog.Logger
	now    func() time.Time
	reload chan struct{}
	// changes signals that an account's events, status or the list of
	// accounts changed; signals coalesce while nobody reads them.
	changes chan struct{}

	mu       sync.Mutex
	kicks    map[string]chan struct{}
	waiting  map[string][]chan error // CheckNow callers, by account, for the next poll
	products map[string]string       // "<account>/<prod_id>" -> name
	clients  map[string]apiClient
	bursts   map[string]*burst // by account
	held     map[string]string // account → why its notifications were held back ("While paused")
	// moneySince is, per account, the oldest money event stored since its
	// balance transactions were last listed (unix seconds).
	moneySince map[string]int64
	// discounted is, per account, the subscriptions whose stored events
	// named discounts by id alone, and those ids.
	discounted map[string]map[string][]string
	// capped is, per account, when a listing of subscriptions stopped at
	// its cap: it is not tried again sooner than a whole one would be.
	capped map[string]time.Time
	// sinkFailing: the last notification could not be shown.
	sinkFailing atomic.Bool
}

// New returns a Service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	opts.Money = cmp.Or(opts.Money, notifier.NewMoney(""))
	opts.MaxBackoff = cmp.Or(opts.MaxBackoff, 5*time.Minute)
	opts.InitialBackoff = cmp.Or(opts.InitialBackoff, 2*time.Second)
	return &Service{opts: opts, store: opts.Store, log: opts.Logger, now: opts.Now,
		reload: make(chan struct{}, 1), changes: make(chan struct{}, 1), kicks: map[string]chan struct{}{}, waiting: map[string][]chan error{}, products: map[string]string{}, clients: map[string]apiClient{}, bursts: map[string]*burst{}, held: map[string]string{}, moneySince: map[string]int64{}, discounted: map[string]map[string][]string{}, capped: map[string]time.Time{}}
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

// CheckNow polls an account at once, as the user's "Check now" does, cutting
// short any backoff after failures, and returns that poll's error. The
// account's own loop makes the poll, so that two polls of one account never
// deliver the same events at the same time.
func (s *Service) CheckNow(ctx context.Context, accountID string) error {
	if a, err := s.account(ctx, accountID); err != nil {
		return err
	} else if a.Stopped() {
		return errKeyRevoked
	}
	done := make(chan error, 1)
	s.mu.Lock()
	_, running := s.kicks[accountID]
	if running {
		s.waiting[accountID] = append(s.waiting[accountID], done)
	}
	s.mu.Unlock()
	if !running {
		return errStopped
	}
	s.PollNow(accountID)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollFor makes one poll of the loop of id and answers the CheckNow callers
// that were waiting when it began.
func (s *Service) pollFor(ctx context.Context, id string) error {
	waiting := s.takeWaiting(id)
	err := s.Poll(ctx, id)
	for _, w := range waiting {
		w <- err
	}
	return err
}

// Run polls every account until ctx ends, starting and stopping loops as
// accounts come and go. It returns when every loop has stopped.
func (s *Service) Run(ctx context.Context) error {
	type loop struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	loops := map[string]*loop{}
	digestDone := make(chan struct{})
	go func() { defer close(digestDone); s.digestLoop(ctx) }()
	defer func() {
		for _, l := range loops {
			l.cancel()
			<-l.done
		}
		<-digestDone
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
					if a.Stopped() {
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
