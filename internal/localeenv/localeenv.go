// Package localeenv asks for English where the locale is C with an encoding
// (C.UTF-8, the default of many services and containers), before Fyne reads
// the locale.
//
// Fyne reads the locale from LC_ALL, LC_MESSAGES or LANG in the init of its
// lang package, through github.com/jeandeaual/go-locale, which passes
// "C.UTF-8" on as the language "C"; Fyne then logs "Error parsing user
// locale C" on every start. go-locale reads LANGUAGE first when the locale
// is not exactly C, so English is asked for there. LANGUAGE only chooses the
// language of messages, which under C are English anyway.
//
// It is a module of its own, cashbell.local/localeenv, replaced by this
// directory in Cashbell's go.mod, for one reason: Go initialises packages in
// the order of their import paths where dependencies allow (the Go
// specification, "Package initialization", since Go 1.21), and this path
// sorts before fyne.io/..., so its init runs before Fyne's.
package localeenv

import (
	"os"
	"strings"
)

func init() { Apply(os.Getenv, os.Setenv) }

// Apply sets LANGUAGE=en when the locale is C or POSIX with an encoding or
// modifier and LANGUAGE is not set.
func Apply(getenv func(string) string, setenv func(string, string) error) {
	if getenv("LANGUAGE") != "" {
		return
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		lang, _, _ := strings.Cut(v, ".")
		lang, _, _ = strings.Cut(lang, "@")
		if (lang == "C" || lang == "POSIX") && v != lang {
			_ = setenv("LANGUAGE", "en")
		}
		return
	}
}
