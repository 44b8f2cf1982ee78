"""The command line: the TUI by default, plus the headless commands.

This module holds the options: their declarations, their checks and one call per command
into console/commands/ (the bodies), which raise UsageError for a mistake the user can fix;
ConsoleGroup prints it as `error: <message>` and exits 2. The TUI is started by
console/ui/launch.py, which only this module imports: nothing below the UI imports it.

Heavy modules (Textual, SQLAlchemy, numpy) are imported inside the commands so that
`--help` and the first screen stay fast.

No `from __future__ import annotations` here: typer reads every command's annotations when it
builds the command line, and as strings it evaluates each anew (~10 ms of every command's
start-up); as objects they are made once, at import.
"""

import atexit
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from console.commands.errors import UsageError
from console.malloc import gc_paused

EXIT_USAGE = 2


class ConsoleGroup(TyperGroup):
    """`llmops-console logs/*.jsonl` means `llmops-console open logs/*.jsonl`; a UsageError
    from any command (sub-commands included) is `error: <message>` on stderr and exit 2."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            if not args[0].startswith("-") or args[0] in ("--store", "--config", "--format", "--otlp", "--at"):
                args = ["open", *args]
        elif not args:
            args = ["open"]
        from console.cli_params import plain_params

        plain_params(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def get_command(self, ctx: typer.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            from console.cli_params import plain_params

            plain_params(command.get_params(ctx))  # plain strings and paths without pydantic (0.1 s of a report)
        return command

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _fail(str(exc))


# Help texts name llmops.toml tables ([prices], [prompts]); Rich markup would swallow them.
HELP_MARKUP = None

app = typer.Typer(
    cls=ConsoleGroup,
    rich_markup_mode=HELP_MARKUP,
    add_completion=False,
    no_args_is_help=False,
    help="A terminal operations console for LLM applications in production.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _check_store(value: Optional[str]) -> Optional[str]:
    """--store: an empty value is a mistake (an unset variable), not 'the default store'."""
    if value is not None and not value.strip():
        raise typer.BadParameter("expected a SQLAlchemy URL or a file path, got an empty string")
    return value


def _positive(value: float) -> float:
    if not value > 0:  # also NaN
        raise typer.BadParameter(f"expected a number > 0, got {value:g}")
    return value


def _concurrency(value: Optional[int]) -> Optional[int]:
    if value is not None and not 1 <= value <= 256:  # as regression.concurrency in llmops.toml
        raise typer.BadParameter(f"expected an integer between 1 and 256, got {value}")
    return value


StoreOption = Annotated[
    Optional[str],
    typer.Option(
        "--store",
        help="SQLAlchemy URL or file path of the store (default: .llmops/console.db here).",
        callback=_check_store,
    ),
]


class SourceFormat(str, Enum):
    auto = "auto"
    jsonl = "jsonl"
    otlp = "otlp"


FormatOption = Annotated[
    SourceFormat,
    typer.Option(
        "--format",
        help="Log format: auto (each file by its first line), jsonl (schema v1 records) "
        "or otlp (the OpenTelemetry Collector file exporter's JSON).",
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


def _run_console(
    sources: list[str], store_url: str, config: Path | None, source_format: str = "auto", otlp: str | None = None,
    at: float | None = None,
) -> None:
    """The TUI (console/ui/launch.py), imported only now: --help and headless commands stay light."""
    from console.ui.launch import run_console

    run_console(sources, store_url, config, source_format, None if otlp is None else _otlp_address(otlp),
                token=os.environ.get(OTLP_TOKEN_ENV), at=at)


OTLP_TOKEN_ENV = "LLMOPS_OTLP_TOKEN"


def _otlp_address(value: str) -> tuple[str, int]:
    """--otlp HOST:PORT, :PORT or PORT (the host then 127.0.0.1); [::1]:PORT for IPv6."""
    host, _, port = value.rpartition(":") if ":" in value else ("", "", value)
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise typer.BadParameter(f"expected HOST:PORT (e.g. 127.0.0.1:4318), got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _check_otlp(value: Optional[str]) -> Optional[str]:
    if value is not None:
        _otlp_address(value)
    return value


OtlpOption = Annotated[
    Optional[str],
    typer.Option(
        "--otlp",
        help="Also receive OTLP/HTTP spans from apps on HOST:PORT (e.g. 127.0.0.1:4318; apps set "
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:PORT). Off unless given. Off loopback a token is "
        f"required: ${OTLP_TOKEN_ENV}, else one is generated and printed.",
        callback=_check_otlp,
    ),
]


@app.command("open")
def open_console(
    sources: Annotated[
        Optional[list[str]], typer.Argument(help="Log files or globs to tail (JSONL or OTLP JSON).")
    ] = None,
    store: StoreOption = None,
    config: ConfigOption = None,
    source_format: FormatOption = SourceFormat.auto,
    otlp: OtlpOption = None,
    at: Annotated[
        Optional[str],
        typer.Option("--at", help="Figures as of this RFC 3339 time (like report's --now) instead of the clock, "
                     "or of the logs' end when they are older than the window."),
    ] = None,
) -> None:
    """Open the console on live logs (the default command).

    With no files (and no --otlp), it follows the store: rows that other consoles or
    ingesters write to it (e.g. a shared PostgreSQL store) appear as they are committed.
    """
    from console.commands.report import parse_now
    from console.commands.store_access import check_store

    try:
        moment = None if at is None else parse_now(at)
    except UsageError as exc:
        raise UsageError(str(exc).replace("--now", "--at")) from None
    fixed = {} if moment is None else {"at": moment}
    _run_console(list(sources or []), check_store(store), config, source_format.value, otlp, **fixed)


@app.command(short_help="Load log files into the store once (safe to repeat).")
def ingest(
    files: Annotated[list[str], typer.Argument(help="Log files or globs to load (JSONL or OTLP JSON).")],
    store: StoreOption = None,
    config: ConfigOption = None,
    source_format: FormatOption = SourceFormat.auto,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep tailing the files into the store until Ctrl+C (a headless ingester).")
    ] = False,
) -> None:
    """Load log files into the store once, with progress; safe to repeat (idempotent).

    Requests without cost_usd are priced from llmops.toml's [prices], else genai-prices.
    With --follow it keeps tailing (team mode: one ingester per host into a shared store).
    Exit 1 when a file is refused whole (binary: the Collector's format: proto, compressed).
    """
    from console.commands.config_access import load_config
    from console.commands.ingest import run_ingest

    code = run_ingest(files, store=store, settings=load_config(config), source_format=source_format.value, follow=follow)
    raise typer.Exit(code)


@app.command(short_help="Receive OTLP/HTTP spans from apps into the store.")
def receive(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; off loopback a token is required.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (OTLP/HTTP's is 4318; 0: any free one).", min=0, max=65535)] = 4318,
    token: Annotated[
        Optional[str], typer.Option("--token", envvar=OTLP_TOKEN_ENV, help="Token apps must send (Authorization: Bearer ...).")
    ] = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Receive OTLP/HTTP spans from apps (POST /v1/traces, protobuf or JSON, gzip) into the store, headless.

    An app sets OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318; no Collector is needed. Its GenAI
    spans are read as the OTLP files are (llmops.toml's [otel]) until Ctrl+C or SIGTERM.
    """
    from console.commands.config_access import load_config
    from console.commands.receive import run_receive

    run_receive(host=host, port=port, token=token, store=store, settings=load_config(config))


SERVE_TOKEN_ENV = "LLMOPS_SERVE_TOKEN"  # console/commands/serve.py's TOKEN_ENV


@app.command(short_help="The live console in a browser, one for each visitor.")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; off loopback a token is required.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one, printed).", min=0, max=65535)] = 8000,
    store: StoreOption = None,
    config: ConfigOption = None,
    read_only: Annotated[
        Optional[bool],
        typer.Option("--read-only/--writable", help="Hide labelling and regression runs (default: read-only off loopback)."),
    ] = None,
    token: Annotated[
        Optional[str],
        typer.Option("--token", envvar=SERVE_TOKEN_ENV, help="Token the page's link carries (default: none on loopback, else generated and printed)."),
    ] = None,
) -> None:
    """The live console in a browser: everyone who opens the link gets their own console on the store.

    Something else fills the store (ingest --follow, receive, a console tailing the logs);
    each viewer's console follows it. Until Ctrl+C or SIGTERM.
    """
    from console.commands.serve import plan_serve
    from console.ui.serve_server import serve as run_serve
    from console.commands.store_access import check_store

    run_serve(plan_serve(host, port, check_store(store), config, read_only, token))


