"""Starting the console: its settings checked against the app's bindings, the OTLP receiver
bound before the screen opens (a taken port is an error line, not a screen), then the app.
The receiver runs in a child process (console/commands/receiver_process.py) writing to the
console's store, which the console follows."""

from __future__ import annotations

import sys
from pathlib import Path

from console.commands.config_access import load_config
from console.config import Settings, suggest


def tui_settings(path: Path | None, app_class=None) -> Settings:
    """Settings for the TUI: unknown binding ids in [keys] are warned about and dropped
    (app_class: the app whose bindings count, ConsoleApp by default)."""
    settings = load_config(path, warn=False)  # a config error is told before Textual is imported
    from console.ui.app import ConsoleApp

    known = (app_class or ConsoleApp).binding_ids()
    for binding_id in [name for name in settings.keys if name not in known]:
        del settings.keys[binding_id]
        settings.warnings.append(
            f"{settings.source}: unknown binding id 'keys.{binding_id}' ignored{suggest(binding_id, known)}"
            " (press ? in the console for the ids)"
        )
    return settings


def run_console(
    sources: list[str],
    store_url: str,
    config: Path | None,
    source_format: str = "auto",
    otlp: tuple[str, int] | None = None,
    *,
    token: str | None = None,
    read_only: bool = False,
    at: float | None = None,
) -> None:
    settings = tui_settings(config)
    from console.analytics.prices import Pricer
    from console.commands.receiver_process import ReceiverProcess
    from console.ui.app import REPLAY_LAST_HOUR, ConsoleApp

    receiver = None
    if otlp is not None:  # in a child process: decoding and writing spans would take the event loop's GIL
        host, port = otlp
        receiver = ReceiverProcess(host, port, token, store_url, config)
        sys.stderr.write("".join(line + "\n" for line in receiver.lines))
    try:
        result = ConsoleApp(
            sources=sources,
            store_url=store_url,
            capacity=settings.ui.ring_size,
            keymap=settings.keys,
            pricer=Pricer(settings.prices),
            settings=settings,
            source_format=source_format,
            otlp_inbox=receiver,  # the ingest thread follows the store for what it writes
            otlp_notice=None if receiver is None else "; ".join(receiver.lines),
            read_only=read_only,
            at=at,
        ).run()
    finally:
        if receiver is not None:
            receiver.close()
    if result == REPLAY_LAST_HOUR:  # the palette's "Replay the last hour"
        from console.commands.replay import plan_replay

        run_replay(plan_replay("1h", None, 10.0, store_url), config)


def run_replay(plan, config: Path | None) -> None:
    """The console replaying plan's period (console/commands/replay.py's ReplayPlan)."""
    from console.ui.replay_app import ReplayApp

    settings = tui_settings(config, ReplayApp)
    ReplayApp(plan.store_url, plan.start, plan.end, plan.speed, capacity=settings.ui.ring_size, keymap=settings.keys,
              settings=settings).run()
