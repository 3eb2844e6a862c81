"""Startup costs of the installed ``contextos`` command and of its MCP server, from outside.

Every figure is wall time of a real subprocess started from this interpreter's environment (the
``contextos`` console script next to ``sys.executable``), each after one untimed warm-up:

* ``cli``: ``contextos --help`` and ``python -c "import contextos.cli"``, plus the 15 largest
  self and cumulative costs of ``python -X importtime -c "import contextos.cli"`` (what to make
  lazy);
* ``first_hit``: on a fresh ``CONTEXTOS_HOME`` (no model cached), ``contextos mcp REPO`` over
  stdio for a synthetic repository of ``--files`` Python files, one of which alone defines
  ``reconcile_ledger_entries``; ``search_code`` for that name every 0.25 s until a hit in that
  file comes back (seconds from spawn, with a short trail of index state and progress), then
  ``index_status`` until the index is ready, within ``--timeout``. Its home is the warm home;
* ``stdio_cold`` / ``stdio_warm``: spawn to the ``tools/list`` answer over stdio
  (newline-delimited JSON-RPC: ``initialize``, ``notifications/initialized``, ``tools/list``),
  then stdin closed and the seconds until the process exits, with its exit code (target: 0
  within 2 s). Cold = a new empty home per repetition, warm = the warm home;
* ``http_warm_sigint`` / ``http_warm_sigterm``: the same on the warm home over streamable HTTP
  (``POST /mcp``, ``Mcp-Session-Id``, answers as JSON or SSE ``data:`` lines, polled until the
  port answers), ended by that signal to the server process.

Children run with ``CONTEXTOS_OFFLINE=1`` and ``HF_HUB_OFFLINE=1`` in their own process group;
whatever a server leaves running after it exits (a model build, say) is recorded as leftover and
killed, and the temporary directories are removed. A timeout is a recorded failure, not a crash.

    python -m benchmarks.startup --out results/startup.json [--files 1000] [--reps 5]

Left out: memory use, clients other than this one, and servers on a workspace already indexed by
``contextos index`` (warm here means "a previous server ran on this home").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import queue
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from benchmarks.common.results import machine_info, write_json_atomic

PROTOCOL = "2025-06-18"
UNIQUE = "reconcile_ledger_entries"
EXIT_TARGET_S = 2.0
INIT = {
    "protocolVersion": PROTOCOL,
    "capabilities": {},
    "clientInfo": {"name": "contextos-startup-bench", "version": "1"},
}
_WORDS = (  # noqa: SIM905 (a list literal would take 37 lines)
    "account balance cache config record invoice payment report session schedule token order "
    "customer vendor shipment metric event batch queue profile audit policy quota region tariff "
    "budget forecast asset journal window buffer cursor widget channel route signal handler"
).split()
_VERBS = "load save build parse render merge split apply check update collect compute".split()  # noqa: SIM905


class Failure(Exception):
    """A measurement that did not complete: timed out, server died, protocol error."""


def _stats(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "samples_s": [round(s, 4) for s in samples],
        "median_s": round(statistics.median(ordered), 4) if ordered else None,
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4)
        if ordered
        else None,
    }


# --- the synthetic repository ------------------------------------------------------------------


def _function(rng: random.Random, name: str, method: bool = False) -> list[str]:
    args = rng.sample(_WORDS, rng.randint(1, 3))
    attr, other = rng.sample(_WORDS, 2)
    body = [
        f"def {name}({', '.join((['self'] if method else []) + args)}):",
        f'    """{rng.choice(_VERBS).capitalize()} the {attr} of each {args[0]} ({other})."""',
        "    result = []",
        f"    for item in {args[0]}:",
        f"        if getattr(item, {attr!r}, 0) > {rng.randint(1, 99)}:",
        f"            result.append(item.{attr} * {rng.randint(2, 9)})",
        "        else:",
        f"            result.append({rng.randint(0, 9)})",
        *[f"    result.append(len({a}))" for a in args[1:]],
        "    return result",
    ]
    return ["    " + line for line in body] if method else body


def _module(rng: random.Random, unique: bool) -> str:
    lines = [f'"""{rng.choice(_WORDS).capitalize()} helpers for {rng.choice(_WORDS)} data."""', ""]
    lines += ["import math", "import os", "from dataclasses import dataclass", ""]
    lines += [f"{w.upper()}_LIMIT = {rng.randint(10, 999)}" for w in rng.sample(_WORDS, 2)]
    target = rng.randint(50, 150)
    while len(lines) < target:
        a, b = rng.sample(_WORDS, 2)
        if rng.random() < 0.3:
            lines += ["", "", "@dataclass", f"class {a.capitalize()}{b.capitalize()}:"]
            lines += [
                f'    """A {a} with its {b}."""',
                "",
                f"    {a}: int = 0",
                f"    {b}: str = ''",
            ]
            lines += ["", *_function(rng, f"{rng.choice(_VERBS)}_{b}", method=True)]
        else:
            lines += ["", "", *_function(rng, f"{rng.choice(_VERBS)}_{a}_{b}")]
    if unique:
        lines += ["", "", *_function(rng, UNIQUE)]
    return "\n".join(lines) + "\n"


def make_repo(root: Path, files: int, seed: int = 7) -> str:
    """Write ``files`` Python modules under ``root``; return the path of the one defining UNIQUE."""
    special = int(files * 0.7)
    target = ""
    for i in range(files):
        rng = random.Random(seed * 1_000_003 + i)
        rel = f"pkg{i // 50:02d}/{rng.choice(_WORDS)}_{rng.choice(_VERBS)}_{i}.py"
        if i == special:
            rel = target = f"pkg{i // 50:02d}/settlement.py"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_module(rng, i == special), encoding="utf-8")
    return target


# --- servers -----------------------------------------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CONTEXTOS_HOME": str(home),
        "CONTEXTOS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }


def _rpc(msg_id: int | None, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if msg_id is not None:
        msg["id"] = msg_id
    if params is not None:
        msg["params"] = params
    return msg


class Server:
    """One ``contextos mcp`` child in its own process group; ``finish()`` leaves nothing behind."""

    def __init__(self, argv: list[str], home: Path, log: Path, stdio: bool) -> None:
        self._log: IO[bytes] = log.open("wb")
        self.log_path = log
        self.started = time.perf_counter()
        pipe = subprocess.PIPE if stdio else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            argv,
            stdin=pipe,
            stdout=subprocess.PIPE if stdio else self._log,
            stderr=self._log,
            env=_env(home),
            start_new_session=True,
        )
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.noise = 0
        self._next_id = 0
        if stdio:
            threading.Thread(target=self._read, daemon=True).start()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self._lines.put(json.loads(raw))
            except ValueError:
                self.noise += 1
        self._lines.put(None)

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise Failure(f"server closed stdin: {exc}") from exc

    def request(self, method: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send a request over stdio and wait for its answer (skipping notifications)."""
        msg_id = self.next_id()
        self.send(_rpc(msg_id, method, params))
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure(f"no answer to {method} within {timeout:.0f} s") from None
            if msg is None:
                raise Failure(f"server closed stdout before answering {method}")
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise Failure(f"{method} failed: {msg['error']}")
                return dict(msg["result"])

    def end(self, how: str, timeout: float) -> dict[str, Any]:
        """Close stdin or send a signal; seconds until exit and the exit code (None: killed)."""
        started = time.perf_counter()
        if how == "stdin":
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        else:
            self.proc.send_signal(getattr(signal, how))
        try:
            code: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.perf_counter() - started
        ok = code == 0 and seconds <= EXIT_TARGET_S
        return {"end": how, "exit_s": round(seconds, 4), "exit_code": code, "exit_ok": ok}

    def finish(self) -> list[str]:
        """Kill the process group; the command lines of what outlived the server's exit."""
        exited = self.proc.poll() is not None
        leftovers = _group_commands(self.proc.pid) if exited else []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        self._log.close()
        return leftovers

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-1500:]


