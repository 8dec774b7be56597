package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/cashbell/cashbell/internal/local"
)

// envPipe names the endpoint for a UI process that cannot be handed
// connected sockets (Windows): the pipe only this user can open.
const envPipe = "CASHBELL_PIPE"

// UIHost starts the UI process when a window is wanted and hands
// it the tray's commands; the process ends by itself a moment after its
// last window closes.
type UIHost struct {
	srv    *local.Server
	exe    string
	pipe   string // the endpoint, where sockets cannot be handed over
	logger *slog.Logger

	mu      sync.Mutex
	running bool
	done    chan struct{} // closed when the running process ended
	proc    *os.Process
}

func newUIHost(srv *local.Server, pipe string, logger *slog.Logger) (*UIHost, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &UIHost{srv: srv, exe: exe, pipe: pipe, logger: logger}, nil
}

// Show hands cmd to the UI process, starting one if none runs or the
// one running is on its way out.
func (h *UIHost) Show(cmd local.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running && h.srv.Send(cmd) {
		return
	}
	seq := h.srv.Resume()
	h.srv.Send(cmd)
	c := exec.Command(h.exe, "ui", "--after", strconv.FormatUint(seq, 10))
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	// One connected socket, on which the UI process speaks HTTP/2 to
	// the tray; where there are none to hand over (Windows), it opens the
	// pipe only this user can open.
	tray, child, err := local.Pair()
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		c.Env = append(os.Environ(), envPipe+"="+h.pipe)
	case err != nil:
		h.logger.Error("the windows did not start", "err", err)
		return
	default:
		defer child.Close() // the child has its own copy once started
		c.ExtraFiles = []*os.File{child}
	}
	if err := c.Start(); err != nil {
		h.logger.Error("the windows did not start", "err", err)
		if tray != nil {
			tray.Close()
		}
		return
	}
	if tray != nil {
		go h.srv.Attach(tray)
	}
	h.running, h.proc, h.done = true, c.Process, make(chan struct{})
	done := h.done
	go func() {
		err := c.Wait()
		if err != nil {
			h.logger.Warn("the UI process ended", "err", err)
		}
		h.mu.Lock()
		if h.proc == c.Process { // not already followed by another
			h.running = false
		}
		h.mu.Unlock()
		close(done)
	}()
}

// Send hands cmd to a running UI process; with none, it is dropped.
func (h *UIHost) Send(cmd local.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running {
		h.srv.Send(cmd)
	}
}

// Close tells the UI process to quit and waits for it a little.
func (h *UIHost) Close() {
	h.mu.Lock()
	running, done, proc := h.running, h.done, h.proc
	h.mu.Unlock()
	h.srv.Send(local.Command{Kind: local.Quit})
	if running {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = proc.Kill()
			<-done
		}
	}
}

// runUI is the UI process: it calls back the tray process that
// started it, through the sockets it was handed, and shows what it is
// asked to.
func runUI(ctx context.Context, env Env, args []string) error {
	fs := newFlags("ui")
	after := fs.Uint64("after", 0, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if env.UI == nil {
		return errors.New("this build has no window")
	}
	if noDisplay(env.Getenv) {
		return errors.New("there is no display to draw windows on (neither DISPLAY nor WAYLAND_DISPLAY is set)")
	}
	var c *local.Client
	if pipe := env.Getenv(envPipe); pipe != "" {
		c = local.NewClient(local.DialPath(pipe))
	} else {
		tray, err := local.Inherited()
		if err != nil {
			return fmt.Errorf("%w: `cashbell ui` is started by a running Cashbell (%w)", errUsage, err)
		}
		c = local.NewHandedClient(tray)
	}
	defer c.Close()
	logger := NewLogger(env.Stderr, env.Getenv("CASHBELL_VERBOSE") != "")
	logger.Debug("the UI process starts", "after", *after)
	return env.UI(ctx, UIOptions{Client: c, Seq: *after, Logger: logger})
}

// noDisplay: on an X11 or Wayland desktop, no display was given.
func noDisplay(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return false
	}
	return getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == ""
}
