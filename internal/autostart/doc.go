// Package autostart starts Cashbell when the user logs in, the way each
// desktop expects: an XDG autostart entry on Linux and the BSDs, a value
// under HKCU\Software\Microsoft\Windows\CurrentVersion\Run on Windows. Each
// platform has its own file with the same names.
package autostart
