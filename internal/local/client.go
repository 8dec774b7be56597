package local

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// ErrGone means the running Cashbell stopped answering.
var ErrGone = errors.New("the running Cashbell is gone")

// Client calls a running Cashbell. It has the methods of the registry, the
// store, the key vault and the poller that the windows use, each made of
// one of the few calls.
type Client struct {
	hc *http.Client

	mu   sync.Mutex
	last State // the newest State, for where keys are kept
}

// NewClient calls through the connections dial gives: HTTP/1.1, a
// connection a call, for the command line and the named pipe.
func NewClient(dial func(ctx context.Context) (net.Conn, error)) *Client {
	return newClient(dial, nil)
}

// NewHandedClient calls over the one connection a parent handed over,
// with unencrypted HTTP/2 over it: the stream of commands and any number of
// calls share it, and a call given up on ends its stream, not the
// connection.
func NewHandedClient(c net.Conn) *Client {
	var once sync.Once
	dial := func(context.Context) (net.Conn, error) {
		var got net.Conn
		once.Do(func() { got = c })
		if got == nil {
			return nil, errors.New("the connection to the tray was lost")
		}
		return got, nil
	}
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	return newClient(dial, &h2)
}

func newClient(dial func(ctx context.Context) (net.Conn, error), protocols *http.Protocols) *Client {
	return &Client{hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := dial(ctx)
			if err != nil {
				return nil, &dialError{err}
			}
			return c, nil
		},
		Protocols:          protocols,
		DisableCompression: true,
	}}}
}

// dialError marks a failure to reach the running Cashbell at all, as
// against an answer cut short.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// DialPath is a dial function for the endpoint at path.
func DialPath(path string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) { return Dial(ctx, path) }
}

// Close hangs up, without waiting: under Wine 8, closing a named pipe
// whose read is still pending can wait for good, and the process is about
// to end or to dial afresh anyway.
func (c *Client) Close() error {
	go c.hc.CloseIdleConnections()
	return nil
}

// call posts in to path and decodes the answer, within ctx and callTimeout.
func call[In, Out any](ctx context.Context, c *Client, path string, in In) (Out, error) {
	var a answer[Out]
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(in); err != nil {
		return a.Value, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://cashbell"+path, &body)
	if err != nil {
		return a.Value, err
	}
	resp, err := c.hc.Do(req)
	var dialErr *dialError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return a.Value, ctx.Err()
	case errors.As(err, &dialErr) && errors.Is(err, ErrNotYours):
		return a.Value, err
	case errors.As(err, &dialErr):
		return a.Value, fmt.Errorf("%w: %w", ErrGone, err)
	default:
		return a.Value, fmt.Errorf("the running Cashbell's answer was cut short: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so that the connection serves again
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return a.Value, fmt.Errorf("the running Cashbell refused the call: %s", bytes.TrimSpace(msg))
	}
	if err := gob.NewDecoder(io.LimitReader(resp.Body, maxReply)).Decode(&a); err != nil {
		return a.Value, fmt.Errorf("the running Cashbell's answer was cut short or larger than %d MiB: %w", maxReply>>20, err)
	}
	if a.Err != "" {
		return a.Value, errors.New(a.Err) // the running Cashbell's own sentence
	}
	return a.Value, nil
}

// RunCLI runs a command line in the running Cashbell.
func (c *Client) RunCLI(ctx context.Context, req CLIRequest) (CLIReply, error) {
	return call[CLIRequest, CLIReply](ctx, c, "/v1/cli", req)
}

// State is what Preferences shows.
func (c *Client) State(ctx context.Context) (State, error) {
	st, err := call[bool, State](ctx, c, "/v1/state", true)
	if err == nil {
		c.mu.Lock()
		c.last = st
		c.mu.Unlock()
	}
	return st, err
}

func (c *Client) List(ctx context.Context) ([]accounts.Account, error) {
	st, err := c.State(ctx)
	return st.Accounts, err
}

func (c *Client) Settings(ctx context.Context) (store.Settings, error) {
	st, err := c.State(ctx)
	return st.Settings, err
}

func (c *Client) SaveSettings(ctx context.Context, s store.Settings) error {
	_, err := call[store.Settings, bool](ctx, c, "/v1/settings", s)
	return err
}

// known is the newest State, asked for once if there is none yet.
func (c *Client) known() State {
	c.mu.Lock()
	st := c.last
	c.mu.Unlock()
	if st.KeyNotes == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, _ = c.State(ctx)
	}
	return st
}

// Where says where new keys are kept. It, KeyNote and Summary answer from
// the newest State: Preferences asks them right after listing the accounts.
func (c *Client) Where() accounts.Storage { return c.known().Where }

// KeyNote says what keeping a key in where means.
func (c *Client) KeyNote(where accounts.Storage) string { return c.known().KeyNotes[where] }

// Summary says where the listed accounts' keys are kept.
func (c *Client) Summary([]accounts.Account) string { return c.known().Summary }

func (c *Client) account(ctx context.Context, in AccountCall) (accounts.AddResult, error) {
	r, err := call[AccountCall, AccountReply](ctx, c, "/v1/account", in)
	res := accounts.AddResult{Account: r.Account, Report: r.Report, Warnings: r.Warnings}
	if r.IdentityErr != "" {
		res.IdentityErr = errors.New(r.IdentityErr)
	}
	return res, err
}

