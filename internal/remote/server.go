package remote

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/rpc"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
)

// Backend is what the tray process serves the windows.
type Backend struct {
	Registry *accounts.Registry
	Store    *notifier.Store
	Poller   interface {
		Reload()
		PollNow(accountID string)
	}
	Keys    *accounts.Vault
	AddDemo func(ctx context.Context) (accounts.AddResult, error)
	// Changed is called after a call changed accounts or settings, so that
	// the tray shows it.
	Changed func()
}

// Server serves a Backend to the windows process and queues commands for it.
type Server struct {
	path, token string
	listener    net.Listener
	backend     *Backend

	mu       sync.Mutex
	seq      uint64
	commands []queued
	wake     chan struct{} // closed and replaced when a command is queued
	closed   bool
	// leaving: the windows process said it goes, having done every command
	// queued; Send queues nothing more until Resume.
	leaving bool
	conns   map[net.Conn]bool
}

type queued struct {
	seq uint64
	cmd Command
}

// Listen serves backend on a unix socket at path (its folder is made 0700,
// the socket 0600), to callers that know the token it makes.
func Listen(path string, backend *Backend) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	_ = os.Remove(path) // left by a Cashbell that was killed
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		l.Close()
		return nil, err
	}
	s := &Server{path: path, token: hex.EncodeToString(secret), listener: l, backend: backend, wake: make(chan struct{}),
		conns: map[net.Conn]bool{}}
	rs := rpc.NewServer()
	if err := rs.RegisterName("Cashbell", &service{s: s, b: backend}); err != nil {
		l.Close()
		return nil, err
	}
	go s.accept(rs)
	return s, nil
}

// Env is what the windows process needs to call back.
func (s *Server) Env() []string { return []string{EnvAddr + "=" + s.path, EnvToken + "=" + s.token} }

// Send queues a command for the windows process. It reports false, and
// queues nothing, once that process has said it is leaving: the caller
// starts another (Resume).
func (s *Server) Send(cmd Command) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leaving {
		return false
	}
	s.seq++
	cmd.Seq = s.seq
	s.commands = append(s.commands, queued{s.seq, cmd})
	if len(s.commands) > 64 {
		s.commands = s.commands[len(s.commands)-64:]
	}
	close(s.wake)
	s.wake = make(chan struct{})
	return true
}

// Resume takes commands again, for a windows process started now; it
// reads those after the returned number (EnvSeq).
func (s *Server) Resume() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaving = false
	return s.seq
}

// leave lets the windows process go when it has done every command up to
// done and none came after; from then on Send refuses, so that a window
// asked for in that moment is shown by a new process, not lost with this
// one.
func (s *Server) leave(done uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq > done {
		return false
	}
	s.leaving = true
	return true
}

// Close stops serving and removes the socket.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.wake)
	}
	for c := range s.conns {
		defer c.Close() // after Next has told the windows to quit
	}
	s.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	s.listener.Close()
	_ = os.Remove(s.path)
}