@app.command(short_help="Play a past period of the store as if it were live.")
def replay(
    start: Annotated[str, typer.Option("--from", help="Start: an RFC 3339 time, or a duration before --to (30m, 2h).")],
    end: Annotated[
        Optional[str], typer.Option("--to", help="End: an RFC 3339 time (default: the store's newest request).")
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="Times the wall clock (space pauses, + and - change it).")] = 10.0,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Play the store's requests of a past period in time order as if live: the table, the panes,
    the header and the alerts as they were at each moment, with today's config.

    Keys: space pause, [ and ] a minute back or forward, + and - speed. Nothing is written to
    the store but labels you make (real labels).
    """
    from console.commands.replay import plan_replay
    from console.ui.launch import run_replay

    run_replay(plan_replay(start, end, speed, store), config)


# not ConfigOption: the demo writes its own llmops.toml (budgets, SLOs, compressed burn
# windows) and uses it, never ./llmops.toml or the user config dir (console/commands/demo.py)
DemoConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", help="llmops.toml to use instead of the demo's own (written in its directory)."),
]


@app.command()
def demo(
    rate: Annotated[float, typer.Option(help="Simulated requests per second.", callback=_positive)] = 20.0,
    workdir: Annotated[
        Optional[Path], typer.Option(help="Where the demo's log and store go, kept (default: a temp dir, removed on quit).")
    ] = None,
    config: DemoConfigOption = None,
) -> None:
    """Simulate a live support-chat app and open the console on it."""
    from console.commands.demo import EndedBySignal, run_demo

    try:
        run_demo(rate=rate, workdir=workdir, config=config, open_console=_run_console, exit_now=os._exit)
    except EndedBySignal as ended:  # cleaned up; nothing may keep the process (see there)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(ended.code)


# report, check and compare take the same windows (console.analytics.windows.parse_window)
WindowSince = Annotated[
    str, typer.Option("--since", help="Window: 15m, 1h, 6h, 24h, 7d, all, or any duration such as 2h or 90m.")
]


@app.command(short_help="Compare two arms: rates, latency, cost and a verdict.")
def compare(
    # examples without a hyphen: the help column is wrapped at hyphens too ('prompt=support-'
    # then 'answer@v8' on the next line broke a copy and paste); whole ones are in the docstring
    a: Annotated[str, typer.Option("--a", help="Arm A (baseline), a spec: e.g. version=v7 (examples above).")],
    b: Annotated[str, typer.Option("--b", help="Arm B (candidate), a spec: e.g. version=v8.")],
    since: WindowSince = "all",
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    now: Annotated[
        Optional[str],
        typer.Option("--now", help="The window ends at this RFC 3339 time instead of the clock; requests stamped later are left out."),
    ] = None,
) -> None:
    """Compare two arms: error and bad rates, latency, cost, p-values and a verdict.

    Spec keys, joined by ',' (AND): model, prompt=ID@VERSION, prompt_id, version (or prompt_version), env, user, before=TIME, after=TIME (RFC 3339 or epoch).

    \b
    Examples:
      llmops-console compare --a version=v7 --b version=v8 --since 1h
      llmops-console compare --a model=gpt-4o --b model=gpt-4o-mini --json
      llmops-console compare --a prompt=support-answer@v7 \\
        --b prompt=support-answer@v8,model=gpt-4o --now 2026-11-20T12:00:00Z
    """  # noqa: E501 (one line: the help text is reflowed only within a paragraph; \b: not at all)
    from console.commands.compare import run

    run(a, b, since=since, store=store, as_json=as_json, now=now)


ReportSources = Annotated[
    Optional[list[str]], typer.Argument(help="JSONL files or globs to ingest into the store first.")
]
ReportNow = Annotated[
    Optional[str],
    typer.Option("--now", help="Report as of this RFC 3339 time instead of the clock (replays, tests)."),
]


@app.command(short_help="The panes' figures over a window, as text or JSON.")
def report(
    sources: ReportSources = None,
    store: StoreOption = None,
    since: WindowSince = "24h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (the documented contract).")] = False,
    config: ConfigOption = None,
    now: ReportNow = None,
) -> None:
    """Latency, spend, prompt versions, budgets and alerts over a window: the panes' figures."""
    with gc_paused():  # a one-shot read: ~120 GC passes over acyclic objects were ~0.04 s of CPU
        from console.commands.config_access import load_config
        from console.commands.report import run_report

        run_report(sources or [], store=store, since=since, settings=load_config(config), now=now, as_json=as_json)
    if not sources:  # only read: nothing left to write, close or flush but stdout and stderr
        global _EXIT_WITHOUT_TEARDOWN
        _EXIT_WITHOUT_TEARDOWN = True


