"""`llmops-console init [DIRECTORY] [--from-logs LOG ...]`: set up an app's repository.

Writes the starter files that do not exist yet (console.commands.init_files) and says which
it created and which it kept. With --from-logs it first surveys the logs
(console.commands.init_logs), then registers every logged prompt version instead of the
example prompt and prints the budget and SLOs the log suggests. Log text (paths, reasons,
model and prompt names) is untrusted: it is printed one line at a time, control characters
stripped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from console.analytics.prices import Pricer
from console.commands.config_access import load_config
from console.commands.errors import UsageError
from console.commands.init_files import SNIPPET_FILE, init_project, logger_snippet
from console.commands.init_logs import (
    SAFE_NAME, SUGGESTION_RULES, LogSurvey, Registered, register_versions, suggestion_toml, survey_logs,
)  # fmt: skip
from console.config import Settings
from console.formatting import usd
from console.ingest import SourceNotFound, expand_sources
from console.prompts.registry import registry_root
from console.sanitize import one_line, strip_control
from console.sources.otlp import OtlpOptions


def run_init(directory: Path, from_logs: Sequence[Path]) -> None:
    survey = _survey(directory, from_logs) if from_logs else None
    snippet = None
    if survey is not None and survey.versions:
        busiest = max(survey.versions.values(), key=lambda seen: seen.requests)
        if all(SAFE_NAME.match(name) for name in (busiest.prompt_id, busiest.prompt_version)):
            snippet = logger_snippet(busiest.prompt_id, busiest.prompt_version)
    try:
        created, kept = init_project(directory, example=not from_logs, snippet=snippet)
    except OSError as exc:
        raise UsageError(f"{directory}: {exc.strerror or exc}") from None
    for path in created:
        print(f"created {path}")
    for path in kept:
        print(f"kept {path} (exists; not overwritten)")
    if survey is not None:
        _print_survey(directory, survey)
    print()
    print(f"Log the app's requests ({directory / SNIPPET_FILE} has this):")
    print(snippet or logger_snippet(), end="")


def _survey(directory: Path, logs: Sequence[Path]) -> LogSurvey:
    try:
        paths = expand_sources([str(p) for p in logs], must_exist=True)
    except SourceNotFound as exc:
        raise UsageError(f"--from-logs: {exc}") from None
    config = directory / "llmops.toml"
    settings = load_config(config) if config.is_file() else Settings()  # its [prices] and [otel]
    try:
        return survey_logs(paths, Pricer(settings.prices), otlp_options=OtlpOptions.from_settings(settings.otel))
    except OSError as exc:
        raise UsageError(f"--from-logs: {exc.filename or ''}: {exc.strerror or exc}") from None


def _print_survey(directory: Path, survey: LogSurvey) -> None:
    """What init --from-logs read, registered and suggests."""
    config = directory / "llmops.toml"
    settings = load_config(config, warn=False) if config.is_file() else None
    root = registry_root(settings.prompts.path, settings.source) if settings else directory / "prompts"
    _print_read(survey)
    try:
        registered = register_versions(root, survey)
    except OSError as exc:
        raise UsageError(f"{root}: {exc.strerror or exc}") from None
    _print_registered(registered, survey)
    pricing = survey.pricing
    if pricing.unpriced:
        names = ", ".join(f"{one_line(m)} ({n:,})" for m, n in pricing.unpriced_models.most_common(5))
        print(f"{pricing.unpriced:,} requests unpriced (no cost_usd, no known price{': ' + names if names else ''}); "
              'add [prices."<model>"] to llmops.toml to count them')
    _print_suggestions(survey)


def _print_read(survey: LogSurvey) -> None:
    print()
    print(f"read {survey.records:,} requests from {', '.join(one_line(f) for f in survey.files)}; "
          f"{survey.rejected:,} malformed line(s) skipped")
    for rejected in survey.first_rejections:
        print(f"  {one_line(rejected.path)}:{rejected.line_no}: {one_line(rejected.reason)}")
    if survey.rejected > len(survey.first_rejections):
        print(f"  ... and {survey.rejected - len(survey.first_rejections):,} more")
    if survey.spans_skipped:
        print(f"{survey.spans_skipped:,} OpenTelemetry spans skipped (not GenAI model calls)")


def _print_registered(registered: list[Registered], survey: LogSurvey) -> None:
    for entry in registered:
        name = one_line(f"{entry.prompt_id}@{entry.prompt_version}")
        seen = survey.versions[(entry.prompt_id, entry.prompt_version)]
        digest = f"hash {entry.prompt_hash}" if entry.prompt_hash else "no prompt_hash logged"
        if entry.problem:
            print(f"skipped {name}: {entry.problem}")
        elif entry.created:
            print(f"registered {name} ({seen.requests:,} requests, {digest}) as {entry.path} (text unknown)")
        else:
            print(f"kept {entry.path} for {name} (exists; not overwritten)")
        if entry.other_hashes:
            print(f"  DRIFT {name}: also logged with {one_line(', '.join(entry.other_hashes[:5]))} "
                  "(the version label was reused for a changed text)")


def _print_suggestions(survey: LogSurvey) -> None:
    print()
    print(f"suggested from the log ({SUGGESTION_RULES}):")
    days = len(survey.daily_spend)
    budget = survey.suggested_daily_budget()
    if budget is None:
        print("  no budget: no priced request in the log")
    else:
        total = sum(survey.daily_spend.values())
        print(f"  daily budget {usd(budget)} (spend over {days} day(s): {usd(total)}, "
              f"mean {usd(total / days)}/day, highest {usd(max(survey.daily_spend.values()))})")
    for slo in survey.suggested_slos():
        model = one_line(slo.model)
        if slo.max_ms is None:
            print(f"  {model}: only {slo.requests} successful request(s), no SLO suggested")
        else:
            print(f"  {model}: p95 {slo.p95_ms:,.0f} ms over {slo.requests:,} requests -> SLO max_ms {slo.max_ms:,}")
    toml = suggestion_toml(survey)
    if toml:
        print()
        print("paste into llmops.toml to use them:")
        print(strip_control(toml), end="")