def _group_commands(pgid: int) -> list[str]:
    """Command lines (cut to 160 characters) of the live processes in group ``pgid`` (Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(group) == pgid and state != "Z":  # a zombie is already dead
                argv = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found.append(argv.decode(errors="replace").strip()[:160])
        except (OSError, IndexError, ValueError):
            continue
    return found


def _handshake(server: Server, timeout: float) -> dict[str, Any]:
    server.request("initialize", INIT, timeout)
    initialized = server.elapsed()
    server.send(_rpc(None, "notifications/initialized"))
    tools = server.request("tools/list", {}, timeout)
    return {
        "initialize_s": round(initialized, 4),
        "tools_list_s": round(server.elapsed(), 4),
        "tools": len(tools.get("tools", [])),
    }


def stdio_run(
    exe: Path, repo: Path, home: Path, log: Path, args: argparse.Namespace
) -> dict[str, Any]:
    server = Server([str(exe), "mcp", str(repo)], home, log, stdio=True)
    run: dict[str, Any] = {}
    try:
        run.update(_handshake(server, args.response_timeout))
        run.update(server.end("stdin", args.exit_timeout))
    except Failure as exc:
        run["error"] = str(exc)
    finally:
        run["leftover_processes"] = server.finish()
        run["stdout_noise_lines"] = server.noise
    if run.get("error") or run.get("exit_code") != 0:
        run["log_tail"] = server.log_tail()
    return run


class HttpClient:
    """Streamable HTTP: one POST per message; answers as JSON or as SSE ``data:`` lines."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.session: str | None = None
        self._next_id = 0

    def post(
        self, method: str, params: dict[str, Any] | None, timeout: float
    ) -> dict[str, Any] | None:
        msg_id = None
        if not method.startswith("notifications/"):
            self._next_id += 1
            msg_id = self._next_id
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        if self.session:
            headers |= {"Mcp-Session-Id": self.session, "MCP-Protocol-Version": PROTOCOL}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", "/mcp", json.dumps(_rpc(msg_id, method, params)), headers)
            resp = conn.getresponse()
            self.session = resp.getheader("Mcp-Session-Id") or self.session
            if resp.status >= 400:
                raise Failure(f"{method}: HTTP {resp.status} {resp.read()[:300]!r}")
            if msg_id is None:
                resp.read()
                return None
            if not (resp.getheader("Content-Type") or "").startswith("text/event-stream"):
                return _result(json.loads(resp.read()), method)
            for raw in resp:
                line = raw.decode().strip()
                if line.startswith("data:") and (msg := json.loads(line[5:])).get("id") == msg_id:
                    return _result(msg, method)
            raise Failure(f"{method}: the event stream ended without an answer")
        finally:
            conn.close()


