//go:build ci || android || ios || wasm || js

package app

import "fyne.io/fyne/v2"

// screenSize is unknown without GLFW: windows keep the size they ask for.
func screenSize(fyne.Window) (fyne.Size, bool) { return fyne.Size{}, false }
