package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/systray"
	"github.com/godbus/dbus/v5"
)

// sniTray shows the tray icon and its menu as a StatusNotifierItem through
// fyne.io/systray, the library under Fyne's own tray.
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
}

// startSNITray registers the tray item on the session bus.
func startSNITray(title string, do func(func())) (*sniTray, error) {
	// systray only logs a missing bus and then crashes when it ends.
	if _, err := dbus.SessionBus(); err != nil {
		return nil, fmt.Errorf("no tray without a D-Bus session bus: %w", err)
	}
	start, _ := systray.RunWithExternalLoop(nil, nil)
	start()
	// Some tray hosts crash on an item without a title (fyne-io/fyne#3678).
	systray.SetTitle(title)
	return &sniTray{do: do}, nil
}

// SetMenu replaces the whole menu, as Fyne's tray does.
func (t *sniTray) SetMenu(m *fyne.Menu) {
	systray.ResetMenu()
	t.add(m.Items, nil)
}

// SetIcon changes the icon; setting the one already shown is free.
func (t *sniTray) SetIcon(res fyne.Resource) {
	if t.icon == res {
		return
	}
	t.icon = res
	systray.SetIcon(res.Content())
}

// SetTooltip changes the text shown on hover, when it changed.
func (t *sniTray) SetTooltip(text string) {
	if t.tooltip == text {
		return
	}
	t.tooltip = text
	systray.SetTooltip(text)
}

func (t *sniTray) add(items []*fyne.MenuItem, parent *systray.MenuItem) {
	for _, it := range items {
		if it.IsSeparator {
			if parent != nil {
				parent.AddSeparator()
			} else {
				systray.AddSeparator()
			}
			continue
		}
		// dbusmenu reads an underscore as the mark of an access key; a
		// doubled one shows as itself.
		label := strings.ReplaceAll(it.Label, "_", "__")
		var item *systray.MenuItem
		if parent != nil {
			item = parent.AddSubMenuItem(label, "")
		} else {
			item = systray.AddMenuItem(label, "")
		}
		if it.Disabled {
			item.Disable()
		}
		if it.ChildMenu != nil {
			t.add(it.ChildMenu.Items, item)
		}
		if action := it.Action; action != nil {
			// ResetMenu closes ClickedCh, which ends this goroutine.
			go func() {
				for range item.ClickedCh {
					t.do(action)
				}
			}()
		}
	}
}
