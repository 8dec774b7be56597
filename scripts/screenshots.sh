#!/usr/bin/env bash
# Writes PNGs of the tray menu, Preferences (accounts, an account's menu,
# notifications, and the add dialog with a permission report), Activity, a
# notification popup and a bad-news popup to $2, in the theme variant $3
# (light or dark), running the real binary $1 on a private X display with a
# real tray host and dunst.
set -euo pipefail
BIN=$(realpath "$1"); OUT=$(realpath -m "$2"); VARIANT=${3:-light}; mkdir -p "$OUT"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

export HOME=$W/home XDG_CONFIG_HOME=$W/home/.config XDG_CACHE_HOME=$W/home/.cache XDG_RUNTIME_DIR=$W/run
export LANG=en_US.UTF-8 NO_AT_BRIDGE=1 CASHBELL_KEYRING=file FYNE_THEME=$VARIANT
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
exec 5> >(cat > "$W/displayfd")
Xvfb -displayfd 5 -screen 0 1024x768x24 -nolisten tcp -noreset >/dev/null 2>&1 & PIDS+=($!)
until [ -s "$W/displayfd" ]; do sleep 0.05; done; export DISPLAY=:$(head -1 "$W/displayfd")
PIDS+=($(dbus-daemon --session --fork --address="unix:path=$W/bus" --print-pid=1))
export DBUS_SESSION_BUS_ADDRESS="unix:path=$W/bus"

if command -v gtk-sni-tray-standalone >/dev/null; then
  gtk-sni-tray-standalone --watcher --bottom --end -s 32 -c '#444444' >/dev/null 2>&1 & PIDS+=($!)
  gdbus wait --session --timeout 10 org.kde.StatusNotifierWatcher || true
fi
dunst >/dev/null 2>&1 & PIDS+=($!)
dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" >"$W/notify.log" 2>/dev/null & PIDS+=($!)

# A simulated Stripe for a second account (it has a failed payment and a
# dispute 40 s in), and the demo account for the first.
(cd "$ROOT" && go build -o "$W/stripesim" ./internal/stripesim/cmd/stripesim)
"$W/stripesim" -keys "$W/keys" -url-file "$W/url" -logo "$ROOT/assets/icon.png" -every 5s -fail-after 45s -history 29 >/dev/null & PIDS+=($!)
SIM_START=$(date +%s)
until [ -s "$W/url" ] && [ -s "$W/keys" ]; do sleep 0.05; done
export CASHBELL_API_BASE=$(cat "$W/url")

"$BIN" --demo >"$W/app.log" 2>&1 & APP=$!; PIDS+=($APP)
ITEM="org.kde.StatusNotifierItem-$APP-1"
until gdbus call --session --dest "$ITEM" --object-path /StatusNotifierMenu --method com.canonical.dbusmenu.GetLayout -- 0 -1 '[]' >/dev/null 2>&1; do sleep 0.2; done

click() { # click a tray menu item by label
  local id
  id=$(gdbus call --session --dest "$ITEM" --object-path /StatusNotifierMenu --method com.canonical.dbusmenu.GetLayout -- 0 -1 '[]' |
    grep -oE "\(([0-9]+), \{[^}]*'label': <'$1[^']*'>" | head -1 | sed -E 's/^\(([0-9]+),.*/\1/')
  gdbus call --session --dest "$ITEM" --object-path /StatusNotifierMenu --method com.canonical.dbusmenu.Event -- "$id" clicked '<0>' 0 >/dev/null
}
hide_all() { for w in $(xdotool search --name 'Cashbell' 2>/dev/null); do xdotool windowunmap "$w" 2>/dev/null || true; done; }
popup() { # wait for a popup and capture it
  until dunstctl count displayed 2>/dev/null | grep -qv '^0$'; do sleep 0.3; done
  sleep 0.5
  import -window root -crop 340x175+684+40 +repage "$OUT/$1"
  dunstctl close-all 2>/dev/null || true
}

# The demo's first sale rings at once.
popup notification.png

P=$(xdotool search --name 'Cashbell Preferences' | head -1)
xdotool windowmap "$P"; xdotool windowraise "$P"; sleep 1
dunstctl close-all 2>/dev/null || true; sleep 0.3
import -window "$P" "$OUT/preferences-accounts.png"
xdotool mousemove --window "$P" 693 145 click 1; sleep 0.8     # the row's menu
dunstctl close-all 2>/dev/null || true; sleep 0.3
import -window "$P" "$OUT/preferences-account-menu.png"
xdotool key Escape; sleep 0.3
xdotool mousemove --window "$P" 190 21 click 1; sleep 1        # Notifications tab
dunstctl close-all 2>/dev/null || true; sleep 0.3
import -window "$P" "$OUT/preferences-notifications.png"
xdotool mousemove --window "$P" 60 21 click 1; sleep 0.5
xdotool mousemove --window "$P" 75 66 click 1; sleep 1         # Add account…
sed -n 2p "$W/keys" | tr -d "\n" > "$W/key"; xdotool type --delay 2 --file "$W/key"; sleep 2.5 # the key never sits in a command line
dunstctl close-all 2>/dev/null || true; sleep 0.3
import -window "$P" "$OUT/add-account-report.png"
xdotool key Return; sleep 2                                    # add it, with what it lacks
hide_all

# Bad news stands apart: red, critical, until dismissed, one running
# notification per kind. A card-testing flood of a dozen declines comes 45 s
# after the simulator started; the poller tells it as it comes.
while [ $(( $(date +%s) - SIM_START )) -lt 43 ]; do sleep 0.5; done
dunstctl close-all 2>/dev/null || true
until grep -q "failed payments in" "$W/notify.log"; do sleep 0.3; done
for _ in $(seq 60); do grep -q "12 failed payments in" "$W/notify.log" && break; sleep 0.5; done
sleep 1.5
import -window root -crop 340x420+684+40 +repage "$OUT/notification-bad-news.png"
dunstctl close-all 2>/dev/null || true

click 'Activity'; sleep 1.5
A=$(xdotool search --name 'Cashbell Activity' | head -1); xdotool windowraise "$A"; sleep 0.5
dunstctl close-all 2>/dev/null || true; sleep 0.3
import -window "$A" "$OUT/activity.png"
# The MRR view's switch: 180 units from the window's right edge, 66 down.
S=${FYNE_SCALE:-1}; AW=$(xdotool getwindowgeometry --shell "$A" | sed -n 's/^WIDTH=//p')
xdotool mousemove --window "$A" "$(awk "BEGIN{print int($AW-180*$S)}")" "$(awk "BEGIN{print int(66*$S)}")" click 1; sleep 1.5
dunstctl close-all 2>/dev/null || true; sleep 0.3
import -window "$A" "$OUT/activity-mrr.png"
hide_all

if command -v gtk-sni-tray-standalone >/dev/null; then
  dunstctl set-paused true 2>/dev/null || true # no popup over the menu
  dunstctl close-all 2>/dev/null || true; sleep 0.5
  xdotool mousemove 1008 752 click 1; sleep 1.5
  import -window root -crop 512x560+512+208 +repage "$OUT/tray-menu.png"
  xdotool key Escape
fi
click 'Quit'; wait "$APP" || true
echo "screenshots in $OUT:"; ls "$OUT"
