package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cashbell/cashbell/internal/wiring"
)

// The running Cashbell holds the store, and bbolt's lock is exclusive, so
// commands such as `cashbell events` are served by it over a local socket
// (mode 0600, in a folder only the user can enter) instead of opening the
// store themselves. Without a running instance they open the store as usual.

// servedCommands are the commands a running instance answers.
var servedCommands = [][]string{{"events"}, {"accounts", "list"}, {"accounts", "add"}, {"accounts", "remove"}, {"check-now"}}

// Limits on the instance channel.
const (
	maxRequest   = 64 << 10
	maxReply     = 64 << 20
	serveTimeout = 60 * time.Second
	dialTimeout  = 2 * time.Second
)

type request struct {
	Args  []string `json:"args"`
	Stdin string   `json:"stdin"` // a key for accounts add, read by the client
}

type reply struct {
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// socketPath is where the running instance listens: the user's runtime
// folder when there is one, else Cashbell's config folder.
func socketPath(env Env, dirs wiring.Dirs) string {
	if run := env.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(run) {
		return filepath.Join(run, "cashbell", "instance.sock")
	}
	return filepath.Join(dirs.Config, "instance.sock")
}

func served(args []string) bool {
	for _, c := range servedCommands {
		if len(args) >= len(c) && slices.Equal(args[:len(c)], c) {
			return true
		}
	}
	return false
}

// serveInstance answers commands from other cashbell processes with the
// running instance's services until ctx ends.
// show, when not nil, brings the window forward for a second launch that
// could not reach this one over D-Bus (Windows, macOS).
func serveInstance(ctx context.Context, env Env, d *wiring.Main, show func()) (stop func()) {
	path := socketPath(env, d.Dirs)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		d.Logger.Warn("commands cannot reach this Cashbell", "err", err)
		return func() {}
	}
	_ = os.Remove(path) // a socket left by a Cashbell that was killed
	l, err := net.Listen("unix", path)
	if err != nil {
		d.Logger.Warn("commands cannot reach this Cashbell", "err", err)
		return func() {}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		d.Logger.Warn("commands cannot reach this Cashbell", "err", err)
		return func() {}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			l.Close()
			_ = os.Remove(path)
		})
	}
	go func() {
		<-ctx.Done()
		stop()
	}()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go answer(ctx, env, d, conn, show)
		}
	}()
	return stop
}

func answer(ctx context.Context, env Env, d *wiring.Main, conn net.Conn, show func()) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(serveTimeout))
	var req request
	err := json.NewDecoder(io.LimitReader(conn, maxRequest)).Decode(&req)
	if err == nil && show != nil && slices.Equal(req.Args, []string{"show"}) {
		show()
		_ = json.NewEncoder(conn).Encode(reply{})
		return
	}
	if err != nil || !served(req.Args) {
		_ = json.NewEncoder(conn).Encode(reply{Code: 2, Stderr: "cashbell: this command is not served by the running Cashbell\n"})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, serveTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Main(ctx, Env{Args: req.Args, Stdin: strings.NewReader(req.Stdin), Stdout: &out, Stderr: &errOut,
		Getenv: env.Getenv, running: d})
	d.Logger.Debug("served a command", "command", req.Args[0], "code", code)
	_ = json.NewEncoder(conn).Encode(reply{Code: code, Stdout: out.String(), Stderr: errOut.String()})
}

// showRunning asks a running Cashbell to bring its window forward through
// the instance socket, and reports whether it did.
func showRunning(ctx context.Context, env Env) bool {
	dirs, err := wiring.FindDirs(env.Getenv)
	if err != nil {
		return false
	}
	code, err := forward(ctx, env, dirs, request{Args: []string{"show"}})
	return err == nil && code == 0
}

// errNoInstance means no running Cashbell answered; the command runs here.
var errNoInstance = errors.New("no running Cashbell")

// forward asks a running instance to run the command, and copies its answer.
func forward(ctx context.Context, env Env, dirs wiring.Dirs, req request) (int, error) {
	var dialer net.Dialer
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := dialer.DialContext(dctx, "unix", socketPath(env, dirs))
	if err != nil {
		return 0, errNoInstance
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(serveTimeout + dialTimeout))
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return 0, fmt.Errorf("talking to the running Cashbell: %w", err)
	}
	var rep reply
	if err := json.NewDecoder(io.LimitReader(conn, maxReply)).Decode(&rep); err != nil {
		return 0, fmt.Errorf("talking to the running Cashbell: %w", err)
	}
	io.WriteString(env.Stdout, rep.Stdout)
	io.WriteString(env.Stderr, rep.Stderr)
	return rep.Code, nil
}

// exitStatus is the status a running instance gave a forwarded command;
// its output has been copied already.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// openOrForward gives a command the services it needs: the running
// instance's own when the instance runs it, else those of a store opened
// here. When another Cashbell runs, the command is forwarded to it and
// exitStatus is returned. The returned function releases what was opened.
func openOrForward(ctx context.Context, env Env, req request) (*wiring.Main, func(), error) {
	if env.running != nil {
		return env.running, func() {}, nil
	}
	dirs, err := wiring.FindDirs(env.Getenv)
	if err != nil {
		return nil, nil, err
	}
	code, err := forward(ctx, env, dirs, req)
	switch {
	case err == nil:
		return nil, nil, exitStatus(code)
	case !errors.Is(err, errNoInstance):
		return nil, nil, err
	}
	m, err := wiring.Open(ctx, env.config(0, NewLogger(io.Discard, false)))
	if err != nil {
		return nil, nil, err
	}
	return m, m.Close, nil
}