func (c *Client) Check(ctx context.Context, key accounts.Key, connected string) (accounts.Report, error) {
	res, err := c.account(ctx, AccountCall{Op: OpCheck, Key: key.Reveal(), Connected: connected})
	return res.Report, err
}

func (c *Client) Add(ctx context.Context, req accounts.AddRequest) (accounts.AddResult, error) {
	return c.account(ctx, AccountCall{Op: OpAdd, Key: req.Key.Reveal(), Name: req.Name, Connected: req.Connected})
}

// ReplaceKey gives a listed account a new key.
func (c *Client) ReplaceKey(ctx context.Context, id string, key accounts.Key) (accounts.AddResult, error) {
	return c.account(ctx, AccountCall{Op: OpReplace, ID: id, Key: key.Reveal()})
}

// AddDemo starts the demo and adds its account (or returns it).
func (c *Client) AddDemo(ctx context.Context) (accounts.AddResult, error) {
	return c.account(ctx, AccountCall{Op: OpDemo})
}

func (c *Client) Remove(ctx context.Context, id string) error {
	_, err := c.account(ctx, AccountCall{Op: OpRemove, ID: id})
	return err
}

func (c *Client) Rename(ctx context.Context, id, name string) (accounts.Account, error) {
	res, err := c.account(ctx, AccountCall{Op: OpRename, ID: id, Name: name})
	return res.Account, err
}

func (c *Client) SetLogo(ctx context.Context, id string, data []byte) (accounts.Account, error) {
	res, err := c.account(ctx, AccountCall{Op: OpLogo, ID: id, Logo: data})
	return res.Account, err
}

func (c *Client) Recheck(ctx context.Context, id string) (accounts.Account, accounts.Report, error) {
	res, err := c.account(ctx, AccountCall{Op: OpRecheck, ID: id})
	return res.Account, res.Report, err
}

func (c *Client) SetMuted(ctx context.Context, id string, muted bool) (accounts.Account, error) {
	res, err := c.account(ctx, AccountCall{Op: OpMute, ID: id, Muted: muted})
	return res.Account, err
}

// Bell says how the bell rings in the running Cashbell.
func (c *Client) Bell(ctx context.Context) string {
	st, _ := c.State(ctx)
	return st.Bell
}

// Ring rings the bell once, as the running Cashbell rings it.
func (c *Client) Ring(ctx context.Context) error {
	_, err := c.account(ctx, AccountCall{Op: OpRing})
	return err
}

// Reload is asked in the background: the window does not wait.
func (c *Client) Reload() { go c.account(context.Background(), AccountCall{Op: OpReload}) }

func (c *Client) Page(ctx context.Context, q store.Query) ([]store.Event, *store.Cursor, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "page", Query: q})
	return r.Events, r.Cursor, err
}

func (c *Client) Facts(ctx context.Context, events []store.Event) ([]store.Facts, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "facts", Events: events})
	return r.Facts, err
}

func (c *Client) Unseen(ctx context.Context) (notifier.Unseen, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "unseen"})
	return r.Unseen, err
}

func (c *Client) Deadlines(ctx context.Context, now time.Time) ([]notifier.Deadline, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "deadlines", Today: now})
	return r.Deadlines, err
}

func (c *Client) Recurring(ctx context.Context, account string) (notifier.Recurring, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "recurring", Accounts: []string{account}})
	return r.Recurring, err
}

func (c *Client) MRRMonth(ctx context.Context, account string, today time.Time, n int) (notifier.MRRMonth, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "mrr-month", Accounts: []string{account}, Today: today, Days: n})
	return r.MRRMonth, err
}

func (c *Client) SumDays(ctx context.Context, ids []string, today time.Time, n int) (notifier.Days, error) {
	r, err := call[EventsCall, EventsReply](ctx, c, "/v1/events", EventsCall{What: "sum", Accounts: ids, Today: today, Days: n})
	r.Days.Start = r.Days.Start.In(today.Location())
	return r.Days, err
}

// Leave asks the tray whether the UI process may end, having done
// every command up to done; an unreachable tray lets it.
func (c *Client) Leave(ctx context.Context, done uint64) bool {
	ok, err := call[uint64, bool](ctx, c, "/v1/leave", done)
	return ok || err != nil
}

// Commands delivers the tray's commands queued after seq, as they come,
// until ctx ends or the tray is gone (then a Quit), and closes.
func (c *Client) Commands(ctx context.Context, after uint64) <-chan Command {
	out := make(chan Command, 8)
	go func() {
		defer close(out)
		quit := func() {
			if ctx.Err() == nil {
				out <- Command{Kind: Quit}
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://cashbell/v1/commands?after="+strconv.FormatUint(after, 10), nil)
		if err != nil {
			quit()
			return
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			quit()
			return
		}
		defer resp.Body.Close()
		limited := &io.LimitedReader{R: resp.Body}
		dec := gob.NewDecoder(limited)
		for {
			limited.N = maxCommand
			var cmd Command
			if err := dec.Decode(&cmd); err != nil {
				quit()
				return
			}
			select {
			case out <- cmd:
			case <-ctx.Done():
				return
			}
			if cmd.Kind == Quit {
				return
			}
		}
	}()
	return out
}