def _result(msg: dict[str, Any], method: str) -> dict[str, Any]:
    if "error" in msg:
        raise Failure(f"{method} failed: {msg['error']}")
    return dict(msg["result"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_run(
    exe: Path, repo: Path, home: Path, log: Path, how: str, args: argparse.Namespace
) -> dict[str, Any]:
    port = _free_port()
    argv = [str(exe), "mcp", str(repo), "--transport", "http", "--port", str(port)]
    server = Server(argv, home, log, stdio=False)
    client = HttpClient(port)
    run: dict[str, Any] = {"port": port}
    try:
        while True:
            try:
                client.post("initialize", INIT, args.response_timeout)
                break
            except ConnectionError:  # not listening yet
                if server.proc.poll() is not None or server.elapsed() > args.response_timeout:
                    raise Failure("the server never answered on its port") from None
                time.sleep(0.05)
        run["initialize_s"] = round(server.elapsed(), 4)
        client.post("notifications/initialized", None, args.response_timeout)
        tools = client.post("tools/list", {}, args.response_timeout) or {}
        run |= {"tools_list_s": round(server.elapsed(), 4), "tools": len(tools.get("tools", []))}
        run.update(server.end(how, args.exit_timeout))
    except (Failure, OSError) as exc:
        run["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        run["leftover_processes"] = server.finish()
    if run.get("error") or run.get("exit_code") != 0:
        run["log_tail"] = server.log_tail()
    return run


# --- time to first hit -------------------------------------------------------------------------


def _tool(server: Server, name: str, arguments: dict[str, Any], timeout: float) -> dict[str, Any]:
    """The tool's structured result, or ``{"error": text}`` when the tool reported one."""
    result = server.request("tools/call", {"name": name, "arguments": arguments}, timeout)
    if result.get("isError"):
        return {"error": str(result.get("content"))[:300]}
    if "structuredContent" in result:
        return dict(result["structuredContent"])
    return dict(json.loads(result["content"][0]["text"]))


def first_hit(
    exe: Path, repo: Path, target: str, home: Path, log: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Search for UNIQUE until ``target`` is hit, then wait for the index to be ready."""
    server = Server([str(exe), "mcp", str(repo)], home, log, stdio=True)
    deadline = server.started + args.timeout
    out: dict[str, Any] = {"ok": False, "target": target, "timeout_s": args.timeout}
    trail: list[dict[str, Any]] = []
    try:
        out.update(_handshake(server, args.response_timeout))
        polls = 0
        while server.elapsed() < args.timeout:
            polled = time.monotonic()
            found = _tool(server, "search_code", {"query": UNIQUE, "k": 10}, args.response_timeout)
            status = _tool(server, "index_status", {}, args.response_timeout)
            polls += 1
            paths = [h["path"] for h in found.get("hits", [])]
            entry = {
                "t": round(server.elapsed(), 2),
                "state": found.get("index_state"),
                "progress": status.get("progress"),
                "hits": len(paths),
            }
            if found.get("error") or status.get("error"):
                entry["error"] = found.get("error") or status.get("error")
            stage = (entry["state"], str(entry["progress"]).split(" ")[0])
            if not trail or stage != trail[-1]["_stage"] or entry["t"] - trail[-1]["t"] >= 10:
                trail.append({**entry, "_stage": stage})
            if target in paths:
                if trail[-1]["t"] != entry["t"]:
                    trail.append({**entry, "_stage": stage})
                out |= {"ok": True, "seconds": entry["t"], "rank": paths.index(target) + 1}
                out |= {"polls": polls, "index_status": status}
                break
            time.sleep(max(0.0, 0.25 - (time.monotonic() - polled)))
        if not out["ok"]:
            out["error"] = f"no hit in {target} within {args.timeout:.0f} s"
        while out["ok"] and time.perf_counter() < deadline:
            status = _tool(server, "index_status", {}, args.response_timeout)
            if status.get("state") != "building":
                out |= {"ready_s": round(server.elapsed(), 2), "ready_status": status}
                break
            time.sleep(0.5)
        out.update(server.end("stdin", args.exit_timeout))
    except Failure as exc:
        out["error"] = str(exc)
    finally:
        out["leftover_processes"] = server.finish()
        out["trail"] = [{k: v for k, v in e.items() if k != "_stage"} for e in trail[-40:]]
    if out.get("error"):
        out["log_tail"] = server.log_tail()
    return out


# --- the command line --------------------------------------------------------------------------


def _time_cmd(argv: list[str], env: dict[str, str], n: int) -> dict[str, Any]:
    samples: list[float] = []
    codes = set()
    for i in range(n + 1):
        started = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, check=False)
        if i:  # the first run warms the page cache
            samples.append(time.perf_counter() - started)
        codes.add(proc.returncode)
    return {**_stats(samples), "exit_codes": sorted(codes)}


def import_costs(env: dict[str, str], top: int = 15) -> dict[str, Any]:
    """Parse ``-X importtime``: the ``top`` modules by self and by cumulative time (ms)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import contextos.cli"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rows: list[tuple[str, float, float]] = []
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0]) / 1000, int(parts[1]) / 1000))
    top_level = [cumulative for module, _, cumulative in rows if module == "contextos.cli"]

    def listed(order: int) -> list[dict[str, Any]]:
        ranked = sorted(rows, key=lambda r: -float(r[order]))[:top]
        return [{"module": m, "self_ms": s, "cumulative_ms": c} for m, s, c in ranked]

    return {
        "modules": len(rows),
        "contextos_cli_cumulative_ms": top_level[-1] if top_level else None,
        "top_self": listed(1),
        "top_cumulative": listed(2),
    }


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in runs if "tools_list_s" in r]
    exits = [r for r in runs if "exit_s" in r]
    return {
        "tools_list": _stats([r["tools_list_s"] for r in done]),
        "initialize": _stats([r["initialize_s"] for r in done]),
        "exit": _stats([r["exit_s"] for r in exits]),
        "exit_codes": [r.get("exit_code") for r in runs],
        "exit_ok": all(r.get("exit_ok") for r in runs) and bool(runs),
        "failures": sum(1 for r in runs if "error" in r),
        "runs_leaving_processes": sum(1 for r in runs if r.get("leftover_processes")),
        "runs": runs,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("startup.json"),
        help="Where to write the JSON result (atomically).",
    )
    p.add_argument("--reps", type=int, default=5, help="Repetitions of each timing (default 5).")
    p.add_argument(
        "--files",
        type=int,
        default=1000,
        help="Python files in the synthetic repository (default 1000).",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="first-hit: seconds from spawn to wait for the hit and then for the ready index.",
    )
    p.add_argument(
        "--response-timeout",
        type=float,
        default=120.0,
        help="Seconds to wait for one MCP answer (default 120).",
    )
    p.add_argument(
        "--exit-timeout",
        type=float,
        default=30.0,
        help="Seconds to wait for a server to exit before killing it (default 30).",
    )
    p.add_argument(
        "--sections",
        default="cli,first-hit,stdio,http",
        help="Comma-separated subset of cli,first-hit,stdio,http (stdio and http need first-hit's "
        "warm home and run it anyway).",
    )
    return p.parse_args(argv)


