#!/usr/bin/env bash
# Starts a real single-node SLURM cluster on this machine: the one tests/test_slurm.py builds a cohort on
# through the workflow's SLURM profile (profiles/slurm/), and a place to try that profile before pointing it
# at a real cluster (README, "Running on a SLURM cluster").
#
# Debian's packages (installed when missing): munge (authentication), slurmctld (the controller), slurmd
# (the node), slurm-client (sbatch, sacct, ...), and for job accounting slurmdbd with MariaDB, which the
# Snakemake executor plugin needs: it follows its jobs with `sacct` and checks the account with `sacctmgr`.
# Controller, node, accounting daemon and database listen on loopback only. The node is this machine
# (NodeName from `hostname -s`, CPUs and memory as `slurmd -C` detects them); processes are tracked
# without cgroups (proctrack/linuxproc, task/none), so that it runs in a container too. One partition,
# `local`, and one account, `alliance`, which root and the user who ran sudo may use.
#
# Idempotent: running it again starts only what is not running (and restarts the SLURM daemons if the
# configuration it writes changed). It ends when the node is idle and a test job has run, or fails with
# the daemons' logs. Stop everything with cluster/stop_local_slurm.sh. Needs root (uses sudo when not
# root). It refuses to touch a /etc/slurm/slurm.conf it did not write: a machine that has its own SLURM
# keeps it.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    exec sudo bash "$0" "$@"
fi
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

CLUSTER=alliance
PARTITION=local
ACCOUNT=alliance
NODE="$(hostname -s)"
MARK="# Written by cluster/start_local_slurm.sh (the alliance workflow's local test cluster)."
CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
LOGS=/var/log/slurm
RUN=/run/slurm
DATABASE=slurm_acct_db
STARTED=$RUN/started-by-alliance

say() { printf 'start_local_slurm: %s\n' "$*" >&2; }

# The logs of every daemon, printed when something does not come up.
fail() {
    say "FAILED: $*"
    for log in /var/log/munge/munged.log "$LOGS/mariadb.log" "$LOGS/slurmdbd.log" "$LOGS/slurmctld.log" \
        "$LOGS/slurmd.log"; do
        if [ -f "$log" ]; then
            printf '\n===== %s (last 40 lines) =====\n' "$log" >&2
            tail -n 40 "$log" >&2
        fi
    done
    exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$((seconds * 2))"); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    fail "$what did not come up within ${seconds} s"
}

# Whether the daemon of a pid file is alive.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# started NAME PIDFILE: a daemon this script started, which cluster/stop_local_slurm.sh stops (the SLURM
# daemons always; munged and MariaDB only when this script started them, not when they were running).
started() { grep -qx "$1 $2" "$STARTED" 2>/dev/null || echo "$1 $2" >>"$STARTED"; }

# 1. The packages.
missing=()
for program in munged:munge mariadbd:mariadb-server slurmdbd:slurmdbd slurmctld:slurmctld slurmd:slurmd \
    sbatch:slurm-client; do
    command -v "${program%%:*}" >/dev/null 2>&1 || missing+=("${program#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    # The daemons are started below by this script itself (a container has no init system to do it).
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi
if [ -f "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    say "$CONF exists and was not written by this script: this machine has its own SLURM; use that one."
    exit 1
fi
mkdir -p "$LOGS" "$RUN" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
chown slurm:slurm "$LOGS" "$RUN" /var/lib/slurm/slurmctld

# 2. munge: the authentication every SLURM daemon and command uses.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create --keyfile /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 600 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/log/munge
    chown munge:munge /run/munge /var/log/munge
    say "starting munged"
    runuser -u munge -- munged
    wait_for 20 munged sh -c 'munge -n | unmunge'
    started munged /run/munge/munged.pid
fi

# 3. MariaDB, for slurmdbd: SLURM's job accounting (sacct) and its accounts (sacctmgr).
if ! mariadb-admin ping >/dev/null 2>&1; then
    if [ ! -d /var/lib/mysql/mysql ]; then
        mariadb-install-db --user=mysql >>"$LOGS/mariadb.log" 2>&1 || fail "mariadb-install-db"
    fi
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld
    say "starting MariaDB (loopback only)"
    setsid mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid \
        </dev/null >>"$LOGS/mariadb.log" 2>&1 &
    wait_for 60 MariaDB mariadb-admin ping
    started mariadbd /run/mysqld/mysqld.pid
fi
# The database user of slurmdbd, with the password of slurmdbd.conf (a new one the first time).
password=""
if [ -f "$DBD_CONF" ]; then
    password="$(sed -n 's/^StoragePass=//p' "$DBD_CONF")"
fi
if [ -z "$password" ]; then
    password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
mariadb <<SQL || fail "setting up the accounting database"
CREATE DATABASE IF NOT EXISTS $DATABASE;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$password';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON $DATABASE.* TO 'slurm'@'localhost';
SQL

# write_config FILE MODE CONTENT: write FILE (owned by slurm) if CONTENT differs; says whether it changed.
write_config() {
    local file=$1 mode=$2 content=$3
    if [ -f "$file" ] && [ "$(cat "$file")" = "$content" ]; then
        return 1
    fi
    printf '%s\n' "$content" >"$file.new"
    chown slurm:slurm "$file.new"
    chmod "$mode" "$file.new"
    mv "$file.new" "$file"
}

# 4. slurm.conf: this machine as the only node, the controller on loopback.
hardware="$(slurmd -C | head -n 1)" # NodeName=... CPUs=... Boards=... RealMemory=...
case "$hardware" in
NodeName=*RealMemory=*) ;;
*) fail "slurmd -C did not describe this machine: $hardware" ;;
esac
conf_changed=false
write_config "$CONF" 644 "$MARK
# A single-node cluster on loopback, for the workflow's SLURM profile (profiles/slurm/) and its test.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
# No cgroups: processes are tracked by their parent ids, tasks are not bound to cores.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
# Cores and memory are what jobs ask for (--cpus-per-task, --mem).
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# Accounting in slurmdbd: sacct (the executor plugin's job status), accounts, and each job's comment
# (the plugin writes the rule's name there).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
MailProg=/bin/true
# Quick answers on loopback; also how long a command waits for a controller that is down (see README).
MessageTimeout=5
$hardware NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP" && conf_changed=true

