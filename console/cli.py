"""The command line: the TUI by default, plus ingest and demo.

Heavy modules (Textual, SQLAlchemy, numpy) are imported inside the commands so that
`--help` and the first screen stay fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

EXIT_USAGE = 2


class DefaultToOpenGroup(TyperGroup):
    """`llmops-console logs/*.jsonl` means `llmops-console open logs/*.jsonl`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            if not args[0].startswith("-") or args[0] in ("--store", "--config"):
                args = ["open", *args]
        elif not args:
            args = ["open"]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToOpenGroup,
    add_completion=False,
    no_args_is_help=False,
    help="A terminal operations console for LLM applications in production.",
    context_settings={"help_option_names": ["-h", "--help"]},
)

StoreOption = Annotated[
    Optional[str],
    typer.Option(
        "--store",
        help="SQLAlchemy URL or file path of the store (default: .llmops/console.db here).",
    ),
]


def _fail(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(EXIT_USAGE)


ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="llmops.toml to use (default: ./llmops.toml, then the user config dir)."),
]


def _settings(path: Path | None):
    from console.config import ConfigError, load_settings

    try:
        settings = load_settings(path)
    except ConfigError as exc:
        _fail(str(exc))
    from console.ui.app import ConsoleApp

    unknown = sorted(set(settings.keys) - ConsoleApp.binding_ids())
    if unknown:
        _fail(f"{settings.source}: unknown binding id(s) in [keys]: {', '.join(unknown)} (press ? in the console for the ids)")
    return settings


def _run_console(sources: list[str], store_url: str, config: Path | None) -> None:
    settings = _settings(config)
    from console.ui.app import ConsoleApp

    ConsoleApp(
        sources=sources, store_url=store_url, capacity=settings.ui.ring_size, keymap=settings.keys
    ).run()


def _open_store(url: str | None):
    from console.store import Store, StoreError, default_store_url

    try:
        return Store(url or default_store_url())
    except StoreError as exc:
        _fail(str(exc))


@app.command("open")
def open_console(
    sources: Annotated[
        Optional[list[str]], typer.Argument(help="JSONL log files or globs to tail.")
    ] = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Open the console on live logs (the default command)."""
    from console.store import default_store_url
    from console.store.engine import create_store_engine, StoreError

    url = store or default_store_url()
    try:
        create_store_engine(url).dispose()
    except StoreError as exc:
        _fail(str(exc))
    _run_console(list(sources or []), url, config)


@app.command()
def ingest(
    files: Annotated[list[str], typer.Argument(help="JSONL files or globs to load.")],
    store: StoreOption = None,
) -> None:
    """Load log files into the store once, with progress; safe to repeat (idempotent)."""
    import os

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from console.ingest import SourceNotFound, expand_sources, ingest_files

    try:
        paths = expand_sources(files, must_exist=True)
    except SourceNotFound as exc:
        _fail(str(exc))
    opened = _open_store(store)
    total_bytes = sum(os.path.getsize(p) for p in paths)
    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=not console.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=total_bytes)
        totals = ingest_files(opened, paths, lambda n: progress.advance(task, n))
        progress.update(task, completed=total_bytes)
    out = Console(soft_wrap=True)
    out.print(
        f"[green]{totals.added:,}[/] rows added, {totals.duplicates:,} duplicates skipped, "
        f"[{'red' if totals.rejected else 'green'}]{totals.rejected:,}[/] lines rejected "
        f"into {escape(opened.display_url)}"
    )
    for rejected in totals.first_rejections:
        out.print(f"  {escape(rejected.path)}:{rejected.line_no}: {escape(rejected.reason)}")
    if totals.rejected > len(totals.first_rejections):
        out.print(f"  … and {totals.rejected - len(totals.first_rejections):,} more")
    opened.close()


@app.command()
def demo(
    rate: Annotated[float, typer.Option(help="Simulated requests per second.")] = 20.0,
    workdir: Annotated[
        Optional[Path], typer.Option(help="Where the demo's log and store go (default: a temp dir).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Simulate a live support-chat app and open the console on it."""
    from console.demo.run import plan_demo, start_simulator

    plan = plan_demo(workdir)
    plan.live_log.touch()
    stop = start_simulator(plan, rate)
    try:
        sources = [str(p) for p in plan.history] + [str(plan.live_log)]
        _run_console(sources, plan.store_url, config)
    finally:
        stop.set()
    print(f"demo files kept in {plan.workdir}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
