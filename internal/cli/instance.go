package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"

	"github.com/cashbell/cashbell/internal/local"
	"github.com/cashbell/cashbell/internal/wiring"
)

// The running Cashbell holds the store, and bbolt's lock is exclusive, so
// commands such as `cashbell events` are served by it over the local
// endpoint (internal/local) instead of opening the store themselves.
// Without a running instance they open the store as usual.

// servedCommands are the commands a running instance answers.
var servedCommands = [][]string{{"events"}, {"accounts", "list"}, {"accounts", "add"}, {"accounts", "remove"}, {"check-now"}}

type request = local.CLIRequest

func served(args []string) bool {
	for _, c := range servedCommands {
		if len(args) >= len(c) && slices.Equal(args[:len(c)], c) {
			return true
		}
	}
	return false
}

// endpoint is where the running Cashbell of this config folder listens.
func endpoint(env Env, dirs wiring.Dirs) (string, error) {
	return local.Path(dirs.Config, env.Getenv("XDG_RUNTIME_DIR"))
}

// serveLocal serves the running instance's endpoint, to other cashbell
// processes and to its UI process, until stop. show, when not nil,
// brings the window forward for a second launch; changed is called after a
// window changed accounts or settings.
func serveLocal(env Env, d *wiring.Main, show, changed func()) (srv *local.Server, stop func()) {
	var l net.Listener
	path, err := endpoint(env, d.Dirs)
	if err == nil {
		l, err = local.Listen(path)
	}
	if err != nil {
		d.Logger.Warn("commands cannot reach this Cashbell", "err", err)
		l = nil // its windows are still served, on the sockets handed to them
	}
	srv = local.Serve(l, local.Backend{Registry: d.Registry, Store: d.Store, Poller: d.Service, Keys: d.Vault,
		AddDemo: d.AddDemo, Changed: changed, Logger: d.Logger, Bell: d.Bell(),
		CLI: func(ctx context.Context, req local.CLIRequest) local.CLIReply { return answer(ctx, env, d, req, show) }})
	return srv, srv.Close
}

func answer(ctx context.Context, env Env, d *wiring.Main, req local.CLIRequest, show func()) local.CLIReply {
	if show != nil && slices.Equal(req.Args, []string{"show"}) {
		show()
		return local.CLIReply{}
	}
	if !served(req.Args) {
		return local.CLIReply{Code: 2, Stderr: "cashbell: this command is not served by the running Cashbell\n"}
	}
	var out, errOut bytes.Buffer
	code := Main(ctx, Env{Args: req.Args, Stdin: strings.NewReader(req.Stdin), Stdout: &out, Stderr: &errOut,
		Getenv: env.Getenv, running: d})
	d.Logger.Debug("served a command", "command", req.Args[0], "code", code)
	return local.CLIReply{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

// showRunning asks a running Cashbell to bring its window forward, and
// says why it did not.
func showRunning(ctx context.Context, env Env) error {
	code, err := forward(ctx, env, request{Args: []string{"show"}})
	if err == nil && code != 0 {
		return errors.New("the running Cashbell has no window: it runs headless")
	}
	return err
}

// errNoInstance means no running Cashbell answered; the command runs here.
var errNoInstance = errors.New("no running Cashbell")

// forward asks a running instance to run the command, and copies its answer.
func forward(ctx context.Context, env Env, req request) (int, error) {
	dirs, err := wiring.FindDirs(env.Getenv)
	if err != nil {
		return 0, err
	}
	path, err := endpoint(env, dirs)
	if err != nil {
		return 0, errNoInstance // none can listen where there is no folder for it
	}
	c := local.NewClient(local.DialPath(path))
	defer c.Close()
	rep, err := c.RunCLI(ctx, req)
	switch {
	case errors.Is(err, local.ErrNotYours):
		return 0, err // never run the command as if nobody were there
	case errors.Is(err, local.ErrGone):
		return 0, errNoInstance
	case err != nil:
		return 0, err
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
	code, err := forward(ctx, env, req)
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
