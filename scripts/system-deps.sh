#!/usr/bin/env bash
# Checks the non-npm tools the project needs and installs them with Debian's apt-get when it can
# (root on Debian); otherwise says exactly what to install. Usage: system-deps.sh java [chromium]
set -euo pipefail

need_java() { command -v java >/dev/null 2>&1 && java -version >/dev/null 2>&1; }
need_chromium() { [ -x /usr/bin/chromium ]; }

packages=()
for tool in "$@"; do
  case "$tool" in
    java) need_java || packages+=(openjdk-17-jre-headless) ;;
    chromium) need_chromium || packages+=(chromium) ;;
    *) echo "system-deps: unknown tool $tool" >&2; exit 2 ;;
  esac
done
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${packages[*]} with apt-get (needed: DynamoDB Local runs on Java, the browser test on Chromium)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  exit 0
fi

echo "Missing: ${packages[*]}." >&2
echo "Install with:  sudo apt-get install -y ${packages[*]}" >&2
echo "(Java 17 runs DynamoDB Local for 'npm start' and the integration tests; Chromium runs the browser test.)" >&2
exit 1
