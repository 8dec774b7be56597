// Package autostart starts Cashbell when the user logs in, the way each
// desktop expects: an XDG autostart entry on Linux and the BSDs, a shortcut
// in the user's Startup folder on Windows. Each platform has its own file
// with the same names.
package autostart
