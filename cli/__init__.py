"""The thin Typer CLI: parse, call the orchestrator, render."""
