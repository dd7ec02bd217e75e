#!/usr/bin/env bash
# start.sh - a private Slurm cluster on this machine, for quern's tests and
# for trying `quern pipeline slurm` without a real cluster.
#
#   eval "$(scripts/slurm/start.sh [-n NODES] [-c CPUS] [-m MEM_MB] [-p PORT] DIR)"
#
# Starts, as root and without systemd: one munged (own key and socket under
# DIR), one slurmctld and NODES slurmd (nodes n1..nN, all on 127.0.0.1, each
# on its own port), every daemon in the foreground under nohup so that the
# recorded PID (DIR/pids/*.pid) is the daemon itself. Waits until every node
# is idle, then prints `export SLURM_CONF=...` (also in DIR/env.sh).
# Stop it with scripts/slurm/stop.sh DIR (by those PIDs, never by name).
#
#   -n NODES   slurmd daemons / Slurm nodes (default 1)
#   -c CPUS    CPUs each node offers (default: the machine's cores / NODES, at
#              least 1); more than the machine has oversubscribes, which suits
#              tests whose tasks are small
#   -m MEM_MB  RealMemory of each node (default 1024)
#   -p PORT    first TCP port; slurmctld takes PORT, the nodes PORT+1.. (default:
#              the first free run of ports from 17817 up)
#
# The config sets what the pipeline relies on: DependencyParameters=
# kill_invalid_depend (dependants of a failed job are cancelled, not left
# pending), batch_sched_delay=0 (array tasks start at once) and no cgroups
# (proctrack/linuxproc, task/none), so it runs in containers and CI VMs.
# Requires: slurm-wlm and munge (deps/test.txt). DIR must not be under a
# group/world-writable directory without the sticky bit (munged refuses), and
# should be short: the munge socket path must fit in 107 bytes.
set -euo pipefail

NODES=1 CPUS='' MEM=1024 PORT=''
while getopts 'n:c:m:p:h' opt; do
  case $opt in
    n) NODES=$OPTARG ;;
    c) CPUS=$OPTARG ;;
    m) MEM=$OPTARG ;;
    p) PORT=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: $0 [-n NODES] [-c CPUS] [-m MEM_MB] [-p PORT] DIR" >&2; exit 2; }

