package app

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// luminance is WCAG 2's relative luminance.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2's contrast ratio, from 1 to 21.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Every colour that carries text passes WCAG AA (4.5:1) on every background
// it is drawn on, in the light and the dark variant: labels of every
// importance but the disabled one, placeholders, links, and the text on
// coloured buttons and badges.
func TestEveryTextColourIsReadable(t *testing.T) {
	test.NewTempApp(t)
	th := newTheme()
	texts := []fyne.ThemeColorName{theme.ColorNameForeground, theme.ColorNameSuccess, theme.ColorNameWarning, theme.ColorNameError,
		theme.ColorNamePrimary, theme.ColorNameHyperlink, theme.ColorNamePlaceHolder}
	backgrounds := []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameInputBackground, theme.ColorNameOverlayBackground, theme.ColorNameMenuBackground}
	onColour := map[fyne.ThemeColorName]fyne.ThemeColorName{theme.ColorNameForegroundOnSuccess: theme.ColorNameSuccess,
		theme.ColorNameForegroundOnWarning: theme.ColorNameWarning, theme.ColorNameForegroundOnError: theme.ColorNameError,
		theme.ColorNameForegroundOnPrimary: theme.ColorNamePrimary}
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		for _, fg := range texts {
			for _, bg := range backgrounds {
				if r := contrast(th.Color(fg, v), th.Color(bg, v)); r < 4.5 {
					t.Errorf("variant %d: %s on %s is %.2f:1", v, fg, bg, r)
				}
			}
		}
		for fg, bg := range onColour {
			if r := contrast(th.Color(fg, v), th.Color(bg, v)); r < 4.5 {
				t.Errorf("variant %d: %s on %s is %.2f:1", v, fg, bg, r)
			}
		}
	}
}

// No label in the windows is drawn in the disabled colour, which is meant
// to be faint (1.3:1 on white in Fyne's light theme).
func TestNoTextIsDrawnFaint(t *testing.T) {
	f := newFixture(t)
	f.ui.showPrefs()
	f.ui.showActivity()
	for _, w := range []fyne.Window{f.ui.prefs.win, f.ui.activity.win} {
		walk(w.Content(), func(o fyne.CanvasObject) {
			if l, ok := o.(*widget.Label); ok && l.Importance == widget.LowImportance {
				t.Errorf("%s: label %q is drawn faint", w.Title(), l.Text)
			}
		})
	}
}
