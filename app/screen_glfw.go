//go:build !ci && !android && !ios && !wasm && !js

package app

import (
	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// screenSize is the work area (the screen less its panels) of the monitor
// Fyne opens windows on, in Fyne's units at the window's scale. It runs on
// Fyne's thread, which is GLFW's main thread.
func screenSize(w fyne.Window) (size fyne.Size, ok bool) {
	defer func() {
		if recover() != nil { // GLFW not started: no screen to go by
			ok = false
		}
	}()
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return fyne.Size{}, false
	}
	_, _, width, height := m.GetWorkarea()
	scale := w.Canvas().Scale()
	if width <= 0 || height <= 0 || scale <= 0 {
		return fyne.Size{}, false
	}
	return fyne.NewSize(float32(width)/scale, float32(height)/scale), true
}