@app.command(short_help="Evaluate the alerts: exit 1 if any fires.")
def check(
    sources: ReportSources = None,
    store: StoreOption = None,
    since: WindowSince = "1h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the alerts as JSON.")] = False,
    config: ConfigOption = None,
    now: ReportNow = None,
    backtest: Annotated[
        Optional[str],
        typer.Option("--backtest", help="Instead: when each rule would have fired and cleared over this period before --now (7d, 24h, 90m)."),
    ] = None,
    notify: Annotated[
        Optional[list[str]],
        typer.Option("--notify", help="Webhook URL to post each alert's start and end to (JSON; Slack's format for hooks.slack.com). Repeatable."),
    ] = None,
) -> None:
    """Evaluate the alerts (budget burn, SLO breach, error-rate spike): exit 0 if none, 1 if any, 2 on a usage error, 3 if a notification failed."""
    with gc_paused():
        from console.commands.check import run_backtest, run_check
        from console.commands.config_access import load_config

        settings = load_config(config)
        if backtest is not None:
            raise typer.Exit(run_backtest(sources or [], store=store, since=since, settings=settings, now=now, as_json=as_json, period=backtest))
        code = run_check(sources or [], store=store, since=since, settings=settings, now=now, as_json=as_json, notify=notify or [])
    raise typer.Exit(code)


