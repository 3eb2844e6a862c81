"""The memory commands through the installed console script: --json, exit codes, round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Backend
from tests.test_llm import openai_body
from tests.wire import WireServer

SCRIPT = Path(sys.executable).parent / "contextos"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTOS_MODEL")}
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**base, "CONTEXTOS_EMBEDDER": "none", **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def ok(*args: str, env: dict[str, str] | None = None) -> Any:
    result = run(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_remember_recall_edit_history_forget_as_json(backend: Backend) -> None:
    """The console script's default store: the SQLite file, or PostgreSQL with the backend's
    CONTEXTOS_DATABASE_URL in the environment."""
    tabs = ok("remember", "The user prefers tabs", "--tag", "code-style")
    assert (tabs["score"], tabs["tag"], tabs["scope"]) == (5, "code-style", "user")
    ok("remember", "Deploys happen on Fridays", "--scope", "project")
    hits = ok("recall", "tabs or spaces?")
    assert [h["id"] for h in hits] == [tabs["id"]] and hits[0]["score"] > 0
    assert [h["scope"] for h in ok("recall", "deploys", "--scope", "project")] == ["project"]
    assert ok("memory", "show", tabs["id"])["text"] == "The user prefers tabs"
    spaces = ok("memory", "edit", tabs["id"], "The user prefers spaces")
    assert [m["id"] for m in ok("memory", "list", "--tag", "code-style")] == [spaces["id"]]
    assert len(ok("memory", "list", "--all")) == 3
    then = tabs["created_at"]
    assert [h["id"] for h in ok("recall", "prefers", "--as-of", then)] == [tabs["id"]]
    actions = [(e["target"], e["action"]) for e in ok("memory", "history", spaces["id"])]
    assert actions == [(tabs["id"], "ADD"), (spaces["id"], "UPDATE"), (tabs["id"], "UPDATE")]
    assert ok("memory", "forget", spaces["id"])["forgotten_at"] is not None
    assert ok("recall", "prefers") == []
    human = run("memory", "list")
    assert "Deploys happen on Fridays" in human.stdout


def test_user_mistakes_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    missing = run("memory", "show", "0123456789ab")
    assert missing.returncode == 2 and "unknown memory id" in missing.stderr
    secret = run("remember", "my key is sk-proj-abcdefghijklmnopqrstuvwxyz")
    assert secret.returncode == 2 and "secret" in secret.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"role": "user", "content": "hi"}\n{not json}\n')
    malformed = run("memory", "extract", "--transcript", str(bad))
    assert malformed.returncode == 2 and f"{bad}:2: not valid JSON" in malformed.stderr
    good = tmp_path / "good.jsonl"
    good.write_text('{"role": "user", "content": "I always use uv"}\n')
    no_model = run("memory", "extract", "--transcript", str(good))
    assert no_model.returncode == 2
    assert "no model configured: set CONTEXTOS_MODEL=" in no_model.stderr
    bad_scope = run("remember", "x", "--scope", "team")
    assert bad_scope.returncode == 2 and "invalid scope" in bad_scope.stderr
    for result in (missing, secret, malformed, no_model, bad_scope):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_extract_from_a_transcript_with_a_model_on_loopback(
    tmp_path: Path,
    server: WireServer,
) -> None:
    server.queue(
        openai_body(json.dumps({"explanation": "tool", "memory": "tooling: The user uses uv."})),
        openai_body(json.dumps({"reasoning": "lasting", "score": 5})),
    )
    transcript = tmp_path / "chat.jsonl"
    transcript.write_text(
        json.dumps({"role": "user", "content": "I always use uv, never pip"})
        + "\n"
        + json.dumps({"role": "assistant", "content": "Noted."})
        + "\n"
    )
    env = {"CONTEXTOS_MODEL": "ollama:qwen3:8b", "CONTEXTOS_MODEL_BASE_URL": server.url + "/v1"}
    (outcome,) = ok("memory", "extract", "--transcript", str(transcript), env=env)
    assert (outcome["status"], outcome["action"], outcome["score"]) == ("done", "ADD", 5)
    (memory,) = ok("memory", "list")
    assert (memory["text"], memory["source"]) == ("The user uses uv.", "chat:0")
    assert server.bodies()[0]["response_format"]["json_schema"]["name"] == "memory_extraction"
    assert ok("memory", "extract", "--transcript", str(transcript), env=env) == [outcome]


def test_export_import_round_trip_and_agents_md(tmp_path: Path) -> None:
    ok("remember", "The user prefers tabs", "--tag", "code-style")
    ok("remember", "Run make test before pushing", "--tag", "workflow")
    before = ok("memory", "list", "--all")
    files = ok("memory", "export", str(tmp_path / "out"))["files"]
    assert sorted(Path(f).name for f in files) == ["code-style.md", "workflow.md"]
    agents = ok("memory", "export", str(tmp_path / "agents"), "--format", "agents-md")["files"]
    assert "### workflow\n\n- Run make test before pushing" in Path(agents[0]).read_text()
    other_home = {"CONTEXTOS_HOME": str(tmp_path / "other-home")}
    counts = ok("memory", "import", str(tmp_path / "out"), env=other_home)
    assert counts == {"added": 2, "updated": 0, "unchanged": 0}
    assert ok("memory", "list", "--all", env=other_home) == before
    bad = run("memory", "export", str(tmp_path / "x"), "--format", "pdf")
    assert bad.returncode == 2 and "unknown format" in bad.stderr


def test_consolidate_shows_a_plan_first_and_applies_it() -> None:
    keep = ok("remember", "The user prefers tabs for indentation in Python")
    dup = ok("remember", "The user prefers tabs in Python")
    plan = ok("memory", "consolidate", "--dry-run")
    assert plan["applied"] is None
    assert [(s["action"], s["keep"]) for s in plan["plan"]] == [("MERGE", keep["id"])]
    assert len(ok("memory", "list")) == 2
    done = ok("memory", "consolidate")
    assert [r["applied"] for r in done["applied"]] == [True]
    assert [m["id"] for m in ok("memory", "list")] == [keep["id"]]
    assert ok("memory", "show", dup["id"])["superseded_by"] == keep["id"]


def test_every_memory_command_has_help() -> None:
    for args in (
        ["remember"],
        ["recall"],
        *[["memory", c] for c in ("list", "show", "edit", "forget", "history", "extract")],
        *[["memory", c] for c in ("consolidate", "export", "import")],
    ):
        result = run(*args, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, args
