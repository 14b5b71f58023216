#!/usr/bin/env bash
# Installs everything TranscrevAI's tests need on a fresh Debian machine: system packages
# (ffmpeg, espeak-ng, Chromium for the browser test, MBROLA voices for tests only), a venv
# in .venv and the project with its extras. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
PKGS=(ffmpeg espeak-ng libsndfile1 chromium chromium-driver)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# MBROLA voices: tests only (licence forbids shipping); failure here only skips those tests.
[ -e /usr/share/mbrola/br1 ] || $SUDO bash scripts/install_mbrola.sh || echo "MBROLA voices unavailable: their tests will skip"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[models,eval,test]'
# GE2E speaker-encoder weights; --no-deps because its metadata pulls torch (read without it)
.venv/bin/pip install -q --no-deps Resemblyzer==0.1.4
