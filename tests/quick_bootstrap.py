"""A small bootstrap for the tests that build a project copy: 20 replicates in one shard, 10 jackknife
groups and 10 simulated cohorts per slope-variance test, in place of the 2,000 / 200 / 500 of
config/config.yaml. The code is the same; only B differs (bench/ measures the default). Several shards
gathering to the bytes of one run is tested in tests/test_bootstrap.py, and their plan in test_workflow.py."""

from __future__ import annotations

import re
from pathlib import Path

QUICK = {"replicates": 20, "shard_size": 20, "jackknife_groups": 10, "variance_test_replicates": 10}


def quick_bootstrap(project: Path) -> Path:
    """Set the copy's ``bootstrap:`` section (config/config.yaml, comments kept) to QUICK; returns ``project``."""
    path = project / "config" / "config.yaml"
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^bootstrap:\n(?:[ #].*\n|\n)*", text, re.MULTILINE)
    assert match, "config/config.yaml has no bootstrap: section"
    block = match.group(0)
    for key, value in QUICK.items():
        block, count = re.subn(rf"^(  {key}:\s*)\d+", rf"\g<1>{value}", block, flags=re.MULTILINE)
        assert count == 1, f"bootstrap.{key} not found in config/config.yaml"
    path.write_text(text[: match.start()] + block + text[match.end() :], encoding="utf-8")
    return project
