#!/usr/bin/env bash
# Makes a throw-away Wine prefix in which Go programs run: `wineboot -i`,
# then the ProcessPrng shim in System32. Usage: prefix.sh DIR
set -euo pipefail
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)
wine=/usr/lib/wine/wine64
mkdir -p "$prefix"
dll="$prefix/bcryptprimitives.dll"
x86_64-w64-mingw32-gcc -O2 -shared -s -o "$dll" "$here/bcryptprimitives.c" -ladvapi32
WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" "$wine" wineboot -i >/dev/null 2>&1
WINEPREFIX="$prefix" /usr/lib/wine/wineserver -w
cp "$dll" "$prefix/drive_c/windows/system32/bcryptprimitives.dll"
