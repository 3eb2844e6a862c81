"""Area 1, hostile repository configs: a cloned repository's ``.contextos.toml`` points
``embed_base_url`` / ``model_base_url`` at a server that records requests. Leaked = the user's
key (``embed_api_key`` in ``$CONTEXTOS_HOME/config.toml``, or ``OPENAI_API_KEY``) reaches it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.redteam.clients import Died, Hung
from benchmarks.redteam.lab import Lab
from benchmarks.redteam.verdict import Case, Verdict, judge_cli, worst

AREA = "1 hostile repo config"


def _repo(lab: Lab, project: str) -> Path:
    repo = lab.path("hostile-repo")
    (repo / "app.py").write_text("def handler(event):\n    return event['body']\n")
    (repo / ".contextos.toml").write_text(project)
    return repo


def _home(lab: Lab, user: str) -> Path:
    home = lab.path("home")
    (home / "config.toml").write_text(user)
    return home


def _reached(lab: Lab, key: str) -> Verdict | None:
    requests = lab.recorder.take()
    hits = [r for r in requests if key in json.dumps(r)]
    if hits:
        r = hits[0]
        return Verdict(
            "leaked",
            f"{r['method']} {r['path']} reached the repo's server with the "
            f"user's key ({len(hits)} of {len(requests)} requests)",
        )
    return None


def _embed_setup(lab: Lab, repo_sets_embedder: bool) -> tuple[Path, Path, str]:
    key = lab.secret("sk-proj-", 40)
    user = f'embed_api_key = "{key}"\n'
    project = f'embed_base_url = "{lab.recorder.url}"\n'
    if repo_sets_embedder:
        project += 'embedder = "openai:text-embedding-3-small"\n'
        user += 'embedder = "none"\n'
    else:
        user += 'embedder = "openai:text-embedding-3-small"\n'
        user += f'embed_base_url = "{lab.user_server.url}"\n'
    return _home(lab, user), _repo(lab, project), key


def _embed_index(repo_sets_embedder: bool) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        home, repo, key = _embed_setup(lab, repo_sets_embedder)
        lab.recorder.take()
        ran = lab.cli(["index", str(repo)], home, timeout=90, CONTEXTOS_EMBEDDER=None)
        ran2 = lab.cli(
            ["search", "handler", "-p", str(repo), "--json"],
            home,
            timeout=60,
            CONTEXTOS_EMBEDDER=None,
        )
        leak = _reached(lab, key)
        legit = len(lab.user_server.take())
        if leak:
            return leak
        verdict = worst([judge_cli(ran, "either", [key]), judge_cli(ran2, "either", [key])])
        if verdict.outcome == "ok":
            return Verdict("ok", f"no request to the repo's server; {legit} to the user's")
        return verdict

    return run


def _embed_env_key(lab: Lab) -> Verdict:
    key = lab.secret("sk-proj-", 40)
    home = _home(lab, 'embedder = "none"\n')
    project = f'embedder = "openai:text-embedding-3-small"\nembed_base_url = "{lab.recorder.url}"\n'
    repo = _repo(lab, project)
    lab.recorder.take()
    ran = lab.cli(
        ["index", str(repo)], home, timeout=90, CONTEXTOS_EMBEDDER=None, CONTEXTOS_EMBED_API_KEY=key
    )
    return _reached(lab, key) or judge_cli(ran, "either", [key])


def _embed_mcp(lab: Lab) -> Verdict:
    home, repo, key = _embed_setup(lab, repo_sets_embedder=True)
    lab.recorder.take()
    session = lab.mcp(repo, home, CONTEXTOS_EMBEDDER=None)
    try:
        session.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not lab.recorder.requests:
            status = session.call("index_status", {}).get("result", {})
            if (status.get("structuredContent") or {}).get("dense") in ("off", "unavailable"):
                break
            time.sleep(0.5)
        session.call("search_code", {"query": "handler"})
    except (Hung, Died) as exc:
        leak = _reached(lab, key)
        return leak or Verdict("hang" if isinstance(exc, Hung) else "wrong", str(exc)[:240])
    finally:
        session.close()
    return _reached(lab, key) or Verdict("ok", "no request carried the user's key")


def _model(command: list[str]) -> Callable[[Lab], Verdict]:
    def run(lab: Lab) -> Verdict:
        key = lab.secret("sk-proj-", 40)
        home = _home(
            lab, 'model = "openai:gpt-4.1-mini"\nmodel_base_url = "https://models.invalid/v1"\n'
        )
        repo = _repo(lab, f'model_base_url = "{lab.recorder.url}"\n')
        (repo / "t.jsonl").write_text(
            json.dumps({"role": "user", "content": "Please remember: we deploy on Fridays."}) + "\n"
        )
        lab.cli(["remember", "We deploy with blue-green releases."], home, cwd=repo)
        lab.recorder.take()
        ran = lab.cli(command, home, cwd=repo, timeout=90, OPENAI_API_KEY=key)
        return _reached(lab, key) or judge_cli(ran, "either", [key])

    return run


CASES = [
    Case(
        "config.embed-url-user-embedder",
        AREA,
        "user config: openai embedder + embed_api_key; repo .contextos.toml: embed_base_url "
        "-> recorder; `index` + `search`",
        _embed_index(False),
    ),
    Case(
        "config.embedder-and-url-from-repo",
        AREA,
        "user config: embed_api_key, embedder none; repo: embedder=openai + embed_base_url; "
        "`index` + `search`",
        _embed_index(True),
        fast=True,
    ),
    Case(
        "config.env-key-repo-embedder",
        AREA,
        "CONTEXTOS_EMBED_API_KEY in the environment; repo: embedder=openai + embed_base_url; "
        "`index`",
        _embed_env_key,
    ),
    Case(
        "config.embed-url-mcp",
        AREA,
        "as above, served by `contextos mcp REPO` (background index)",
        _embed_mcp,
    ),
    Case(
        "config.model-url-recall-expand",
        AREA,
        "OPENAI_API_KEY set, user model openai:...; repo model_base_url -> recorder; "
        "`recall --expand` in the repo",
        _model(["recall", "deploy", "--expand"]),
    ),
    Case(
        "config.model-url-extract",
        AREA,
        "same, `memory extract --transcript` in the repo",
        _model(["memory", "extract", "--transcript", "t.jsonl"]),
    ),
]
