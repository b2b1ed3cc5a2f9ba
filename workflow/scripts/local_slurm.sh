#!/usr/bin/env bash
# A single-node SLURM cluster on this machine: for the tests (tests/test_slurm.py) and for
# trying `snakemake --profile workflow/profiles/slurm` without a real cluster.
#
#   bash workflow/scripts/local_slurm.sh start DIR   # needs root; then sbatch, squeue, ...
#   bash workflow/scripts/local_slurm.sh stop DIR
#
# `start` installs Debian's slurmctld, slurmd, slurm-client and munge with apt when they are
# missing, writes /etc/slurm/slurm.conf and /etc/slurm/gres.conf for one node named
# `hostname -s` (all its CPUs and memory, partitions `cpu` (default) and `gpu`, one GPU GRES),
# starts munged (unless one is already running), slurmctld and slurmd as root, and waits
# until the node is idle. State, spool, logs and pid files stay in DIR. The config has to be
# at the compiled-in path: the executor plugin removes SLURM_* variables (SLURM_CONF too)
# from the jobs' environment, and `srun` inside a job must still find the cluster. A
# slurm.conf that this script did not write is never overwritten (start fails instead); the
# daemons use their own ports (6917, 6918).
#
# The GPU GRES has no GPU behind it (gres.conf: File=/dev/null): jobs that ask for a GPU are
# scheduled as on a real GPU node, but torch finds no CUDA device and training uses the CPU.
#
# No slurmdbd (so no sacct): slurmctld keeps finished jobs for MinJobAge=3600 s (visible to
# `squeue --states=all`, which the profile's status command uses, and `scontrol show job`),
# and every finished job gets a line in DIR/jobcomp.txt for good (jobcomp/filetxt).
#
# `stop` stops slurmd and slurmctld, munged only if `start` started it, and removes the two
# config files it wrote.
set -euo pipefail

say() { printf '[local_slurm] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop DIR"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
conf=/etc/slurm/slurm.conf
gres=/etc/slurm/gres.conf
marker="# Written by workflow/scripts/local_slurm.sh"
ours() { [ ! -e "$1" ] || head -1 "$1" | grep -qF "$marker"; }  # absent, or written by us
unset SLURM_CONF

stop_pidfile() {  # stop_pidfile NAME FILE: TERM the pid in FILE, wait up to 15 s
  local name="$1" file="$2" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    say "stopping $name ($pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

if [ "$cmd" = stop ]; then
  stop_pidfile slurmd "$dir/slurmd.pid"
  stop_pidfile slurmctld "$dir/slurmctld.pid"
  stop_pidfile munged "$dir/munged.pid"   # exists only if `start` started munged
  for f in "$conf" "$gres"; do ours "$f" && rm -f "$f"; done
  exit 0
fi
[ "$cmd" = start ] || die "usage: $0 start|stop DIR"

[ "$(id -u)" = 0 ] || die "needs root (runs slurmctld, slurmd and munged)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || die "SLURM is not installed and there is no apt-get"
  say "installing slurmctld slurmd slurm-client munge with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null; }
fi

# munge: reuse a running daemon, otherwise start one as the munge user on the default socket.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || { say "creating /etc/munge/munge.key"; mungekey --create 2>/dev/null \
    || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge
  say "starting munged"
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- munged
  else
    munged --force
  fi
  for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  munge -n | unmunge >/dev/null || die "munged does not answer"
  cp /run/munge/munged.pid "$dir/munged.pid"
fi

for f in "$conf" "$gres"; do
  ours "$f" || die "$f exists and was not written by this script; not touching it"
done
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
  die "slurmctld or slurmd is already running; stop it first"
fi

host="$(hostname -s)"
# "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
node="$(slurmd -C | head -1)"
case "$node" in "NodeName=$host "*) ;; *) die "unexpected \`slurmd -C\`: $node" ;; esac
mkdir -p "$dir/state" "$dir/spool" /etc/slurm

cat >"$conf" <<EOF
$marker: a single-node cluster on $host (state in $dir).
ClusterName=grokscope
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
# No slurmdbd: finished jobs stay visible to squeue for MinJobAge seconds and are written to
# the job completion file for good.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MinJobAge=3600
DefMemPerCPU=1000
GresTypes=gpu
$node NodeAddr=127.0.0.1 Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
# A GPU GRES backed by /dev/null (slurmd drops file-less GPUs and wants a character device):
# scheduled like a GPU, but there is no CUDA device inside the job.
printf '%s\nNodeName=%s Name=gpu File=/dev/null\n' "$marker" "$host" >"$gres"

say "starting slurmctld and slurmd (config $conf)"
slurmctld
for _ in $(seq 40); do scontrol ping >/dev/null 2>&1 && break; sleep 0.25; done
scontrol ping >/dev/null 2>&1 || die "slurmctld did not come up; see $dir/slurmctld.log"
slurmd

state=""
for _ in $(seq 60); do
  state="$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1)"
  case "$state" in
    idle*|mixed*|allocated*) break ;;
    drain*|down*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle*|mixed*|allocated*) say "node $host is $state (config $conf)" ;;
  *) die "node $host is '${state:-unknown}'; see $dir/slurmd.log and $dir/slurmctld.log" ;;
esac
