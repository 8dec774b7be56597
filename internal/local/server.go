package local

import (
	"cmp"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// Backend is what the running Cashbell serves.
type Backend struct {
	Registry *accounts.Registry
	Store    *store.Store
	Poller   interface{ Reload() }
	Keys     *accounts.Vault
	AddDemo  func(ctx context.Context) (accounts.AddResult, error)
	// Changed is called after a window changed accounts or settings, so
	// that the tray shows it.
	Changed func()
	// CLI runs a command line for another cashbell process.
	CLI func(ctx context.Context, req CLIRequest) CLIReply
	// Bell is the tray's desktop, which says how the bell rings and rings
	// it for Preferences' test; nil where there is none.
	Bell interface {
		Bell(ctx context.Context) string
		Ring(ctx context.Context) error
	}
	Logger *slog.Logger
}

// errNoDesktop answers a ring where Cashbell runs without a desktop.
var errNoDesktop = errors.New("this Cashbell shows no notifications, so it rings no bell")

// Server serves a Backend, and queues the tray's commands for the windows.
type Server struct {
	b       Backend
	public  *http.Server // the socket or pipe, for commands and windows
	private *http.Server // connections handed to a child
	handed  *connListener

	mu       sync.Mutex
	seq      uint64
	commands []Command
	wake     chan struct{} // closed and replaced when a command is queued
	closed   bool
	// leaving: the UI process said it goes, having done every command
	// queued; Send queues nothing more until Resume.
	leaving bool
}

// Serve serves b on l (nil: only on handed connections) until Close.
func Serve(l net.Listener, b Backend) *Server {
	b.Logger = cmp.Or(b.Logger, slog.New(slog.DiscardHandler))
	s := &Server{b: b, wake: make(chan struct{}), handed: &connListener{conns: make(chan net.Conn), done: make(chan struct{})}}
	mux := http.NewServeMux()
	handle(mux, "/v1/cli", s.cli)
	handle(mux, "/v1/state", s.state)
	handle(mux, "/v1/settings", s.saveSettings)
	handle(mux, "/v1/account", s.account)
	handle(mux, "/v1/events", s.events)
	handle(mux, "/v1/leave", s.leave)
	mux.HandleFunc("GET /v1/commands", s.stream)
	errLog := slog.NewLogLogger(b.Logger.Handler(), slog.LevelDebug)
	s.public = &http.Server{Handler: mux, ReadHeaderTimeout: headerTimeout, IdleTimeout: 30 * time.Second,
		MaxHeaderBytes: 16 << 10, ErrorLog: errLog}
	// The UI process calls over the one connection it was handed,
	// with unencrypted HTTP/2 (NewHandedClient).
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	s.private = &http.Server{Handler: mux, MaxHeaderBytes: 16 << 10, ErrorLog: errLog, Protocols: &h2}
	serve := func(srv *http.Server, l net.Listener) {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			b.Logger.Warn("the local endpoint stopped serving", "err", err)
		}
	}
	if l != nil {
		go serve(s.public, l)
	}
	go serve(s.private, s.handed)
	return s
}

// Attach serves a connection whose other end was handed to a child.
func (s *Server) Attach(c net.Conn) {
	select {
	case s.handed.conns <- c:
	case <-s.handed.done:
		c.Close()
	}
}

// Close tells the windows to quit, lets the calls under way finish for a
// moment, and stops serving.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.wake)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range []*http.Server{s.public, s.private} {
		if srv.Shutdown(ctx) != nil {
			srv.Close() // calls still under way end before the store closes
		}
	}
	s.handed.Close()
}

// Send queues a command for the UI process. It reports false, and
// queues nothing, once that process has said it is leaving: the caller
// starts another (Resume).
func (s *Server) Send(cmd Command) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leaving || s.closed {
		return false
	}
	s.seq++
	cmd.Seq = s.seq
	s.commands = append(s.commands, cmd)
	if len(s.commands) > 64 {
		s.commands = s.commands[len(s.commands)-64:]
	}
	close(s.wake)
	s.wake = make(chan struct{})
	return true
}

// Resume takes commands again, for a UI process started now; it
// reads those after the returned number.
func (s *Server) Resume() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaving = false
	return s.seq
}

// leave lets the UI process go when it has done every command up to
// done and none came after; from then on Send refuses, so that a window
// asked for in that moment is shown by a new process, not lost with this
// one.
func (s *Server) leave(_ context.Context, done uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq > done {
		return false, nil
	}
	s.leaving = true
	return true, nil
}

