//go:build !windows && !darwin

package opener

// command is the freedesktop opener, which hands the page to the user's
// browser.
func command(u string) (string, []string) { return "xdg-open", []string{u} }
