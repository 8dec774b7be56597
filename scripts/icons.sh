#!/usr/bin/env bash
# Draws the icons that are variants of assets/bell.svg with ImageMagick (no
# SVG renderer needed): the bad-news notification icon (red, "!") and the
# tray icon shown while notifications are paused (grey, struck through).
set -euo pipefail
cd "$(dirname "$0")/../assets"
BELL='M32 12c-7.7 0-13 5.9-13 13.5v9.2L15 42v3h34v-3l-4-7.3v-9.2C45 17.9 39.7 12 32 12z'
convert -size 256x256 xc:none -draw "scale 4,4 fill '#c62828' roundrectangle 2,2 61,61 14,14 fill white path '$BELL' circle 32,50 32,55" \
  -font DejaVu-Sans-Bold -pointsize 75 -fill '#c62828' -gravity center -annotate +0-10 '!' -strip alert.png
convert -size 64x64 xc:none -draw "fill '#8a8f98' path '$BELL' circle 32,50 32,55" \
  \( -size 64x64 xc:none -draw "stroke black stroke-width 10 line 8,8 56,56" \) -compose DstOut -composite \
  -compose Over -draw "stroke '#8a8f98' stroke-width 5 line 9,9 55,55" -strip tray-paused.png
