"""``contextos token``: bearer tokens for the shared MCP endpoint (create, list, revoke).
Parse, call ``contextos.mcp_server.auth``, render.

``create`` prints the token once (stdout, so it can be piped into a secret store); only its hash
is kept. ``list`` never shows tokens. A running server sees a new or revoked token on its next
request. Errors end through ``_output``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from contextos.cli._output import emit, handled, say

__all__ = ["register", "token_app"]


class TokenScope(StrEnum):
    read = "read"
    write = "write"


token_app = typer.Typer(
    rich_markup_mode=None,
    help=(
        "Bearer tokens for the shared MCP endpoint (`contextos mcp --transport http`): "
        "create, list, revoke."
    ),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``token`` command group to ``app``."""
    app.add_typer(token_app, name="token")


@token_app.command()
@handled()
def create(
    user: Annotated[str, typer.Option(help="Who the token is for (shown in the server log).")],
    scope: Annotated[
        TokenScope,
        typer.Option(help="read: read-only tools and resources; write: every tool."),
    ] = TokenScope.write,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Create a token for USER and print it once; only its hash is stored."""
    from contextos.mcp_server.auth import create_token

    info, secret = create_token(user, scope.value)

    def human() -> None:
        say(secret)
        say(
            f"token {info.id} for {info.user} ({info.scope}); shown only now: "
            "send it as 'Authorization: Bearer <token>'",
            stderr=True,
        )

    emit({**info.public(), "token": secret}, as_json, human)


@token_app.command(name="list")
@handled()
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """List the tokens (id, user, scope, created); never the tokens themselves."""
    from contextos.mcp_server.auth import list_tokens

    rows = [t.public() for t in list_tokens()]
    lines = [f"{r['id']}  {r['user']}  {r['scope']}  {r['created_at']}" for r in rows]
    emit(rows, as_json, lambda: say(*lines) if lines else say("no tokens"))


@token_app.command()
@handled()
def revoke(
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (token list).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Revoke the token ID: a running server refuses it from its next request."""
    from contextos.mcp_server.auth import revoke_token

    info = revoke_token(token_id)
    emit(
        {**info.public(), "revoked": True},
        as_json,
        lambda: say(f"revoked token {info.id} ({info.user})"),
    )
