package accounts_test

import (
	"os"
	"strings"
	"testing"

	"github.com/cashbell/cashbell/accounts"
)

// README's permission table says what `accounts check` reports: every
// permission Cashbell asks for, in Stripe's name, with the same label, and
// nothing else.
func TestREADMENamesThePermissionsCheckReports(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Keys and permissions")
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{} // label -> name
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`rak_") && !strings.HasPrefix(strings.TrimSpace(cells[1]), "(") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if strings.HasPrefix(name, "(") {
			name = ""
		}
		rows[strings.TrimSpace(cells[2])] = name
	}
	for _, p := range accounts.Permissions {
		name, ok := rows[p.Label]
		if !ok || name != p.Name {
			t.Errorf("README: %q is %q, want %q", p.Label, name, p.Name)
		}
		delete(rows, p.Label)
	}
	if len(rows) != 0 {
		t.Errorf("README names permissions Cashbell does not ask for: %v", rows)
	}
}
