package app

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// dialogKeys gives a window's dialogs the keyboard: Esc cancels the dialog
// on top and Enter confirms it. Fyne hands a key to the canvas only when no
// widget has the focus; an entry with the focus passes Esc on itself
// (keyedEntry) and confirms through OnSubmitted.
type dialogKeys struct {
	stack []*keyTarget
}

// keyTarget is what Esc and Enter do in one open dialog; confirm may be
// nil where Enter does nothing (a dialog that only informs closes on both).
type keyTarget struct {
	cancel, confirm func()
}

func newDialogKeys(w fyne.Window) *dialogKeys {
	k := &dialogKeys{}
	w.Canvas().SetOnTypedKey(k.typed)
	return k
}

func (k *dialogKeys) typed(ev *fyne.KeyEvent) {
	if len(k.stack) == 0 {
		return
	}
	top := k.stack[len(k.stack)-1]
	switch ev.Name {
	case fyne.KeyEscape:
		top.cancel()
	case fyne.KeyReturn, fyne.KeyEnter:
		if top.confirm != nil {
			top.confirm()
		}
	}
}

// track makes Esc cancel d and Enter run confirm while d is open.
func (k *dialogKeys) track(d dialog.Dialog, confirm func()) {
	t := &keyTarget{cancel: d.Dismiss, confirm: confirm}
	k.stack = append(k.stack, t)
	d.SetOnClosed(func() { k.stack = slices.DeleteFunc(k.stack, func(s *keyTarget) bool { return s == t }) })
}

// keyedEntry is an entry in a dialog: Esc, which an entry would swallow,
// cancels the dialog.
type keyedEntry struct {
	widget.Entry
	onEscape func()
}

func newKeyedEntry(password bool) *keyedEntry {
	e := &keyedEntry{}
	e.Password = password
	e.ExtendBaseWidget(e)
	return e
}

func (e *keyedEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(ev)
}

// confirm asks before something that cannot be undone: the destructive
// button says what it does and is marked as such, Cancel is the safe way
// out, and Esc takes it.
func confirm(keys *dialogKeys, parent fyne.Window, title, message, action string, done func()) {
	d := dialog.NewConfirm(title, message, func(ok bool) {
		if ok {
			done()
		}
	}, parent)
	d.SetConfirmText(action)
	d.SetDismissText("Cancel")
	d.SetConfirmImportance(widget.DangerImportance)
	keys.track(d, nil) // Enter must not destroy
	d.Show()
}

// inform shows a message that Esc and Enter both close.
func inform(keys *dialogKeys, parent fyne.Window, title, message string) {
	d := dialog.NewInformation(title, message, parent)
	keys.track(d, d.Dismiss)
	d.Show()
}
