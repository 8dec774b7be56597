package opener_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/opener"
)

// A stand-in xdg-open on PATH records what it is asked to open.
func TestOpenHandsTheDashboardToTheDesktopsOpener(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("xdg-open is the Linux opener")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " + log + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	page := "https://dashboard.stripe.com/test/payments/ch_1?x=1&y=2"
	if err := opener.Open(context.Background(), page); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(log)
	if strings.TrimSpace(string(got)) != page {
		t.Fatalf("opened %q", got)
	}
	for _, bad := range []string{"http://dashboard.stripe.com/", "https://evil.example/", "https://stripe.com.evil.example/", "file:///etc/passwd", "https://x@dashboard.stripe.com/", "javascript:alert(1)"} {
		if err := opener.Open(context.Background(), bad); !errors.Is(err, opener.ErrNotStripe) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// An opener that starts the browser and returns leaves the browser holding
// its output; Open returns when the opener does, not when the browser ends.
func TestOpenDoesNotWaitForTheBrowser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("xdg-open is the Linux opener")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nsleep 30 &\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	start := time.Now()
	if err := opener.Open(context.Background(), "https://dashboard.stripe.com/payments"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Open took %s: it waited for the browser", took)
	}
}
