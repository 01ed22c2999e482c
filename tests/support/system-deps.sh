#!/bin/sh
# Debian packages Hookline uses that no wheel ships, installed when run as root:
#   run: Apertium with its English-Spanish and English-Catalan data (offline rule-based
#        translation, used by the demo) and fonts for burned-in subtitles (Latin and CJK);
#   all: the above, plus Chromium and its driver for the browser tests.
# Without root it prints the one line to run; `make test` stops there, `make run` goes on.
set -eu
mode="${1:-all}"
wanted="apertium apertium-eng-spa apertium-eng-cat fonts-dejavu-core fonts-noto-cjk"
[ "$mode" = "all" ] && wanted="$wanted chromium chromium-driver"
missing=""
for package in $wanted; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
missing="${missing# }"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian packages: $missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi
echo "Hookline needs Debian packages that are missing. Install them once with:" >&2
echo "    sudo apt-get install -y $missing" >&2
[ "$mode" = "run" ] && echo "(Continuing: the demo's Spanish and Catalan localizations will wait for them.)" >&2
[ "$mode" = "run" ] && exit 0
exit 1
