"""Snakemake's locks left by a killed build: removed when no other snakemake is running in the project.

Snakemake locks the files a build will read and write (``.snakemake/locks/``) and removes the locks when
the build ends, on Ctrl-C too. A build killed outright (SIGKILL, the out-of-memory killer, a power loss)
leaves them behind, and Snakemake then refuses every later build of those files ("Directory cannot be
locked") until ``snakemake --unlock``: it cannot tell a dead build's locks from a running one's.

This module can. Every snakemake process that loads the Snakefile holds a shared advisory lock (``flock``)
on ``.snakemake/alliance-run.lock`` for as long as it lives, and the kernel releases it however the process
ends, SIGKILL included. A process that can take that lock exclusively is therefore the only snakemake
alive in the project, and any Snakemake lock it finds belongs to a build that died: it removes them, as
``--unlock`` would, then holds the lock shared like the others. A process that cannot (a build or a dry
run is running) touches nothing, and Snakemake's own check decides as usual. Only the standard library is
used: the Snakefile calls this at every load.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path
from typing import BinaryIO

RUN_LOCK = "alliance-run.lock"
SNAKEMAKE_LOCKS = "locks"

# The run lock of each .snakemake directory this process holds, open for the process's lifetime (closing
# the file would release the lock).
_HELD: dict[Path, BinaryIO] = {}


def clear_stale_locks(persistence: Path) -> bool:
    """Hold the run lock of ``persistence`` (a project's ``.snakemake``) from now on; before that, remove
    Snakemake's locks there if no other process holds the run lock. Returns whether locks were removed."""
    persistence = persistence.absolute()
    if persistence in _HELD:
        return False
    persistence.mkdir(parents=True, exist_ok=True)
    handle = open(persistence / RUN_LOCK, "ab")  # noqa: SIM115 (held open: closing it releases the lock)
    removed = False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pass  # another snakemake is running here: its locks are live
    except OSError:
        handle.close()  # no flock on this file system: leave the locks to Snakemake (and --unlock)
        return False
    else:
        locks = persistence / SNAKEMAKE_LOCKS
        if locks.is_dir() and any(locks.iterdir()):
            shutil.rmtree(locks)
            removed = True
    fcntl.flock(handle, fcntl.LOCK_SH)
    _HELD[persistence] = handle
    return removed
