"""A team on one shared MCP endpoint (issue 13): each bearer token's user is the owner of the
memories its calls write and the only one who reads its ``user``-scoped ones; ``project``
memories are everyone's. A real server subprocess on loopback, the SDK's client per user, on the
personal SQLite store and on a real PostgreSQL (the ``backend`` fixture), then the store itself
read back after the server stopped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import ClientSession
from mcp.shared.exceptions import MCPError

from contextos.context import build_context
from contextos.mcp_server.auth import create_token
from contextos.memory import MemoryStore
from tests.conftest import Backend, RepoMaker
from tests.test_mcp_auth import FILES, _call_body, run_session, serving
from tests.test_mcp_server import call, refusal

ALICE_OWN = "I prefer tabs over spaces in the ledger code."
PROJECT = "Payments always go through the ledger service."
BOB_OWN = "Bob reviews ledger changes on Mondays."
QUERY = "ledger tabs spaces payments reviews"


def _texts(found: dict[str, Any]) -> set[str]:
    return {hit["memory"]["text"] for hit in found["hits"]}


def test_each_token_user_sees_their_own_and_the_project_memories_never_another_users(
    make_repo: RepoMaker, backend: Backend
) -> None:
    _, alice = create_token("alice", "write")
    _, bob = create_token("bob", "write")
    _, reader = create_token("rita", "read")
    written: dict[str, str] = {}
    with serving(make_repo(FILES)) as server:

        async def as_alice(session: ClientSession) -> None:
            own = await call(session, "remember", text=ALICE_OWN, scope="user")
            shared = await call(session, "remember", text=PROJECT, scope="project")
            written.update(own=own["id"], shared=shared["id"])
            assert _texts(await call(session, "recall", query=QUERY, k=10)) == {ALICE_OWN, PROJECT}

        async def as_bob(session: ClientSession) -> None:
            await call(session, "remember", text=BOB_OWN, scope="user")
            assert _texts(await call(session, "recall", query=QUERY, k=10)) == {PROJECT, BOB_OWN}
            (listed,) = (await session.read_resource("memory://list")).contents
            texts = {m["text"] for m in json.loads(listed.text)["memories"]}  # type: ignore[union-attr]
            assert texts == {PROJECT, BOB_OWN}
            with pytest.raises(MCPError) as hidden:
                await session.read_resource(f"memory://{written['own']}")
            assert hidden.value.code == -32002
            refused = await refusal(session, "forget", id=written["own"])
            assert f"unknown memory id '{written['own']}'" in refused
            packed = await call(session, "build_context", task=QUERY, budget=3000)
            window = "\n".join(m["content"] for m in packed["messages"])
            assert PROJECT in window and BOB_OWN in window and ALICE_OWN not in window

        async def as_reader(session: ClientSession) -> None:
            assert _texts(await call(session, "recall", query=QUERY, k=10)) == {PROJECT}

        run_session(server, alice, as_alice)
        run_session(server, bob, as_bob)
        run_session(server, reader, as_reader)
        denied = server.post(_call_body("remember", text="Readers write nothing."), token=reader)
    assert denied.status_code == 403
    assert "read scope and may not call remember" in denied.json()["error"]["message"]

    with MemoryStore.open() as store:  # where the server kept them: the same backend
        owned = {
            user: {m.text for m in store.as_owner(user).memories()}
            for user in ("alice", "bob", "rita")
        }
    assert owned == {
        "alice": {ALICE_OWN, PROJECT},
        "bob": {PROJECT, BOB_OWN},
        "rita": {PROJECT},
    }


def test_build_context_recalls_from_the_team_database_when_database_url_is_set(
    make_repo: RepoMaker, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXTOS_DATABASE_URL", database_url)
    with MemoryStore.open() as store:
        store.remember(PROJECT, scope="project")
    result = build_context("where do payments go through", make_repo(FILES), embedder=None)
    assert PROJECT in str(result.pack.openai_messages())
    assert result.notes == ()
