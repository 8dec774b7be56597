package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	cases := map[string]string{
		"Fish & Chips":                     "Fish & Chips",
		"  two\nlines\r\n\tand tabs  ":     "two lines and tabs",
		"evil\u202Egnp.exe":                "evilgnp.exe",
		"a\u2066b\u2069c\u200Fd\u200Be":    "abcde",
		"\x1b[31mred\x1b[0m":               "[31mred[0m",
		"bell\x07 and nul\x00":             "bell and nul",
		"bad \xff utf8":                    "bad \uFFFD utf8",
		"👩\u200D💻 keeps the joiner":        "👩\u200D💻 keeps the joiner",
		"<b>x</b> <a href=\"http://e/\">y": "<b>x</b> <a href=\"http://e/\">y",
		"line\u2028separator":              "line separator",
		"":                                 "",
		"\n\n":                             "",
	}
	for in, want := range cases {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanCaps(t *testing.T) {
	long := strings.Repeat("é", 10<<20)
	got := Clean(long)
	if n := utf8.RuneCountInString(got); n != MaxRunes || !strings.HasSuffix(got, "…") {
		t.Fatalf("%d runes, ends %q", n, got[len(got)-6:])
	}
	exact := strings.Repeat("x", MaxRunes)
	if Clean(exact) != exact {
		t.Fatal("a text of exactly MaxRunes was cut")
	}
	if got := CleanMax("abcdef", 4); got != "abc…" {
		t.Fatalf("CleanMax = %q", got)
	}
}

func TestEscapeMarkup(t *testing.T) {
	in := `<b>x</b> <a href="http://evil.example/">click</a> <img src="file:///etc/passwd"> Fish & Chips`
	got := EscapeMarkup(in)
	if strings.ContainsAny(got, "<>") || !strings.Contains(got, "Fish &amp; Chips") || !strings.Contains(got, "&lt;img src=") {
		t.Fatalf("EscapeMarkup = %q", got)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("Fish & Chips\u202E\n\x1b[2J")
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > MaxRunes {
			t.Fatalf("Clean(%q) = %q", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r == 0x202E || r == '\n' {
				t.Fatalf("Clean(%q) kept %U", s, r)
			}
		}
	})
}
