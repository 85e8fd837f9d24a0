#!/usr/bin/env bash
# A real Label Studio (PyPI, SQLite) for the ML backend's integration test, without Docker.
#
#   scripts/label-studio.sh start     # install once (.svc/label-studio/venv), start, print URL + API key
#   scripts/label-studio.sh stop
#   scripts/label-studio.sh status    # exit 0 when it answers /health, 3 otherwise
#
# State (venv, data, log, pid) lives under $SVC_DIR/label-studio (default .svc/, git-ignored); `start`
# wipes the data dir. Connection strings go to stdout as KEY=value lines (LABEL_STUDIO_URL,
# LABEL_STUDIO_API_KEY: a personal access token of the admin user); progress goes to stderr.
# USE_DEFAULT_BANNED_SUBNETS=false lets this Label Studio call an ML backend on 127.0.0.1 (by default
# it refuses private addresses, against SSRF).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SVC_DIR=${SVC_DIR:-$ROOT/.svc}
DIR=$SVC_DIR/label-studio
VENV=${LABEL_STUDIO_VENV:-$ROOT/.svc/label-studio-venv}
PORT=${LABEL_STUDIO_PORT:-8089}
HOST=127.0.0.1
START_TIMEOUT=${LABEL_STUDIO_START_TIMEOUT:-300}
USER_EMAIL=${LABEL_STUDIO_USERNAME:-admin@example.com}
USER_PASSWORD=${LABEL_STUDIO_PASSWORD:-enricher-secret}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
log() { printf '[label-studio] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

install() {
  local req="$ROOT/tools/label-studio/requirements.txt" con="$ROOT/tools/label-studio/constraints.txt" stamp="$VENV/.requirements"
  # The stamp is both files: a change to either reinstalls.
  if [ -f "$stamp" ] && cmp -s <(cat "$req" "$con") "$stamp"; then return; fi
  log "installing $(grep -v '^#' "$req" | tr '\n' ' ')into $VENV (first run: ~4 min)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  # -c: every dependency at the version of a tested install (label-studio pins few of its own).
  "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req" -c "$con"
  cat "$req" "$con" >"$stamp"
}

healthy() { curl -fsS -o /dev/null --max-time 5 "http://$HOST:$PORT/health" 2>/dev/null; }

stop() {
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$DIR/pid"
}

start() {
  install
  stop 2>/dev/null || true
  rm -rf "$DIR/data"
  mkdir -p "$DIR/data"
  log "starting on http://$HOST:$PORT (data $DIR/data)"
  (
    export LABEL_STUDIO_BASE_DATA_DIR="$DIR/data" USE_DEFAULT_BANNED_SUBNETS=false \
      LABEL_STUDIO_USERNAME="$USER_EMAIL" LABEL_STUDIO_PASSWORD="$USER_PASSWORD" \
      LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true DJANGO_DB=sqlite
    exec setsid "$VENV/bin/label-studio" start --no-browser --host "$HOST" --port "$PORT" --data-dir "$DIR/data"
  ) >"$DIR/label-studio.log" 2>&1 &
  echo $! >"$DIR/pid"
  local waited=0
  until healthy; do
    kill -0 "$(cat "$DIR/pid")" 2>/dev/null || { tail -20 "$DIR/label-studio.log" >&2; die "Label Studio exited during start-up"; }
    [ "$waited" -lt "$START_TIMEOUT" ] || { tail -20 "$DIR/label-studio.log" >&2; die "not healthy after ${START_TIMEOUT}s"; }
    sleep 2; waited=$((waited + 2))
  done
  log "healthy after ${waited}s"
  local token
  token=$(LABEL_STUDIO_BASE_DATA_DIR="$DIR/data" LABEL_STUDIO_USERNAME="$USER_EMAIL" "$VENV/bin/python" "$ROOT/tools/label-studio/make_token.py" 2>>"$DIR/label-studio.log" | tail -1)
  [ -n "$token" ] || die "could not create an API token (see $DIR/label-studio.log)"
  echo "LABEL_STUDIO_URL=http://$HOST:$PORT"
  echo "LABEL_STUDIO_API_KEY=$token"
}

mkdir -p "$DIR"
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) healthy && { log "running on http://$HOST:$PORT"; exit 0; } || { log "not running"; exit 3; } ;;
  *) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