def _fmt(stats: dict[str, Any]) -> str:
    if stats["median_s"] is None:
        return "—"
    return f"{stats['median_s']:.3f} s (p95 {stats['p95_s']:.3f})"


def _print_summary(report: dict[str, Any]) -> None:
    say = [f"startup ({report['machine']['cpus']} CPUs, {report['machine']['platform']})"]
    if cli := report.get("cli"):
        say += [f"  contextos --help        {_fmt(cli['help'])}"]
        say += [f"  import contextos.cli    {_fmt(cli['import'])}"]
        say += [
            f"    top self: {r['module']} {r['self_ms']:.0f} ms"
            for r in cli["importtime"]["top_self"][:5]
        ]
    for part in ("stdio_cold", "stdio_warm", "http_warm_sigint", "http_warm_sigterm"):
        if s := report.get(part):
            say += [
                f"  {part:22s} tools/list {_fmt(s['tools_list'])}, exit {_fmt(s['exit'])} "
                f"codes {s['exit_codes']} leftovers {s['runs_leaving_processes']} "
                f"failures {s['failures']}"
            ]
    if hit := report.get("first_hit"):
        when = f"{hit['seconds']:.1f} s" if hit["ok"] else f"FAILED ({hit.get('error')})"
        say += [
            f"  first hit ({report['config']['files']} files): {when}, ready {hit.get('ready_s')}"
        ]
    print("\n".join(say), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sections = set(args.sections.split(","))
    exe = Path(sys.executable).parent / "contextos"
    if not exe.exists():
        sys.exit(f"no contextos script at {exe}: pip install -e . into this environment first")
    report: dict[str, Any] = {
        "benchmark": "startup",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {**{k: str(v) for k, v in vars(args).items()}, "files": args.files},
        "exit_target_s": EXIT_TARGET_S,
    }
    work = Path(tempfile.mkdtemp(prefix="contextos-startup-"))
    where = [sys.executable, "-c", "import contextos; print(contextos.__file__)"]
    found = subprocess.run(
        where, env=_env(work / "cli-home"), capture_output=True, text=True, check=False
    )
    report["contextos_module"] = found.stdout.strip() or found.stderr[-300:]
    try:
        if "cli" in sections:
            env = _env(work / "cli-home")
            report["cli"] = {
                "help": _time_cmd([str(exe), "--help"], env, args.reps),
                "import": _time_cmd([sys.executable, "-c", "import contextos.cli"], env, args.reps),
                "importtime": import_costs(env),
            }
        if sections & {"first-hit", "stdio", "http"}:
            repo, warm = work / "repo", work / "home-warm"
            target = make_repo(repo, args.files)
            sources = [p.read_bytes() for p in repo.rglob("*.py")]
            report["repo"] = {
                "files": len(sources),
                "bytes": sum(map(len, sources)),
                "lines": sum(b.count(b"\n") for b in sources),
            }
            report["first_hit"] = first_hit(exe, repo, target, warm, work / "first.log", args)
            print(f"first hit: {report['first_hit'].get('seconds')}", file=sys.stderr)
        if "stdio" in sections:
            cold = [
                stdio_run(exe, repo, work / f"home-cold-{i}", work / f"cold-{i}.log", args)
                for i in range(args.reps)
            ]
            report["stdio_cold"] = _summarise(cold)
            hot = [
                stdio_run(exe, repo, warm, work / f"warm-{i}.log", args) for i in range(args.reps)
            ]
            report["stdio_warm"] = _summarise(hot)
        if "http" in sections:
            for how in ("SIGINT", "SIGTERM"):
                runs = [
                    http_run(exe, repo, warm, work / f"http-{how}-{i}.log", how, args)
                    for i in range(args.reps)
                ]
                report[f"http_warm_{how.lower()}"] = _summarise(runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json_atomic(args.out, report)
    _print_summary(report)
    return 0
