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

// envPipe names the endpoint for a windows process that cannot be handed
// connected sockets (Windows): the pipe only this user can open.
const envPipe = "CASHBELL_PIPE"

// WindowHost starts the windows process when a window is wanted and hands
// it the tray's commands; the process ends by itself a moment after its
// last window closes.
type WindowHost struct {
	srv    *local.Server
	exe    string
	pipe   string // the endpoint, where sockets cannot be handed over
	logger *slog.Logger

	mu      sync.Mutex
	running bool
	done    chan struct{} // closed when the running process ended
	proc    *os.Process
}

func newWindowHost(srv *local.Server, pipe string, logger *slog.Logger) (*WindowHost, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &WindowHost{srv: srv, exe: exe, pipe: pipe, logger: logger}, nil
}

// Show hands cmd to the windows process, starting one if none runs or the
// one running is on its way out.
func (h *WindowHost) Show(cmd local.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running && h.srv.Send(cmd) {
		return
	}
	seq := h.srv.Resume()
	h.srv.Send(cmd)
	c := exec.Command(h.exe, "windows", "--after", strconv.FormatUint(seq, 10))
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	// One connected socket, on which the windows process speaks HTTP/2 to
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
			h.logger.Warn("the windows process ended", "err", err)
		}
		h.mu.Lock()
		if h.proc == c.Process { // not already followed by another
			h.running = false
		}
		h.mu.Unlock()
		close(done)
	}()
}

// Send hands cmd to a running windows process; with none, it is dropped.
func (h *WindowHost) Send(cmd local.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running {
		h.srv.Send(cmd)
	}
}

// Close tells the windows process to quit and waits for it a little.
func (h *WindowHost) Close() {
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

// runWindows is the windows process: it calls back the tray process that
// started it, through the sockets it was handed, and shows what it is
// asked to.
func runWindows(ctx context.Context, env Env, args []string) error {
	fs := newFlags("windows")
	after := fs.Uint64("after", 0, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if env.Windows == nil {
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
			return fmt.Errorf("%w: `cashbell windows` is started by a running Cashbell (%w)", errUsage, err)
		}
		c = local.NewHandedClient(tray)
	}
	defer c.Close()
	logger := NewLogger(env.Stderr, env.Getenv("CASHBELL_VERBOSE") != "")
	logger.Debug("the windows process starts", "after", *after)
	return env.Windows(ctx, WindowsOptions{Client: c, Seq: *after, Logger: logger})
}

// noDisplay: on an X11 or Wayland desktop, no display was given.
func noDisplay(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return false
	}
	return getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == ""
}
