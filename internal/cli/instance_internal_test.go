package cli

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/wiring"
)

// A second launch brings the running window forward through the local
// endpoint; a headless Cashbell, which has no window, says no.
func TestASecondLaunchShowsTheWindowThroughTheSocket(t *testing.T) {
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_RUNTIME_DIR": filepath.Join(home, "run"),
		"CASHBELL_KEYRING": "file"}
	env := Env{Getenv: func(k string) string { return vars[k] }, Stdout: io.Discard, Stderr: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := wiring.Open(ctx, env.config(0, NewLogger(io.Discard, false)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	shown := make(chan struct{}, 1)
	_, stop := serveLocal(env, m, func() { shown <- struct{}{} }, nil)
	if err := showRunning(ctx, env); err != nil {
		t.Fatalf("the running Cashbell did not answer show: %v", err)
	}
	select {
	case <-shown:
	case <-time.After(2 * time.Second):
		t.Fatal("the window was not asked for")
	}
	stop()
	_, stop = serveLocal(env, m, nil, nil) // headless
	defer stop()
	if err := showRunning(ctx, env); err == nil || !strings.Contains(err.Error(), "headless") {
		t.Fatalf("a headless Cashbell claimed to show a window: %v", err)
	}
}
