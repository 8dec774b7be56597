package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
)

// ErrTrayGone means the tray process stopped answering: the windows go too.
var ErrTrayGone = errors.New("the Cashbell tray process is gone")

// Client is the windows process's side: it has the methods of the
// registry, the store, the key vault and the poller that the windows use.
type Client struct {
	rpc *rpc.Client
}

// Dial connects to the tray process at addr with its token.
func Dial(ctx context.Context, addr, token string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTrayGone, err)
	}
	if _, err := conn.Write([]byte(token + "\n")); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %w", ErrTrayGone, err)
	}
	return &Client{rpc: rpc.NewClient(conn)}, nil
}

// Close hangs up.
func (c *Client) Close() error { return c.rpc.Close() }

// call makes a call that ends with ctx, or after callTimeout.
func (c *Client) call(ctx context.Context, method string, args, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	call := c.rpc.Go("Cashbell."+method, args, reply, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		var se rpc.ServerError
		switch {
		case errors.As(call.Error, &se):
			return errors.New(string(se)) // the tray's own sentence
		case call.Error != nil:
			return fmt.Errorf("%w: %w", ErrTrayGone, call.Error)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) List(ctx context.Context) ([]accounts.Account, error) {
	var out []accounts.Account
	return out, c.call(ctx, "List", Empty{}, &out)
}

func (c *Client) Check(ctx context.Context, key accounts.Key, connected string) (accounts.Report, error) {
	var out accounts.Report
	return out, c.call(ctx, "Check", CheckArgs{Key: key.Reveal(), Connected: connected}, &out)
}

func (c *Client) Add(ctx context.Context, req accounts.AddRequest) (accounts.AddResult, error) {
	var out AddReply
	err := c.call(ctx, "Add", AddArgs{Key: req.Key.Reveal(), Name: req.Name, Connected: req.Connected, Demo: req.Demo}, &out)
	return out.result(), err
}

// AddDemo starts the demo and adds its account (or returns it).
func (c *Client) AddDemo(ctx context.Context) (accounts.AddResult, error) {
	var out AddReply
	err := c.call(ctx, "AddDemo", Empty{}, &out)
	return out.result(), err
}

func (r AddReply) result() accounts.AddResult {
	res := accounts.AddResult{Account: r.Account, Report: r.Report, Warnings: r.Warnings}
	if r.IdentityErr != "" {
		res.IdentityErr = errors.New(r.IdentityErr)
	}
	return res
}

func (c *Client) Remove(ctx context.Context, id string) error {
	return c.call(ctx, "Remove", IDArgs{ID: id}, &Empty{})
}

func (c *Client) Rename(ctx context.Context, id, name string) (accounts.Account, error) {
	var out accounts.Account
	return out, c.call(ctx, "Rename", RenameArgs{ID: id, Name: name}, &out)
}

func (c *Client) SetLogo(ctx context.Context, id string, data []byte) (accounts.Account, error) {
	var out accounts.Account
	return out, c.call(ctx, "SetLogo", LogoArgs{ID: id, Data: data}, &out)
}

func (c *Client) Recheck(ctx context.Context, id string) (accounts.Account, accounts.Report, error) {
	var out RecheckReply
	err := c.call(ctx, "Recheck", IDArgs{ID: id}, &out)
	return out.Account, out.Report, err
}

func (c *Client) SetMuted(ctx context.Context, id string, muted bool) (accounts.Account, error) {
	var out accounts.Account
	return out, c.call(ctx, "SetMuted", MuteArgs{ID: id, Muted: muted}, &out)
}

func (c *Client) Page(ctx context.Context, q notifier.Query) ([]notifier.Event, *notifier.Cursor, error) {
	var out PageReply
	err := c.call(ctx, "Page", q, &out)
	return out.Events, out.Cursor, err
}

func (c *Client) Since(ctx context.Context, t time.Time) ([]notifier.Event, error) {
	var out []notifier.Event
	return out, c.call(ctx, "Since", SinceArgs{T: t}, &out)
}

func (c *Client) Details(ctx context.Context, events []notifier.Event) ([]notifier.Details, error) {
	var out []notifier.Details
	return out, c.call(ctx, "Details", DetailsArgs{Events: events}, &out)
}

func (c *Client) SumDays(ctx context.Context, accountIDs []string, today time.Time, n int) (notifier.Days, error) {
	var out notifier.Days
	err := c.call(ctx, "SumDays", SumArgs{Accounts: accountIDs, Today: today, N: n}, &out)
	if err == nil {
		out.Start = out.Start.In(today.Location())
	}
	return out, err
}

func (c *Client) Settings(ctx context.Context) (notifier.Settings, error) {
	var out notifier.Settings
	return out, c.call(ctx, "Settings", Empty{}, &out)
}

func (c *Client) SaveSettings(ctx context.Context, s notifier.Settings) error {
	return c.call(ctx, "SaveSettings", s, &Empty{})
}

// Where says where new keys are kept. It and KeyNote and Summary are local
// reads in the tray process, so a failed call says nothing rather than
// something wrong.
func (c *Client) Where() accounts.Storage {
	var out accounts.Storage
	_ = c.call(context.Background(), "Where", Empty{}, &out)
	return out
}

func (c *Client) KeyNote(where accounts.Storage) string {
	var out string
	_ = c.call(context.Background(), "KeyNote", NoteArgs{Where: where}, &out)
	return out
}

func (c *Client) Summary(list []accounts.Account) string {
	var out string
	_ = c.call(context.Background(), "Summary", SummaryArgs{List: list}, &out)
	return out
}

func (c *Client) Reload() { _ = c.call(context.Background(), "Reload", Empty{}, &Empty{}) }

func (c *Client) PollNow(id string) {
	_ = c.call(context.Background(), "PollNow", IDArgs{ID: id}, &Empty{})
}

// Leave asks the tray whether the windows process may end, having done
// every command up to done; an unreachable tray lets it.
func (c *Client) Leave(ctx context.Context, done uint64) bool {
	var ok bool
	if err := c.call(ctx, "Leave", NextArgs{After: done}, &ok); err != nil {
		return true
	}
	return ok
}

// Commands delivers the tray's commands queued after seq until ctx ends or
// the tray is gone (then a Quit), and closes.
func (c *Client) Commands(ctx context.Context, after uint64) <-chan Command {
	out := make(chan Command, 8)
	go func() {
		defer close(out)
		seq := after
		for ctx.Err() == nil {
			var reply NextReply
			if err := c.call(ctx, "Next", NextArgs{After: seq}, &reply); err != nil {
				if ctx.Err() == nil {
					out <- Command{Kind: Quit}
				}
				return
			}
			seq = reply.Seq
			for _, cmd := range reply.Commands {
				select {
				case out <- cmd:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
