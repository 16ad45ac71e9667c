#!/usr/bin/env bash
# Puts Silero VAD v5 (ISC licence) into target/classes/dev/yaad/voice/ so that it ships in the jar.
# It comes from the npm package @ricky0123/vad-web 0.0.31 (dist/silero_vad_v5.onnx) and is checked
# against the SHA-256 below; nothing is downloaded at run time. Skips the fetch when the checked
# file is already there. Usage: fetch-silero-vad.sh <target dir>
set -euo pipefail
target=${1:?usage: fetch-silero-vad.sh <target dir>}
sha256=2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
destination="$target/classes/dev/yaad/voice/silero_vad_v5.onnx"

checked() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ]; }

if checked "$destination"; then
  exit 0
fi
work="$target/silero-vad"
mkdir -p "$work" "$(dirname "$destination")"
if ! checked "$work/package/dist/silero_vad_v5.onnx"; then
  command -v npm >/dev/null || { echo "fetch-silero-vad: npm is needed to fetch the VAD model (Debian: apt-get install npm)" >&2; exit 1; }
  (cd "$work" && rm -f ricky0123-vad-web-0.0.31.tgz && npm pack --silent @ricky0123/vad-web@0.0.31 >/dev/null \
    && tar xzf ricky0123-vad-web-0.0.31.tgz package/dist/silero_vad_v5.onnx)
  if ! checked "$work/package/dist/silero_vad_v5.onnx"; then
    echo "fetch-silero-vad: SHA-256 of silero_vad_v5.onnx is not $sha256; refusing it" >&2
    exit 1
  fi
fi
cp "$work/package/dist/silero_vad_v5.onnx" "$destination"
