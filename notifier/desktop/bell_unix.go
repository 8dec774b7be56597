//go:build linux || freebsd || netbsd || openbsd

package desktop

import (
	"context"
	"os/exec"
	"slices"
	"time"

	"github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"
)

// players ring the bell through the desktop's own sound path where the
// notification server plays no sounds (dunst, among others): libcanberra's
// player, which plays event sounds as the desktop's theme and volume say,
// then PipeWire's and PulseAudio's. Cashbell brings no audio stack of its
// own.
var players = []player{
	{"canberra-gtk-play", func(f string) []string { return []string{"--file=" + f, "--description=Cashbell"} }},
	{"pw-play", func(f string) []string { return []string{f} }},
	{"paplay", func(f string) []string { return []string{f} }},
}

// installed is the index of the first sound player installed, or -1.
func installed() int {
	return slices.IndexFunc(players, func(p player) bool { _, err := exec.LookPath(p.name); return err == nil })
}

// play rings file through the first sound player installed, within a few
// seconds.
func play(ctx context.Context, file string) error {
	i := installed()
	if i < 0 {
		return ErrNoBell
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, players[i].name, players[i].args(file)...).Run()
}

type player struct {
	name string
	args func(file string) []string
}

// Bell says how the bell rings here: "the notification service" where the
// server lists the "sound" capability, else the sound player's name, else
// "" (it cannot ring).
func (d *Desktop) Bell(ctx context.Context) string {
	if _, caps, err := d.session(); err == nil && slices.Contains(caps, "sound") {
		return "the notification service"
	}
	if i := installed(); i >= 0 {
		return players[i].name
	}
	return ""
}

// Ring rings the bell once, as a notification that rings would: through the
// notification service where it plays sounds (a notification that says
// so), else through the sound player.
func (d *Desktop) Ring(ctx context.Context) error {
	if d.SoundFile == "" {
		return ErrNoBell
	}
	conn, caps, err := d.session()
	if err == nil && slices.Contains(caps, "sound") {
		note := notify.Notification{AppName: "Cashbell", Summary: "Cashbell's bell", Body: "This is how a sale sounds.",
			ExpireTimeout: notify.ExpireTimeoutSetByNotificationServer,
			Hints: map[string]dbus.Variant{"desktop-entry": dbus.MakeVariant("io.cashbell.app"),
				"sound-file": dbus.MakeVariant(iconPath(d.SoundFile))}}
		_, err := notify.SendNotification(conn, note)
		return err
	}
	return play(ctx, d.SoundFile)
}
