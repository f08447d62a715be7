#!/usr/bin/env bash
# Checks the non-npm tools the project needs and installs them with Debian's apt-get when it can
# (as root, or through sudo when it needs no password, on Debian); otherwise says exactly what to
# install. Usage: system-deps.sh java [chromium]
# `chromium` brings a colour emoji font with it: without one, Chromium draws emoji in messages as
# empty boxes or black-and-white outlines (Debian's chromium package does not depend on one).
set -euo pipefail

need_java() { command -v java >/dev/null 2>&1 && java -version >/dev/null 2>&1; }
need_chromium() { [ -x /usr/bin/chromium ]; }
need_emoji_font() {
  if command -v fc-list >/dev/null 2>&1; then
    fc-list 2>/dev/null | grep -qi "Noto Color Emoji"
  else
    [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]
  fi
}

packages=()
for tool in "$@"; do
  case "$tool" in
    java) need_java || packages+=(openjdk-17-jre-headless) ;;
    chromium)
      need_chromium || packages+=(chromium)
      need_emoji_font || packages+=(fonts-noto-color-emoji)
      ;;
    *) echo "system-deps: unknown tool $tool" >&2; exit 2 ;;
  esac
done
[ ${#packages[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
fi
if { [ "$(id -u)" = "0" ] || [ ${#as_root[@]} -gt 0 ]; } && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${packages[*]} with apt-get (needed: DynamoDB Local runs on Java, the browser test on Chromium with a colour emoji font)..."
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  exit 0
fi

echo "Missing: ${packages[*]}." >&2
echo "Install with:  sudo apt-get install -y ${packages[*]}" >&2
echo "(Java 17 runs DynamoDB Local for 'npm start' and the integration tests; Chromium runs the browser test, and fonts-noto-color-emoji lets it draw emoji.)" >&2
exit 1
