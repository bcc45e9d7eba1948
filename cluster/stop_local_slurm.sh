#!/usr/bin/env bash
# Stops the single-node SLURM cluster of cluster/start_local_slurm.sh: slurmd, slurmctld and slurmdbd, and
# MariaDB and munged when that script started them (not when they were running before it). Each daemon is
# stopped by the process id in its pid file. The configuration, the accounting database and the job records
# stay: starting again resumes the same cluster. Needs root (uses sudo when not root).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    exec sudo bash "$0" "$@"
fi

MARK="# Written by cluster/start_local_slurm.sh (the alliance workflow's local test cluster)."
RUN=/run/slurm
STARTED=$RUN/started-by-alliance

if [ -f /etc/slurm/slurm.conf ] && ! grep -qxF "$MARK" /etc/slurm/slurm.conf; then
    echo "stop_local_slurm: /etc/slurm/slurm.conf was not written by start_local_slurm.sh: not stopping this machine's SLURM" >&2
    exit 1
fi

# stop NAME PIDFILE: SIGTERM to the pid of PIDFILE, then wait (up to 30 s) for the process to end.
stop() {
    local name=$1 pidfile=$2 pid
    [ -s "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    kill -0 "$pid" 2>/dev/null || return 0
    echo "stop_local_slurm: stopping $name (pid $pid)" >&2
    kill "$pid"
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    echo "stop_local_slurm: $name (pid $pid) did not end within 30 s" >&2
    return 1
}

stop slurmd "$RUN/slurmd.pid"
stop slurmctld "$RUN/slurmctld.pid"
stop slurmdbd "$RUN/slurmdbd.pid"
# MariaDB and munged last, the daemons above need them until they end.
for name in mariadbd munged; do
    pidfile="$(sed -n "s/^$name //p" "$STARTED" 2>/dev/null || true)"
    if [ -n "$pidfile" ]; then
        stop "$name" "$pidfile"
    fi
done
rm -f "$STARTED"
