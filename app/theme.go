package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// cashbellTheme is Fyne's own theme with the colours that carry text made
// readable: Fyne's light success green (#43F436) is 1.5:1 on white and its
// warning orange 2.2:1, well under WCAG AA's 4.5:1. Each colour here passes
// 4.5:1 against the backgrounds it is drawn on, in both variants
// (TestEveryTextColourIsReadable). Everything else is Fyne's.
type cashbellTheme struct{ fyne.Theme }

func newTheme() fyne.Theme { return cashbellTheme{theme.DefaultTheme()} }

func rgb(v uint32) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

var (
	lightColours = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameSuccess:             rgb(0x1b7a35),
		theme.ColorNameWarning:             rgb(0x9a4f00),
		theme.ColorNameError:               rgb(0xc62828),
		theme.ColorNamePrimary:             rgb(0x1d5fd1),
		theme.ColorNameHyperlink:           rgb(0x1d5fd1),
		theme.ColorNamePlaceHolder:         rgb(0x6b6b6b),
		theme.ColorNameForegroundOnSuccess: rgb(0xffffff),
		theme.ColorNameForegroundOnWarning: rgb(0xffffff),
		theme.ColorNameForegroundOnError:   rgb(0xffffff),
		theme.ColorNameForegroundOnPrimary: rgb(0xffffff),
	}
	darkColours = map[fyne.ThemeColorName]color.Color{
		theme.ColorNameError:               rgb(0xff7066),
		theme.ColorNamePrimary:             rgb(0x6ea2ff),
		theme.ColorNameHyperlink:           rgb(0x8ab4ff),
		theme.ColorNameForegroundOnPrimary: rgb(0x0d1b33),
		theme.ColorNameForegroundOnError:   rgb(0x2a0905),
	}
)

func (t cashbellTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	colours := lightColours
	if v == theme.VariantDark {
		colours = darkColours
	}
	if c, ok := colours[name]; ok {
		return c
	}
	return t.Theme.Color(name, v)
}