func (s *Server) accept(rs *rpc.Server) {
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			return
		}
		go func() {
			if !s.authorised(conn) {
				conn.Close()
				return
			}
			s.mu.Lock()
			s.conns[conn] = true
			s.mu.Unlock()
			rs.ServeConn(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// authorised reads the token the connection must start with.
func (s *Server) authorised(conn net.Conn) bool {
	// Exactly the token's bytes: what follows is the first call.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line := make([]byte, len(s.token)+1)
	_, err := io.ReadFull(conn, line)
	_ = conn.SetReadDeadline(time.Time{})
	return err == nil && line[len(s.token)] == '\n' && subtle.ConstantTimeCompare(line[:len(s.token)], []byte(s.token)) == 1
}

// next waits for commands after seq.
func (s *Server) next(after uint64) NextReply {
	deadline := time.NewTimer(nextWait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		var out []Command
		for _, q := range s.commands {
			if q.seq > after {
				out = append(out, q.cmd)
			}
		}
		seq, wake, closed := s.seq, s.wake, s.closed
		s.mu.Unlock()
		if len(out) > 0 || closed {
			if closed {
				out = append(out, Command{Kind: Quit})
			}
			return NextReply{Seq: seq, Commands: out}
		}
		select {
		case <-wake:
		case <-deadline.C:
			return NextReply{Seq: seq}
		}
	}
}

// service is the calls; each runs with a bounded context.
type service struct {
	s *Server
	b *Backend
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

func (v *service) changed() {
	if v.b.Changed != nil {
		v.b.Changed()
	}
}

func (v *service) List(_ Empty, reply *[]accounts.Account) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Registry.List(c)
	return err
}

func (v *service) Check(args CheckArgs, reply *accounts.Report) error {
	key, err := accounts.ParseKey(args.Key)
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	rep, err := v.b.Registry.Check(c, key, args.Connected)
	*reply = wireReport(rep)
	return err
}

func (v *service) Add(args AddArgs, reply *AddReply) error {
	key, err := accounts.ParseKey(args.Key)
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	res, err := v.b.Registry.Add(c, accounts.AddRequest{Key: key, Name: args.Name, Connected: args.Connected, Demo: args.Demo})
	*reply = addResult(res)
	if err == nil {
		v.changed()
	}
	return err
}

func addResult(res accounts.AddResult) AddReply {
	out := AddReply{Account: res.Account, Report: wireReport(res.Report), Warnings: res.Warnings}
	if res.IdentityErr != nil {
		out.IdentityErr = res.IdentityErr.Error()
	}
	return out
}

func (v *service) AddDemo(_ Empty, reply *AddReply) error {
	if v.b.AddDemo == nil {
		return errors.New("this Cashbell has no demo")
	}
	c, cancel := ctx()
	defer cancel()
	res, err := v.b.AddDemo(c)
	*reply = addResult(res)
	if err == nil {
		v.changed()
	}
	return err
}

func (v *service) Remove(args IDArgs, _ *Empty) error {
	c, cancel := ctx()
	defer cancel()
	err := v.b.Registry.Remove(c, args.ID)
	v.changed()
	return err
}

func (v *service) Rename(args RenameArgs, reply *accounts.Account) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Registry.Rename(c, args.ID, args.Name)
	v.changed()
	return err
}

func (v *service) SetLogo(args LogoArgs, reply *accounts.Account) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Registry.SetLogo(c, args.ID, args.Data)
	v.changed()
	return err
}

func (v *service) Recheck(args IDArgs, reply *RecheckReply) error {
	c, cancel := ctx()
	defer cancel()
	a, rep, err := v.b.Registry.Recheck(c, args.ID)
	*reply = RecheckReply{Account: a, Report: wireReport(rep)}
	v.changed()
	return err
}

func (v *service) SetMuted(args MuteArgs, reply *accounts.Account) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Registry.SetMuted(c, args.ID, args.Muted)
	v.changed()
	return err
}

func (v *service) Page(q notifier.Query, reply *PageReply) error {
	c, cancel := ctx()
	defer cancel()
	events, cur, err := v.b.Store.Page(c, q)
	*reply = PageReply{Events: events, Cursor: cur}
	return err
}

func (v *service) Since(args SinceArgs, reply *[]notifier.Event) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Store.Since(c, args.T)
	return err
}

func (v *service) Details(args DetailsArgs, reply *[]notifier.Details) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Store.Details(c, args.Events)
	return err
}

func (v *service) SumDays(args SumArgs, reply *notifier.Days) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Store.SumDays(c, args.Accounts, args.Today, args.N)
	return err
}

func (v *service) Settings(_ Empty, reply *notifier.Settings) (err error) {
	c, cancel := ctx()
	defer cancel()
	*reply, err = v.b.Store.Settings(c)
	return err
}

func (v *service) SaveSettings(set notifier.Settings, _ *Empty) error {
	c, cancel := ctx()
	defer cancel()
	err := v.b.Store.SaveSettings(c, set)
	v.changed()
	return err
}

func (v *service) Where(_ Empty, reply *accounts.Storage) error {
	*reply = v.b.Keys.Where()
	return nil
}

func (v *service) KeyNote(args NoteArgs, reply *string) error {
	*reply = v.b.Keys.KeyNote(args.Where)
	return nil
}

func (v *service) Summary(args SummaryArgs, reply *string) error {
	*reply = v.b.Keys.Summary(args.List)
	return nil
}

func (v *service) Reload(_ Empty, _ *Empty) error {
	v.b.Poller.Reload()
	return nil
}

func (v *service) PollNow(args IDArgs, _ *Empty) error {
	v.b.Poller.PollNow(args.ID)
	return nil
}

func (v *service) Next(args NextArgs, reply *NextReply) error {
	*reply = v.s.next(args.After)
	return nil
}

func (v *service) Leave(args NextArgs, reply *bool) error {
	*reply = v.s.leave(args.After)
	return nil
}
