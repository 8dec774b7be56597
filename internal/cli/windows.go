package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cashbell/cashbell/internal/remote"
	"github.com/cashbell/cashbell/internal/wiring"
)

// WindowHost starts the windows process when a window is wanted and hands
// it the tray's commands; the process ends by itself a moment after its
// last window closes.
type WindowHost struct {
	srv    *remote.Server
	exe    string
	env    []string
	logger *slog.Logger

	mu      sync.Mutex
	running bool
	done    chan struct{} // closed when the running process ended
	proc    *os.Process
}

// serveWindows serves the tray process's services to its windows process.
func serveWindows(env Env, m *wiring.Main, changed func(), logger *slog.Logger) (*WindowHost, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(filepath.Dir(socketPath(env, m.Dirs)), "windows.sock")
	srv, err := remote.Listen(path, &remote.Backend{Registry: m.Registry, Store: m.Store, Poller: m.Service, Keys: m.Vault,
		AddDemo: m.AddDemo, Changed: changed})
	if err != nil {
		return nil, fmt.Errorf("the windows cannot reach this Cashbell: %w", err)
	}
	return &WindowHost{srv: srv, exe: exe, env: os.Environ(), logger: logger}, nil
}

// Show hands cmd to the windows process, starting one if none runs or the
// one running is on its way out.
func (h *WindowHost) Show(cmd remote.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running && h.srv.Send(cmd) {
		return
	}
	seq := h.srv.Resume()
	h.srv.Send(cmd)
	c := exec.Command(h.exe, "windows")
	c.Env = append(append([]string(nil), h.env...), h.srv.Env()...)
	c.Env = append(c.Env, remote.EnvSeq+"="+strconv.FormatUint(seq, 10))
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Start(); err != nil {
		h.logger.Error("the windows did not start", "err", err)
		return
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
func (h *WindowHost) Send(cmd remote.Command) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running {
		h.srv.Send(cmd)
	}
}

// Close tells the windows process to quit, waits for it a little, and
// stops serving.
func (h *WindowHost) Close() {
	h.mu.Lock()
	running, done, proc := h.running, h.done, h.proc
	h.mu.Unlock()
	h.srv.Send(remote.Command{Kind: remote.Quit})
	if running {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = proc.Kill()
			<-done
		}
	}
	h.srv.Close()
}

// runWindows is the windows process: it calls back the tray process that
// started it and shows what it is asked to.
func runWindows(ctx context.Context, env Env, args []string) error {
	if env.Windows == nil {
		return errors.New("this build has no window")
	}
	addr, token := env.Getenv(remote.EnvAddr), env.Getenv(remote.EnvToken)
	if addr == "" || token == "" {
		return fmt.Errorf("%w: `cashbell windows` is started by a running Cashbell", errUsage)
	}
	// The token is not handed on to what this process starts (a browser).
	_ = os.Unsetenv(remote.EnvToken)
	seq, _ := strconv.ParseUint(env.Getenv(remote.EnvSeq), 10, 64)
	logger := NewLogger(env.Stderr, false)
	c, err := remote.Dial(ctx, addr, token)
	if err != nil {
		return err
	}
	defer c.Close()
	return env.Windows(ctx, WindowsOptions{Client: c, Seq: seq, Logger: logger})
}
