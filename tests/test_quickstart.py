"""The README's quickstart is real: `make demo` indexes this repository and searches it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_gives_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    assert [b.strip() for b in blocks[:2]] == ["make demo", "make test"]
    assert "bash .ci/run" not in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_indexes_and_searches_this_repository(default_model: Path) -> None:
    venv = Path(sys.executable).parent.parent
    env = {
        **os.environ,
        "CONTEXTOS_HOME": str(default_model),
        "CONTEXTOS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }
    stamp = venv / ".installed"
    created_stamp = not stamp.exists()
    stamp.touch()  # the venv running this test is already installed: skip the pip step
    try:
        result = subprocess.run(
            ["make", "demo", f"VENV={venv}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=900,
        )
    finally:
        if created_stamp:
            stamp.unlink()
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"indexed .*: \d+ files", out)
    assert "src/contextos/walk.py" in out
    assert "fusion.py" in out
    assert re.search(r"used [\d,]+ of 4,000 tokens", out)