# 5. slurmdbd.conf, and slurmdbd (sacctmgr and sacct find it through slurm.conf).
dbd_changed=false
write_config "$DBD_CONF" 600 "$MARK
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$password
StorageLoc=$DATABASE" && dbd_changed=true
if alive "$RUN/slurmdbd.pid" && $dbd_changed; then
    pid="$(cat "$RUN/slurmdbd.pid")"
    say "restarting slurmdbd (its configuration changed)"
    kill "$pid"
    wait_for 30 "the end of slurmdbd" sh -c "! kill -0 $pid 2>/dev/null"
fi
if ! alive "$RUN/slurmdbd.pid"; then
    say "starting slurmdbd"
    slurmdbd || fail "slurmdbd"
fi
wait_for 60 slurmdbd sacctmgr -n list cluster

# 6. The cluster, its account and its users in the accounting database (before slurmctld registers).
if [ -z "$(sacctmgr -n -P list cluster "$CLUSTER" format=cluster)" ]; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null || fail "sacctmgr add cluster"
fi
if [ -z "$(sacctmgr -n -P list account "$ACCOUNT" format=account)" ]; then
    sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" description="alliance workflow" \
        organization=local >/dev/null || fail "sacctmgr add account"
fi
users=(root)
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    users+=("$SUDO_USER")
fi
for user in "${users[@]}"; do
    if [ -z "$(sacctmgr -n -P list association cluster="$CLUSTER" account="$ACCOUNT" user="$user" format=user)" ]; then
        sacctmgr -i add user "$user" account="$ACCOUNT" defaultaccount="$ACCOUNT" cluster="$CLUSTER" \
            >/dev/null || fail "sacctmgr add user $user"
    fi
done

# 7. The controller and the node.
if $conf_changed; then
    for daemon in slurmd slurmctld; do
        if alive "$RUN/$daemon.pid"; then
            pid="$(cat "$RUN/$daemon.pid")"
            say "restarting $daemon (slurm.conf changed)"
            kill "$pid"
            wait_for 30 "the end of $daemon" sh -c "! kill -0 $pid 2>/dev/null"
        fi
    done
fi
if ! alive "$RUN/slurmctld.pid"; then
    say "starting slurmctld"
    slurmctld || fail "slurmctld"
fi
wait_for 30 slurmctld scontrol ping
if ! alive "$RUN/slurmd.pid"; then
    say "starting slurmd"
    slurmd || fail "slurmd"
fi

# 8. Ready when the node is idle (or running jobs) and a test job has run under the account.
node_ready() {
    case "$(sinfo -h -N -n "$NODE" -o %T)" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
    esac
}
for _ in $(seq 120); do
    node_ready && break
    state="$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)"
    case "$state" in
    drain* | down*) scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
done
node_ready || fail "node $NODE is not idle: $(sinfo -N -l 2>&1)"
if ! timeout 120 srun --account="$ACCOUNT" --partition="$PARTITION" --time=1 --mem=64 --job-name=alliance-smoke \
    true >/dev/null 2>"$RUN/smoke.err"; then
    fail "a test job did not run: $(cat "$RUN/smoke.err")"
fi
say "SLURM is up: cluster $CLUSTER, node $NODE ($(sinfo -h -N -n "$NODE" -o '%c CPUs, %m MB')), partition $PARTITION, account $ACCOUNT"
