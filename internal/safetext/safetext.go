// Package safetext makes text that came from the network fit to show.
//
// Customer names, descriptions, product and account names are written by
// someone else: a customer filling in a checkout form, or the owner of a
// connected account. Before such text reaches a person (in a notification,
// the tray menu, a window or a terminal), Clean removes what could change how
// the surrounding text is drawn or read: control characters (newlines that
// spill into the next row, escape sequences a terminal obeys), bidirectional
// overrides that reorder what follows (U+202E), invisible format characters,
// and sheer length. Each destination then escapes what its own format treats
// as markup, at its boundary: EscapeMarkup for a notification body.
package safetext

import (
	"strings"
	"unicode"
)

// MaxRunes is the longest a cleaned text gets: enough for any name, product
// or short description, too short to bury a notification.
const MaxRunes = 120

// Clean returns s as one line of plain text: invalid UTF-8 replaced, control
// and bidirectional formatting characters dropped, runs of white space (line
// breaks included) folded into one space, and at most MaxRunes runes, the
// last an ellipsis when it was cut.
func Clean(s string) string {
	return CleanMax(s, MaxRunes)
}

// CleanMax is Clean with another length cap.
func CleanMax(s string, max int) string {
	out := make([]rune, 0, min(len(s), max+1))
	space := false
	for _, r := range strings.ToValidUTF8(s, string(unicode.ReplacementChar)) {
		switch {
		case unicode.IsSpace(r):
			space = len(out) > 0
			continue
		case unicode.IsControl(r) || dropped(r):
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
		if len(out) > max {
			out = append(out[:max-1], '…')
			break
		}
	}
	return string(out)
}

// dropped are format characters that change how neighbouring text is drawn
// or are invisible: the bidirectional embeddings, overrides, isolates and
// marks, the zero-width space and the byte order mark, the line and paragraph
// separators, and interlinear annotation. The zero-width joiner stays: emoji
// sequences need it.
func dropped(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, // LRE RLE PDF LRO RLO
		r >= 0x2066 && r <= 0x2069,                // LRI RLI FSI PDI
		r == 0x200E || r == 0x200F || r == 0x061C, // LRM RLM ALM
		r == 0x200B || r == 0xFEFF || r == 0x2060, // zero-width space, BOM, word joiner
		r == 0x2028 || r == 0x2029,                // line and paragraph separators
		r >= 0xFFF9 && r <= 0xFFFB:                // interlinear annotation
		return true
	}
	return unicode.Is(unicode.Co, r) // private use: no meaning to share
}

// EscapeMarkup escapes the characters that the Desktop Notifications
// specification's body markup gives meaning to (&, < and >), so that a
// server that reads the body as markup shows the text as it was written: no
// bold, no links, no images.
func EscapeMarkup(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
