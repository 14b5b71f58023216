#!/usr/bin/env bash
# Installs MBROLA voices (Debian contrib/non-free) for TESTS ONLY, without touching the
# system apt sources: a private sources list and private apt state directories.
# Their licence forbids shipping them in a sold product: never add them to the Bento/image.
set -euo pipefail
STATE="${MBROLA_APT_STATE:-/tmp/transcrevai-mbrola-apt}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$STATE/lists/partial" "$STATE/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm contrib non-free" > "$STATE/sources.list"
OPTS=(-o "Dir::Etc::sourcelist=$STATE/sources.list" -o "Dir::Etc::sourceparts=/nonexistent"
      -o "Dir::State::Lists=$STATE/lists" -o "Dir::Cache=$STATE/cache")
apt-get "${OPTS[@]}" update -qq
DEBIAN_FRONTEND=noninteractive apt-get "${OPTS[@]}" install -y -qq \
  mbrola mbrola-br1 mbrola-br2 mbrola-br3 mbrola-br4 mbrola-pt1
