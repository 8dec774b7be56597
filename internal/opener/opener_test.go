package opener_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

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
