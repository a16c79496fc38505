"""`python -m server i18n check` as an operator runs it, on a copy of the catalogs in KINLINE_HOME:
exit 1 naming the key when one relative-facing key is missing, exit 0 when all six are complete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from server.config.paths import project_root
from tests.support import i18n_copy

GAP = "escalation.relative.heading"


def run_check(home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KINLINE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "server", "i18n", "check"],
        cwd=project_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_exits_0_when_complete_and_1_naming_a_missing_key(tmp_path: Path) -> None:
    home = i18n_copy.complete_home(tmp_path / "home")
    complete = run_check(home)
    assert complete.returncode == 0, complete.stdout + complete.stderr
    assert complete.stdout.rstrip().endswith("complete")

    i18n_copy.remove_key(home, "so", GAP)
    gap = run_check(home)
    assert gap.returncode == 1, gap.stdout + gap.stderr
    assert "so: gaps" in gap.stdout and f"    {GAP}\n" in gap.stdout
    assert "ar: gaps" not in gap.stdout
    total = len([key for key in i18n_copy.relative_keys(home) if key.startswith("escalation.relative.")])
    row = next(line.split() for line in gap.stdout.splitlines() if line.startswith("escalation.relative "))
    assert row == ["escalation.relative", "ok", "ok", "ok", f"{total - 1}/{total}", "ok", "ok"]
