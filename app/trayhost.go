package app

import (
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/systray"
)

// sniTray shows the tray icon and its menu through fyne.io/systray, the
// library under Fyne's own tray: a StatusNotifierItem on Linux and the BSDs
// (trayhost_sni.go), the notification area on Windows (trayhost_windows.go),
// the menu bar on macOS (trayhost_other.go).
//
// Fyne's desktop.App tray also creates a hidden window with an OpenGL
// context, only to hear about quit requests. That context loads the GL
// driver (about 70 MB under Mesa's llvmpipe) into an app that, most of the
// day, shows no window at all. Menus are still built as *fyne.Menu.
type sniTray struct {
	// do runs a menu action on Fyne's thread.
	do      func(func())
	icon    fyne.Resource
	tooltip string
	// slots are the menu as the host shows it, and shape its structure: a
	// new menu of the same shape changes labels, states and actions in
	// place, so that a menu the user has open is not torn down under them.
	slots []*menuSlot
	shape string
}

// menuSlot is one shown menu item.
type menuSlot struct {
	item     *systray.MenuItem // nil for a separator
	label    string            // "" for a slot hidden while empty
	disabled bool
	action   atomic.Pointer[func()]
	children []*menuSlot
}

// startSNITray shows the tray item.
func startSNITray(title string, do func(func())) (*sniTray, error) {
	if err := startSystray(); err != nil {
		return nil, err
	}
	// Some tray hosts crash on an item without a title (fyne-io/fyne#3678).
	systray.SetTitle(title)
	return &sniTray{do: do}, nil
}

// SetMenu shows m: in place when only labels, states or actions changed,
// else by building the menu again.
func (t *sniTray) SetMenu(m *fyne.Menu) {
	shape := menuShape(m.Items)
	if shape == t.shape && t.slots != nil {
		t.update(t.slots, m.Items)
		return
	}
	t.shape = shape
	systray.ResetMenu()
	t.slots = t.add(m.Items, nil)
}

// menuShape is a menu's structure without its words: items, separators and
// submenus.
func menuShape(items []*fyne.MenuItem) string {
	var b strings.Builder
	for _, it := range items {
		switch {
		case it.IsSeparator:
			b.WriteByte('-')
		case it.ChildMenu != nil:
			b.WriteString("(" + menuShape(it.ChildMenu.Items) + ")")
		default:
			b.WriteByte('i')
		}
	}
	return b.String()
}

func (t *sniTray) update(slots []*menuSlot, items []*fyne.MenuItem) {
	for i, it := range items {
		s := slots[i]
		if s.item == nil {
			continue
		}
		if label := menuLabel(it.Label); label != s.label {
			switch {
			case label == "":
				s.item.Hide()
			case s.label == "":
				s.item.SetTitle(label)
				s.item.Show()
			default:
				s.item.SetTitle(label)
			}
			s.label = label
		}
		if it.Disabled != s.disabled {
			s.disabled = it.Disabled
			if it.Disabled {
				s.item.Disable()
			} else {
				s.item.Enable()
			}
		}
		s.setAction(it.Action)
		if it.ChildMenu != nil {
			t.update(s.children, it.ChildMenu.Items)
		}
	}
}

func (s *menuSlot) setAction(action func()) {
	if action == nil {
		s.action.Store(nil)
		return
	}
	s.action.Store(&action)
}

// SetIcon changes the icon; setting the one already shown is free.
func (t *sniTray) SetIcon(res fyne.Resource) {
	if t.icon == res {
		return
	}
	t.icon = res
	systray.SetIcon(osIcon(res.Content()))
}

// SetTooltip changes the text shown on hover, when it changed.
func (t *sniTray) SetTooltip(text string) {
	if t.tooltip == text {
		return
	}
	t.tooltip = text
	systray.SetTooltip(text)
}

func (t *sniTray) add(items []*fyne.MenuItem, parent *systray.MenuItem) []*menuSlot {
	slots := make([]*menuSlot, len(items))
	for i, it := range items {
		s := &menuSlot{}
		slots[i] = s
		if it.IsSeparator {
			if parent != nil {
				parent.AddSeparator()
			} else {
				systray.AddSeparator()
			}
			continue
		}
		s.label, s.disabled = menuLabel(it.Label), it.Disabled
		if parent != nil {
			s.item = parent.AddSubMenuItem(s.label, "")
		} else {
			s.item = systray.AddMenuItem(s.label, "")
		}
		if it.Disabled {
			s.item.Disable()
		}
		if s.label == "" {
			s.item.Hide()
		}
		if it.ChildMenu != nil {
			s.children = t.add(it.ChildMenu.Items, s.item)
		}
		s.setAction(it.Action)
		// ResetMenu closes ClickedCh, which ends this goroutine.
		go func() {
			for range s.item.ClickedCh {
				if action := s.action.Load(); action != nil {
					t.do(*action)
				}
			}
		}()
	}
	return slots
}
