#!/bin/sh
# Renders the PNG icons of the manifest from the SVGs in demo/public with
# headless Chromium. Run from anywhere: sh demo/scripts/make-icons.sh
set -eu
cd "$(dirname "$0")/../public"
CHROMIUM=${CHROMIUM:-chromium}
render() { # svg size png
  dir=$(mktemp -d)
  printf '<!doctype html><style>html,body{margin:0;background:transparent}img{display:block;width:%spx;height:%spx}</style><img src="file://%s">' \
    "$2" "$2" "$PWD/$1" > "$dir/page.html"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$dir/profile" --default-background-color=00000000 \
    --hide-scrollbars --window-size="$2,$2" --screenshot="$PWD/$3" "file://$dir/page.html" 2>/dev/null
  rm -rf "$dir"
}
render icon.svg 192 icon-192.png
render icon.svg 512 icon-512.png
render icon.svg 180 apple-touch-icon.png
render icon-maskable.svg 512 icon-maskable-512.png
