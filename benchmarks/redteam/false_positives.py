"""The redaction false-positive rate on real repositories: the share of lines of ordinary
source files that file-text redaction would change. Not measured here twice: when
``benchmarks.micro.redaction_fp`` exists its result is used; otherwise the rate is recorded as
not measured (contextos has no file-text redaction yet to measure)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["redaction_false_positives"]

MODULE = "benchmarks.micro.redaction_fp"


def redaction_false_positives(extra_args: list[str] | None = None) -> dict[str, Any]:
    """``{"status": "measured", ...its result...}`` or ``{"status": "not measured", "why"}``."""
    if importlib.util.find_spec(MODULE) is None:
        return {
            "status": "not measured",
            "why": f"{MODULE} does not exist (no file-text redaction API to measure)",
        }
    module = importlib.import_module(MODULE)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fp.json"
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                code = module.main(["--out", str(out), *(extra_args or [])])
        except SystemExit as exc:
            code = exc.code
        if code not in (0, None) or not out.is_file():
            return {"status": "not measured", "why": f"{MODULE} exited {code}"}
        result: dict[str, Any] = json.loads(out.read_text())
    return {"status": "measured", "source": MODULE, "result": result}