say() { echo "slurm/start: $*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $NODES =~ ^[1-9][0-9]?$ ]] || die "-n wants 1..99 nodes"
[[ $MEM =~ ^[1-9][0-9]*$ ]] || die "-m wants a number of MB"
[ "$(id -u)" = 0 ] || die "run as root: slurmd must be able to start jobs (SlurmUser=root)"
for b in munged slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || die "$b not found: apt-get install slurm-wlm munge (see deps/test.txt)"
done

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
CONF=$DIR/etc/slurm.conf
SOCK=$DIR/munge/sock/munge.socket
[ ${#SOCK} -lt 100 ] || die "DIR is too long for a unix socket path ($SOCK)"
if compgen -G "$DIR/pids/*.pid" >/dev/null; then
  die "$DIR has recorded daemons; stop them first: scripts/slurm/stop.sh $DIR"
fi

# ---- ports: N+1 free ones in a row. Listening TCP sockets (state 0A) from
# /proc/net/tcp{,6}, read once: no dependency on ss/netstat.
if [ -z "$PORT" ]; then
  busy=' '
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    while read -r _ local _ st _; do
      [ "$st" = 0A ] && busy+="$((16#${local##*:})) "
    done < "$f"
  done
  PORT=17817
  while :; do
    ok=1
    for ((i = 0; i <= NODES; i++)); do
      [[ $busy == *" $((PORT + i)) "* ]] && { ok=0; break; }
    done
    [ $ok = 1 ] && break
    PORT=$((PORT + NODES + 1))
    [ $PORT -lt 30000 ] || die "no free run of $((NODES + 1)) ports below 30000"
  done
fi
[[ $PORT =~ ^[0-9]+$ ]] || die "-p wants a port number"

if [ -z "$CPUS" ]; then
  CPUS=$(( $(nproc) / NODES ))
  [ "$CPUS" -ge 1 ] || CPUS=1
fi

# ---- layout: keys private, socket directory searchable (munged checks both)
rm -rf "$DIR/spool" "$DIR/log" "$DIR/etc"
mkdir -p "$DIR"/{etc,log,pids,run,spool/ctld,munge/key,munge/sock}
for ((i = 1; i <= NODES; i++)); do mkdir -p "$DIR/spool/n$i"; done
chmod 755 "$DIR" "$DIR/munge" "$DIR/munge/sock"
chmod 700 "$DIR/munge/key"
if [ ! -s "$DIR/munge/key/munge.key" ]; then
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$DIR/munge/key/munge.key" >&2
  else
    head -c 1024 /dev/urandom > "$DIR/munge/key/munge.key"
  fi
fi
chmod 400 "$DIR/munge/key/munge.key"

# ---- slurm.conf
{
  echo "# written by quern scripts/slurm/start.sh: $NODES node(s) on 127.0.0.1"
  echo "ClusterName=quern"
  echo "SlurmctldHost=localhost(127.0.0.1)"
  echo "SlurmctldPort=$PORT"
  echo "SlurmdPort=$((PORT + 1))"
  echo "SlurmUser=root"
  echo "SlurmdUser=root"
  echo "AuthType=auth/munge"
  echo "CredType=cred/munge"
  echo "AuthInfo=socket=$SOCK"
  echo "StateSaveLocation=$DIR/spool/ctld"
  echo "SlurmdSpoolDir=$DIR/spool/%n"
  echo "SlurmctldPidFile=$DIR/run/slurmctld.pid"
  echo "SlurmdPidFile=$DIR/run/slurmd-%n.pid"
  echo "SlurmctldLogFile=$DIR/log/slurmctld.log"
  echo "SlurmdLogFile=$DIR/log/slurmd-%n.log"
  echo "SlurmctldDebug=info"
  echo "SlurmdDebug=info"
  echo "ProctrackType=proctrack/linuxproc"
  echo "TaskPlugin=task/none"
  echo "JobAcctGatherType=jobacct_gather/none"
  echo "AccountingStorageType=accounting_storage/none"
  echo "JobCompType=jobcomp/filetxt"
  echo "JobCompLoc=$DIR/log/jobcomp.txt"
  echo "SelectType=select/cons_tres"
  echo "SelectTypeParameters=CR_CPU"
  echo "SchedulerType=sched/backfill"
  echo "SchedulerParameters=batch_sched_delay=0"
  echo "DependencyParameters=kill_invalid_depend"
  echo "SlurmdParameters=config_overrides"
  echo "MpiDefault=none"
  echo "MailProg=/bin/true"
  echo "ReturnToService=2"
  echo "MinJobAge=600"
  echo "KillWait=5"
  echo "InactiveLimit=0"
  for ((i = 1; i <= NODES; i++)); do
    echo "NodeName=n$i NodeAddr=127.0.0.1 NodeHostname=localhost Port=$((PORT + i)) CPUs=$CPUS RealMemory=$MEM State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} > "$CONF"
echo "export SLURM_CONF=$CONF" > "$DIR/env.sh"
export SLURM_CONF=$CONF

# ---- daemons; on any failure below, stop what was started
started=0
trap '[ $started = 1 ] || "$(dirname "$0")/stop.sh" "$DIR" >&2 || true' EXIT

nohup munged -F --socket="$SOCK" --key-file="$DIR/munge/key/munge.key" \
  --pid-file="$DIR/run/munged.pid" --seed-file="$DIR/munge/key/seed" \
  --log-file="$DIR/log/munged.log" </dev/null >"$DIR/log/munged.out" 2>&1 &
echo $! > "$DIR/pids/munged.pid"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { cat "$DIR/log/munged.out" >&2; die "munged did not create $SOCK"; }

nohup slurmctld -D -f "$CONF" </dev/null >"$DIR/log/slurmctld.out" 2>&1 &
echo $! > "$DIR/pids/slurmctld.pid"
for ((i = 1; i <= NODES; i++)); do
  nohup slurmd -D -N "n$i" -f "$CONF" </dev/null >"$DIR/log/slurmd-n$i.out" 2>&1 &
  echo $! > "$DIR/pids/slurmd-n$i.pid"
done

alive() { local c; read -r c 2>/dev/null < "/proc/$1/comm" && [ "$c" = "$2" ]; }
t0=$SECONDS
while :; do
  idle=$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | grep -c . || true)
  [ "$idle" -ge "$NODES" ] && break
  for f in "$DIR"/pids/*.pid; do
    name=$(basename "$f" .pid); name=${name%%-*}
    read -r pid < "$f"
    alive "$pid" "$name" || { tail -n 20 "$DIR"/log/*.out >&2 || true; die "$name exited while starting (logs: $DIR/log)"; }
  done
  [ $((SECONDS - t0)) -lt 60 ] || { sinfo -N >&2 || true; die "nodes not idle after 60 s (logs: $DIR/log)"; }
  sleep 0.2
done
started=1
say "up: $NODES node(s) x $CPUS CPUs, ports $PORT-$((PORT + NODES)), logs in $DIR/log"
cat "$DIR/env.sh"
