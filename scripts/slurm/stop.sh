#!/usr/bin/env bash
# stop.sh - stop the cluster that scripts/slurm/start.sh DIR started.
#
#   scripts/slurm/stop.sh DIR
#
# Cancels the cluster's jobs while slurmctld still answers, then signals the
# daemons by the PIDs recorded in DIR/pids (each checked against its process
# name first, so a reused PID is left alone): slurmd and slurmctld, then
# munged, which they need until the end. TERM, then KILL after 10 s. Job
# step daemons that outlived a dead slurmd are found by the SLURM_CONF in
# their environment (this cluster's only) and killed with their processes.
# Safe to run twice; keeps DIR (logs) for inspection.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)
CONF=$DIR/etc/slurm.conf
say() { echo "slurm/stop: $*" >&2; }

alive() { local c; [ -n "$1" ] && read -r c 2>/dev/null < "/proc/$1/comm" && [ "$c" = "$2" ]; }
pidof_file() { local p=''; read -r p 2>/dev/null < "$1"; echo "$p"; }

ctld=$(pidof_file "$DIR/pids/slurmctld.pid" 2>/dev/null)
if [ -f "$CONF" ] && alive "$ctld" slurmctld; then
  export SLURM_CONF=$CONF
  jobs=$(timeout 10 squeue -h -o %F 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    say "cancelling jobs $jobs"
    # shellcheck disable=SC2086
    timeout 10 scancel $jobs 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

# term_wait NAME PIDFILE...: TERM every live recorded daemon, wait, KILL stragglers
rc=0
term_wait() {
  local name=$1 f p i pids=() files=()
  shift
  for f in "$@"; do
    [ -s "$f" ] || continue
    p=$(pidof_file "$f")
    if alive "$p" "$name"; then kill -TERM "$p" 2>/dev/null; pids+=("$p"); fi
    files+=("$f")
  done
  for p in "${pids[@]+"${pids[@]}"}"; do
    for i in $(seq 100); do alive "$p" "$name" || break; sleep 0.1; done
    if alive "$p" "$name"; then
      say "$name $p ignored TERM for 10 s: KILL"
      kill -KILL "$p" 2>/dev/null
      sleep 0.5
      alive "$p" "$name" && { say "$name $p survived KILL"; rc=1; }
    fi
  done
  for f in "${files[@]+"${files[@]}"}"; do rm -f "$f"; done
}
shopt -s nullglob
# slurmd and slurmctld in parallel: each takes about 2 s to wind down
term_wait slurmd "$DIR"/pids/slurmd-*.pid &
term_wait slurmctld "$DIR/pids/slurmctld.pid"
wait
term_wait munged "$DIR/pids/munged.pid"

# Step daemons of this cluster left behind by a slurmd that died. They ignore
# TERM; their job processes are killed after them.
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  alive "$p" slurmstepd || continue
  tr '\0' '\n' < "$d/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$CONF" || continue
  kids=''
  for c in /proc/[0-9]*; do    # its children, from /proc (no procps needed)
    read -r st 2>/dev/null < "$c/stat" || continue
    rest=${st##*) }
    rest=${rest#* }
    [ "${rest%% *}" = "$p" ] && kids+="${c#/proc/} "
  done
  say "leftover slurmstepd $p (children: ${kids:-none}): KILL"
  kill -KILL "$p" 2>/dev/null
  # shellcheck disable=SC2086
  [ -n "${kids// /}" ] && kill -TERM $kids 2>/dev/null
done
exit $rc
