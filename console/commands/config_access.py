"""How a command reads llmops.toml (--config, else ./llmops.toml, then the user config dir)."""

from __future__ import annotations

from pathlib import Path

from console.commands.errors import UsageError
from console.config import ConfigError, Settings, load_settings


def load_config(path: Path | None, *, warn: bool = True) -> Settings:
    """Settings without the UI's checks (headless commands need not import Textual).

    Unknown keys are warnings: printed on stderr here (the TUI shows them as notifications);
    those that would change a figure (console/config.py's _FIGURE_TABLES) are a ConfigError,
    raised here as a UsageError like a wrong value."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if warn:
        print_warnings(settings.warnings)
    return settings


def print_warnings(warnings: list[str]) -> None:
    if warnings:
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True, soft_wrap=True)
        for warning in warnings:
            err.print(f"[bold yellow]warning:[/] {escape(warning)}")
