#!/usr/bin/env bash
# Load validation of TranscrevAI against a local `bentoml serve` (loopback only).
#
#   scripts/loadtest.sh            prepare clips if needed, then one run per user count
#   scripts/loadtest.sh prepare    only cut the 10-60 s clips of real speech
#   scripts/loadtest.sh idle       memory after an idle period, AUTO_UNLOAD_MODELS true vs false
#
# Each run starts a fresh server, warms it with one request, runs deploy/locustfile.py
# headless for LOADTEST_SECONDS, then waits (bounded) for every submitted job to finish and
# writes reports/loadtest-<users>.json and .md. Exit status 1 when any request failed, any
# job failed or was lost, or /readyz p95 reached 200 ms.
#
# Environment (defaults):
#   LOADTEST_MODEL=base            WHISPER_MODEL of the server (tiny.en is ~3x faster, English)
#   LOADTEST_USERS="50 100"        concurrent users, one run each
#   LOADTEST_SECONDS=120           load duration per run
#   LOADTEST_SPAWN_RATE=5          users started per second
#   LOADTEST_DRAIN_S=1500          longest wait for pending jobs after the load stops
#   LOADTEST_DIARIZE_FRACTION=0.5  share of async jobs that ask for diarization
#   LOADTEST_SOURCE=../shared/audio/camara   real plenary speech (mp3) to cut clips from
#   LOADTEST_AUDIO_DIR=reports/loadtest-audio
#   LOADTEST_IDLE_TIMEOUT=20       MODEL_IDLE_TIMEOUT in idle mode
#   LOADTEST_IDLE_WAIT=45          idle seconds before the memory is read in idle mode
#   LOADTEST_SERVER_ENV=<as deploy/k8s/configmap.yaml>  extra server env (NAME=VALUE words,
#                                  no spaces inside values): the batching bounds at one hour
#                                  and BENTOML_CONFIG_OVERRIDES (runner connections kept
#                                  open, /readyz without the runner probe). "" tests the
#                                  code defaults, which fail jobs under overload
#                                  (docs/performance-tuning.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
MODEL=${LOADTEST_MODEL:-base}
USERS=${LOADTEST_USERS:-50 100}
SECONDS_PER_RUN=${LOADTEST_SECONDS:-120}
SPAWN_RATE=${LOADTEST_SPAWN_RATE:-5}
DRAIN_S=${LOADTEST_DRAIN_S:-1500}
DIARIZE_FRACTION=${LOADTEST_DIARIZE_FRACTION:-0.5}
SOURCE=${LOADTEST_SOURCE:-$ROOT/../shared/audio/camara}
AUDIO_DIR=${LOADTEST_AUDIO_DIR:-$ROOT/reports/loadtest-audio}
IDLE_TIMEOUT=${LOADTEST_IDLE_TIMEOUT:-20}
IDLE_WAIT=${LOADTEST_IDLE_WAIT:-45}
KEEP_CONN='{"max_requests":1000000000,"max_age":31536000.0}'
OVERRIDES="{\"services\":{\"transcrevai\":{\"runner_probe\":{\"enabled\":false}},\"whisper_runner\":{\"runner_connection\":$KEEP_CONN},\"diarization_runner\":{\"runner_connection\":$KEEP_CONN}}}"
SERVER_ENV=${LOADTEST_SERVER_ENV-WHISPER_MAX_LATENCY_MS=3600000 DIARIZATION_MAX_LATENCY_MS=3600000 BENTOML_CONFIG_OVERRIDES=$OVERRIDES}
REPORT="$PY scripts/loadtest_report.py"
export BENTOML_DO_NOT_TRACK=true

SERVER_PID=""
SAMPLER_PID=""
URL=""

