"""``python -m contextos`` runs the CLI."""

from contextos.cli import main

main()