# `regress` runs the suite; `regress export` is its one sub-command. A group whose callback is
# the run keeps `regress --target …` exactly as it was (options before any sub-command name).
regress_app = typer.Typer(rich_markup_mode=HELP_MARKUP)
app.add_typer(regress_app, name="regress", short_help="Run the regression suite against a target.")
SuiteOption = Annotated[
    Optional[Path],
    typer.Option("--suite", help="Cases JSONL, or a promptfooconfig.yaml (default: regression.suite in llmops.toml)."),
]


@regress_app.callback(invoke_without_command=True)
def regress(
    ctx: typer.Context,
    suite: SuiteOption = None,
    target: Annotated[
        Optional[str],
        typer.Option(
            "--target", help="A target named in llmops.toml (regression.targets), python:module:function or replay:PATH."
        ),
    ] = None,
    baseline: Annotated[
        Optional[str], typer.Option("--baseline", help="Run id to compare with, or 'none' (default: the marked baseline).")
    ] = None,
    mark_baseline: Annotated[bool, typer.Option("--mark-baseline", help="Make this run the suite's baseline.")] = False,
    prompt_version: Annotated[
        Optional[str], typer.Option("--prompt-version", help="Prompt version to run (given to the target in context).")
    ] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Model to run (given to the target in context).")] = None,
    concurrency: Annotated[
        Optional[int], typer.Option("--concurrency", help="Target calls at a time (default 4).", callback=_concurrency)
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every case, not only those that did not pass.")] = False,
    store: StoreOption = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Run the regression suite against a target and compare it with the baseline.

    Exit 0 when the gate passes, 1 when it fails (a critical regression, new errors, the pass rate under regression.min_pass_rate), 2 on a usage or config error.
    `regress export` writes the suite as a promptfooconfig.yaml.
    """  # noqa: E501
    if ctx.invoked_subcommand is not None:
        given = [name for name, value in ctx.params.items() if value not in (None, False)]
        if given:
            option = "--" + given[0].replace("_", "-")
            _fail(f"regress {ctx.invoked_subcommand}: its options go after it "
                  f"(llmops-console regress {ctx.invoked_subcommand} --suite …), not before; got {option}")
        return
    from console.commands.config_access import load_config
    from console.commands.regress import run_regress

    code = run_regress(load_config(config), store=store, suite=suite, target=target, baseline=baseline,
                       mark_baseline=mark_baseline, prompt_version=prompt_version, model=model,
                       concurrency=concurrency, as_json=as_json, show_all=show_all)
    raise typer.Exit(code)


class ExportFormat(str, Enum):
    promptfoo = "promptfoo"


@regress_app.command("export")
def regress_export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="What to write: promptfoo (a promptfooconfig.yaml).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    suite: SuiteOption = None,
    provider: Annotated[
        Optional[list[str]],
        typer.Option("--provider", metavar="ID",
                     help="A promptfoo provider id for the file's providers (default: echo). Repeatable."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the suite as a promptfooconfig.yaml.

    Each case is kept whole in metadata.llmops, so the same suite runs in promptfoo's CI, and
    `regress --suite` on that file runs the same cases here."""
    from console.commands.config_access import load_config
    from console.commands.regress_export import export_suite

    raise typer.Exit(export_suite(load_config(config), fmt=fmt.value, suite=suite, output=output, providers=provider))


@app.command(short_help="Set up an app's repository for the console.")
def init(
    directory: Annotated[Path, typer.Argument(help="Where to set up (default: here).")] = Path("."),
    from_logs: Annotated[
        Optional[list[Path]],
        typer.Option("--from-logs", help="A request log (JSONL or OTLP JSON) whose prompt versions to register "
                     "and whose spend and latency to suggest a budget and SLOs from. Repeatable."),
    ] = None,
) -> None:
    """Set up an app's repository: llmops.toml, prompts/, regression/cases.jsonl and LLMOPS.md (the logger snippet).

    Never overwrites: a file that exists is kept as it is (and named), the others are created.
    With --from-logs, every prompt_id/version in the log is registered (its text marked
    unknown) instead of the example prompt, and a budget and SLOs are suggested.
    """
    from console.commands.init import run_init

    run_init(directory, from_logs or [])


prompts_app = typer.Typer(help="The prompt registry ([prompts] path): list, show and diff versions.",
                          no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
app.add_typer(prompts_app, name="prompts", short_help="The prompt registry: list, show and diff versions.")
PromptsConfigOption = Annotated[Optional[Path], typer.Option("--config", help="llmops.toml to use.")]


def _prompts(body, *args, **kwargs) -> None:
    """A PromptsError is one plain `error: <message>` line on stderr (scripts read it), its exit code."""
    from console.commands.prompts import PromptsError
    from console.sanitize import strip_control

    try:
        body(*args, **kwargs)
    except PromptsError as exc:
        sys.stderr.write(f"error: {strip_control(str(exc))}\n")
        raise typer.Exit(exc.exit_code) from None


@prompts_app.command("list")
def prompts_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array of versions.")] = False,
    config: PromptsConfigOption = None,
) -> None:
    """Every prompt version: id, version, labels, short hash, model, file."""
    from console.commands.prompts import list_versions

    _prompts(list_versions, as_json=as_json, config=config)


@prompts_app.command("show")
def prompts_show(prompt_id: str, version: str, config: PromptsConfigOption = None) -> None:
    """A version's text (front matter excluded)."""
    from console.commands.prompts import show_version

    _prompts(show_version, prompt_id, version, config=config)


@prompts_app.command("diff", short_help="The unified diff from OLD to NEW.")
def prompts_diff(prompt_id: str, old: str, new: str, config: PromptsConfigOption = None) -> None:
    """The unified diff from OLD to NEW (empty when their normalised texts are the same)."""
    from console.commands.prompts import diff_versions

    _prompts(diff_versions, prompt_id, old, new, config=config)


labels_app = typer.Typer(help="Labels given in the triage queue (t): export them for tickets and notebooks.",
                         no_args_is_help=True, rich_markup_mode=HELP_MARKUP)
app.add_typer(labels_app, name="labels", short_help="Export the labels given in the triage queue.")


@labels_app.command("export", short_help="Labels with their requests, for tickets and notebooks.")
def labels_export(
    verdict: Annotated[Optional[str], typer.Option("--verdict", help="Only 'bad' or only 'good' labels.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    history: Annotated[
        bool, typer.Option("--history", help="Every label given (relabelled and undone ones too, see 'active').")
    ] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    store: StoreOption = None,
) -> None:
    """Labels with their requests: request_id, verdict, reason, note, author, when, model, prompt version, output.

    CSV cells that start with = + - @ are prefixed with ' so a spreadsheet shows them as text.
    """
    from console.commands.labels import export_labels

    if verdict not in (None, "bad", "good"):
        _fail(f"--verdict is bad or good, not {verdict!r}")
    if fmt not in ("jsonl", "csv"):
        _fail(f"--format is jsonl or csv, not {fmt!r}")
    export_labels(verdict=verdict, fmt=fmt, history=history, output=output, store=store)


def single_blas_thread() -> None:
    """One OpenBLAS thread unless the user chose otherwise: the console does no BLAS work (no
    matmul, no linalg), and OpenBLAS starting a thread per core and its buffers when numpy
    loads was ~0.06 s of CPU and wall time of every command that imports numpy (a tenth of a
    `report`). Set before any command imports numpy, and inherited by the console's children."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


# Set by a command that only read and has written its output (`report` without sources): main
# then ends the process without the interpreter's teardown, which frees every module's objects
# one by one (numpy's, typer's, the console's, the report's arrays: a 1M-row `report` took
# 0.19 s with it, 0.17 s without, medians of 20 runs alternated at load ~1.7). Such a command
# leaves its store closed and no thread or child; atexit handlers still run.
_EXIT_WITHOUT_TEARDOWN = False


def _exit_without_teardown(code: object) -> None:
    if not _EXIT_WITHOUT_TEARDOWN or not (code is None or isinstance(code, int)):
        return
    threading = sys.modules.get("threading")
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's; it clears them
    if run_exit_handlers is None or (threading is not None and threading.active_count() > 1):
        return  # the usual exit: it joins threads
    run_exit_handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed or broken pipe: the usual exit reports it
    os._exit(code or 0)


def main() -> None:
    single_blas_thread()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit as exc:
        _exit_without_teardown(exc.code)
        raise


if __name__ == "__main__":
    main()
