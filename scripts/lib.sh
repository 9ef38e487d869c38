# Shared shell setup for scripts/: strict mode, the project's paths, versions and settings.
# Sourced, not executed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROOT

# Settings: .env.example holds every default, a user's .env overrides them, and a variable already in
# the environment (`make local-up PG_PORT=15433`, a test's override) overrides both.
caller_env=$(export -p | grep -v '^declare -[a-z]*r')
set -a
# shellcheck source=../versions.env
. "$ROOT/versions.env"
. "$ROOT/.env.example"
if [ -f "$ROOT/.env" ]; then . "$ROOT/.env"; fi
set +a
eval "$caller_env"
unset caller_env

# Relative state/build folders are taken from the repository root.
case "$STATE_DIR" in /*) ;; *) STATE_DIR="$ROOT/$STATE_DIR" ;; esac
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
# teardown removes STATE_DIR: it must be a folder of its own.
case "$STATE_DIR" in /|"$ROOT"|"$ROOT/"|"$HOME"|"$HOME/") echo "error: STATE_DIR=$STATE_DIR would hold more than the stack's state; set it to a folder of its own in .env" >&2; exit 1 ;; esac
export STATE_DIR BUILD_DIR
export VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The newest PostgreSQL server binaries from Debian's packages, unless PG_BINDIR says otherwise.
pg_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

PG_BIN=$(pg_bindir)
# PostgreSQL refuses to run as root: when we are root, the cluster belongs to the `postgres` user.
if [ "$(id -u)" = 0 ]; then PG_OS_USER=postgres; else PG_OS_USER=$(id -un); fi
export PG_BIN PG_OS_USER
as_pg_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi; }

# Superuser session on the private cluster, over its own Unix socket.
psql_admin() { as_pg_user "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$STATE_DIR/postgres/run" -p "$PG_PORT" -U postgres "$@"; }

supervisorctl() { "$VENV/bin/supervisorctl" -c "$ROOT/config/supervisord.conf" "$@"; }
program_running() { supervisorctl status "$1" 2>/dev/null | grep -q RUNNING; }
supervisord_running() { [ -f "$STATE_DIR/supervisord.pid" ] && kill -0 "$(cat "$STATE_DIR/supervisord.pid")" 2>/dev/null; }
# Stop the Glue job runs the local AWS endpoint started for a deployment (TARGET=local): each is a process group of
# its own (python/localaws/gluejobs.py), which outlives the endpoint, and whose leader is named job-run.
stop_job_runs() {
  local pid_file pid
  for pid_file in "$STATE_DIR"/aws/runs/*/pid; do
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q '^sh -c .* job-run '; then
      log "stopping the deployed Glue job run of $(dirname "$pid_file") (process group $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || true
    fi
  done
}

# Stop supervisord and, through it, every program (the highest priority first: producer and job before what they
# use), and wait until it has exited so the ports are free afterwards.
stop_supervisord() {
  local pid; pid=$(cat "$STATE_DIR/supervisord.pid")
  stop_job_runs
  supervisorctl shutdown >/dev/null
  for _ in $(seq 180); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  die "supervisord (pid $pid) has not exited 180 s after shutdown; see $STATE_DIR/logs/supervisord.log"
}
