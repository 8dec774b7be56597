package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The shipped binaries link no test bed: no fault injection, no httptest,
// and the headless build no Fyne at all.
func TestWhatTheBinariesLink(t *testing.T) {
	for _, tc := range []struct {
		tags   []string
		banned []string
	}{
		{nil, []string{"net/http/httptest", "/internal/testsupport/"}},
		{[]string{"-tags", "nogui"}, []string{"net/http/httptest", "/internal/testsupport/", "fyne.io/", "github.com/go-gl/"}},
	} {
		args := append([]string{"list", "-deps"}, tc.tags...)
		out, err := exec.Command("go", append(args, ".")...).Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			for _, b := range tc.banned {
				if strings.Contains(pkg, b) {
					t.Errorf("the binary built with %v links %s", tc.tags, pkg)
				}
			}
		}
	}
}

// The version comes from FyneApp.toml, where `fyne package` reads it too.
func TestVersionIsFyneAppsVersion(t *testing.T) {
	if v := version(); !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) || !strings.Contains(fyneApp, `Version = "`+v+`"`) {
		t.Fatalf("version() = %q", v)
	}
}