// stream writes the commands after ?after= as they are queued, and a Quit
// when the server closes.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	flush := http.NewResponseController(w).Flush
	enc := gob.NewEncoder(w)
	for {
		s.mu.Lock()
		var out []Command
		for _, c := range s.commands {
			if c.Seq > after {
				out = append(out, c)
			}
		}
		seq, wake, closed := s.seq, s.wake, s.closed
		s.mu.Unlock()
		if closed {
			out = append(out, Command{Kind: Quit})
		}
		for _, c := range out {
			if enc.Encode(c) != nil {
				return
			}
		}
		if flush() != nil || closed {
			return
		}
		after = seq
		select {
		case <-wake:
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) changed() {
	if s.b.Changed != nil {
		s.b.Changed()
	}
}

func (s *Server) cli(ctx context.Context, req CLIRequest) (CLIReply, error) {
	if s.b.CLI == nil {
		return CLIReply{Code: 2, Stderr: "cashbell: this Cashbell runs no commands\n"}, nil
	}
	return s.b.CLI(ctx, req), nil
}

func (s *Server) state(ctx context.Context, _ bool) (State, error) {
	list, err := s.b.Registry.List(ctx)
	if err != nil {
		return State{}, err
	}
	set, err := s.b.Store.Settings(ctx)
	if err != nil {
		return State{}, err
	}
	notes := map[accounts.Storage]string{}
	for _, st := range []accounts.Storage{accounts.StorageKeyring, accounts.StorageFile} {
		notes[st] = s.b.Keys.KeyNote(st)
	}
	bell := ""
	if s.b.Bell != nil {
		bell = s.b.Bell.Bell(ctx)
	}
	return State{Accounts: list, Settings: set, Where: s.b.Keys.Where(), KeyNotes: notes, Summary: s.b.Keys.Summary(list), Bell: bell}, nil
}

func (s *Server) saveSettings(ctx context.Context, set store.Settings) (bool, error) {
	err := s.b.Store.SaveSettings(ctx, set)
	s.changed()
	return err == nil, err
}

func (s *Server) account(ctx context.Context, in AccountCall) (AccountReply, error) {
	var res accounts.AddResult
	var err error
	var key accounts.Key
	if in.Op == OpCheck || in.Op == OpAdd || in.Op == OpReplace {
		if key, err = accounts.ParseKey(in.Key); err != nil {
			return AccountReply{}, err
		}
	}
	switch in.Op {
	case OpCheck:
		res.Report, err = s.b.Registry.Check(ctx, key, in.Connected)
	case OpAdd:
		res, err = s.b.Registry.Add(ctx, accounts.AddRequest{Key: key, Name: in.Name, Connected: in.Connected})
	case OpReplace:
		res, err = s.b.Registry.ReplaceKey(ctx, in.ID, key)
	case OpDemo:
		if s.b.AddDemo == nil {
			return AccountReply{}, errors.New("this Cashbell has no demo")
		}
		res, err = s.b.AddDemo(ctx)
	case OpRemove:
		err = s.b.Registry.Remove(ctx, in.ID)
	case OpRename:
		res.Account, err = s.b.Registry.Rename(ctx, in.ID, in.Name)
	case OpLogo:
		res.Account, err = s.b.Registry.SetLogo(ctx, in.ID, in.Logo)
	case OpRecheck:
		res.Account, res.Report, err = s.b.Registry.Recheck(ctx, in.ID)
	case OpMute:
		res.Account, err = s.b.Registry.SetMuted(ctx, in.ID, in.Muted)
	case OpReload:
		s.b.Poller.Reload()
	case OpRing:
		err = errNoDesktop
		if s.b.Bell != nil {
			err = s.b.Bell.Ring(ctx)
		}
	default:
		return AccountReply{}, fmt.Errorf("unknown account operation %q", in.Op)
	}
	switch in.Op {
	case OpRemove, OpRename, OpLogo, OpRecheck, OpMute:
		s.changed()
	case OpAdd, OpReplace, OpDemo:
		if err == nil {
			s.changed()
		}
	}
	out := AccountReply{Account: res.Account, Report: wireReport(res.Report), Warnings: res.Warnings}
	if res.IdentityErr != nil {
		out.IdentityErr = res.IdentityErr.Error()
	}
	return out, err
}

func (s *Server) events(ctx context.Context, in EventsCall) (out EventsReply, err error) {
	if in.Days < 0 || in.Days > 366 {
		return out, fmt.Errorf("days %d: at most a year, by day", in.Days)
	}
	h := notifier.History{Store: s.b.Store}
	switch in.What {
	case "page":
		out.Events, out.Cursor, err = s.b.Store.Page(ctx, in.Query)
	case "facts":
		out.Facts, err = h.Facts(ctx, in.Events)
	case "deadlines":
		out.Deadlines, err = h.Deadlines(ctx, in.Today)
	case "recurring":
		if len(in.Accounts) == 1 {
			out.Recurring, err = h.Recurring(ctx, in.Accounts[0])
		}
	case "mrr-month":
		if len(in.Accounts) == 1 {
			out.MRRMonth, err = h.MRRMonth(ctx, in.Accounts[0], in.Today, in.Days)
		}
	case "unseen":
		out.Unseen, err = h.Unseen(ctx)
	case "sum":
		out.Days, err = h.SumDays(ctx, in.Accounts, in.Today, in.Days)
	default:
		err = fmt.Errorf("unknown events call %q", in.What)
	}
	return out, err
}

// answer is every reply: a value, and the error's sentence (redacted).
type answer[T any] struct {
	Value T
	Err   string
}

// handle serves POST path with f: a gob request of at most maxRequest
// bytes in, an answer out, within callTimeout.
func handle[In, Out any](mux *http.ServeMux, path string, f func(context.Context, In) (Out, error)) {
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := gob.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest)).Decode(&in); err != nil {
			http.Error(w, "cashbell: a request that is too large or unreadable", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
		defer cancel()
		out, err := f(ctx, in)
		a := answer[Out]{Value: out}
		if err != nil {
			a.Err = accounts.Redact(err.Error())
		}
		_ = gob.NewEncoder(w).Encode(a)
	})
}

// connListener is the listener of the connections handed to children.
type connListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return &net.UnixAddr{Name: "handed", Net: "unix"} }