log() { printf '[loadtest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Cut clips of 10-60 s (mixed lengths, alternately wav and mp3) from each source recording.
prepare() {
  local lengths=(12 20 30 45 60 15 25 40 10 35) n=0
  mkdir -p "$AUDIO_DIR"
  shopt -s nullglob
  local sources=("$SOURCE"/*/audio.mp3 "$SOURCE"/*.mp3 "$SOURCE"/*.wav)
  [ ${#sources[@]} -gt 0 ] || { log "no audio under $SOURCE"; exit 2; }
  for src in "${sources[@]}"; do
    local total offset=0 stem
    total=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$src")
    stem=$(basename "$(dirname "$src")")
    while :; do
      local len=${lengths[$((n % ${#lengths[@]}))]}
      awk -v o="$offset" -v l="$len" -v t="$total" 'BEGIN{exit !(o + l <= t)}' || break
      local ext=wav codec=(-c:a pcm_s16le -ar 16000)
      if [ $((n % 2)) -eq 1 ]; then ext=mp3 codec=(-c:a libmp3lame -b:a 64k); fi
      ffmpeg -v error -y -ss "$offset" -t "$len" -i "$src" -ac 1 "${codec[@]}" \
        "$AUDIO_DIR/${stem}_$(printf %03d "$offset")s_${len}s.$ext"
      offset=$((offset + len)); n=$((n + 1))
    done
  done
  "$PY" - "$AUDIO_DIR" <<'EOF'
import json, sys
from pathlib import Path
import soundfile
d = Path(sys.argv[1])
clips = {p.name: round(soundfile.info(str(p)).duration, 2)
         for p in sorted(d.glob("*")) if p.suffix in (".wav", ".mp3")}
(d / "clips.json").write_text(json.dumps(clips, indent=1))
print(f"{len(clips)} clips, {sum(clips.values()):.0f} s, {min(clips.values()):.0f}-{max(clips.values()):.0f} s each")
EOF
}

# start_server RUN_DIR [ENV=VALUE...]: fresh jobs dir, task store and port; sets URL, SERVER_PID.
start_server() {
  local dir=$1; shift
  local port
  port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  URL="http://127.0.0.1:$port"
  # shellcheck disable=SC2086  # SERVER_ENV is a list of NAME=VALUE words
  env WHISPER_MODEL="$MODEL" JOBS_DIR="$dir/jobs" BENTOML_RESULT_STORE="$dir/task_result.db" \
    $SERVER_ENV "$@" \
    setsid "$BIN/bentoml" serve . --host 127.0.0.1 --port "$port" >"$dir/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 360); do
    if curl -fs -o /dev/null "$URL/readyz"; then log "server $SERVER_PID ready at $URL"; return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  log "server did not become ready; last log lines:"; tail -20 "$dir/serve.log" >&2
  return 1
}

stop_server() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ]; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID="" SAMPLER_PID=""
}
trap stop_server EXIT

ensure_clips() { [ -f "$AUDIO_DIR/clips.json" ] || prepare; }

warm_up() {
  local clip
  clip=$(ls "$AUDIO_DIR"/*.wav | head -1)
  curl -fsS -o /dev/null -F "file=@$clip" -F language=pt -F diarize=true "$URL/transcribe" \
    || curl -fsS -o /dev/null -F "file=@$clip" -F language=pt "$URL/transcribe"
}

run_level() {
  local users=$1 dir="$ROOT/reports/loadtest/u$1" rc=0
  rm -rf "$dir"; mkdir -p "$dir"
  start_server "$dir" AUTO_UNLOAD_MODELS=false
  $REPORT sample --pid "$SERVER_PID" --out "$dir/rss.jsonl" &
  SAMPLER_PID=$!
  log "warm-up request (model load is not part of the measured latencies)"
  warm_up
  log "locust: $users users for ${SECONDS_PER_RUN}s, model $MODEL"
  LOCUST_AUDIO_DIR="$AUDIO_DIR" LOCUST_JOBS_REPORT="$dir/jobs.json" \
    LOCUST_DIARIZE_FRACTION="$DIARIZE_FRACTION" \
    "$BIN/locust" -f deploy/locustfile.py --headless -u "$users" -r "$SPAWN_RATE" \
    -t "${SECONDS_PER_RUN}s" -H "$URL" --csv "$dir/locust" --only-summary \
    --loglevel WARNING --exit-code-on-error 0 >"$dir/locust.out" 2>&1
  $REPORT drain --url "$URL" --ledger "$dir/jobs.json" --timeout "$DRAIN_S" \
    --status-out "$dir/status.json"
  stop_server
  $REPORT summarize --users "$users" --seconds "$SECONDS_PER_RUN" --model "$MODEL" \
    --stats "$dir/locust_stats.csv" --ledger "$dir/jobs.json" --rss "$dir/rss.jsonl" \
    --status "$dir/status.json" --out "$ROOT/reports/loadtest-$users" || rc=$?
  return $rc
}

idle() {
  local base="$ROOT/reports/loadtest/idle" diarize=()
  awk -v f="$DIARIZE_FRACTION" 'BEGIN{exit !(f > 0)}' && diarize=(--diarize)
  rm -rf "$base"
  for mode in true false; do
    mkdir -p "$base/$mode"
    start_server "$base/$mode" AUTO_UNLOAD_MODELS="$mode" MODEL_IDLE_TIMEOUT="$IDLE_TIMEOUT"
    log "AUTO_UNLOAD_MODELS=$mode: 4 concurrent requests, then ${IDLE_WAIT}s idle"
    $REPORT idle-run --url "$URL" --pid "$SERVER_PID" --clips "$AUDIO_DIR" \
      --wait "$IDLE_WAIT" "${diarize[@]}" --out "$base/$mode/run.json"
    stop_server
  done
  $REPORT idle-summary "true=$base/true/run.json" "false=$base/false/run.json" \
    --idle-timeout "$IDLE_TIMEOUT" --wait "$IDLE_WAIT" --out "$ROOT/reports/idle-rss"
}

case "${1:-run}" in
  prepare) prepare ;;
  idle) ensure_clips; idle ;;
  run)
    ensure_clips
    status=0
    for u in $USERS; do run_level "$u" || status=1; done
    exit $status
    ;;
  *) echo "usage: $0 [run|prepare|idle]" >&2; exit 2 ;;
esac
