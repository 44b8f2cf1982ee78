"""`llmops-console check`: the alerts that fire now, or with --backtest, over a past period.

- check prints the alerts that fire and exits 1 when there is any, 0 when none, 2 on a
  usage or config error (cron and CI); with --notify URL (or [[notify]] in llmops.toml) it
  also posts each alert's start and end to the webhooks (console/notify), and exits 3 when a
  delivery failed (it stays pending: the next run retries it).
- check --backtest 7d judges the same rules at every minute of the last 7 days (as of --now)
  in one pass over the store's rollup minute cells (console/analytics/backtest.py,
  console/store/minute_series.py) and prints each episode: when it fired and cleared, how
  long it lasted, its peak; exit 0.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

import msgspec
from rich.console import Console
from rich.text import Text

from console.analytics.alerts import explain_alert
from console.analytics.backtest import MINUTE, Episode, backtest, lookback_seconds
from console.analytics.report_types import Alert
from console.commands.errors import UsageError
from console.commands.report import SEVERITY_STYLES, _ingest, _newest_request, check_since, make_report, parse_now
from console.commands.report_print import after_now_text, empty_window_hint
from console.commands.store_access import open_store
from console.config import Settings, duration_seconds
from console.formatting import latency, parse_rfc3339, rfc3339
from console.sanitize import json_for_terminal, strip_control

DELIVERY_FAILED = 3


def run_check(
    sources: Sequence[str], *, store: Optional[str], since: str, settings: Settings, now: Optional[str], as_json: bool,
    notify: Sequence[str] = (),
) -> int:
    """Print the alerts; 1 when any fires, 0 when none (3 when a notification could not be delivered)."""
    targets = _targets(settings, notify)
    report = make_report(sources, store=store, since=since, settings=settings, now=now)
    code = 1 if report.alerts else 0
    delivery = None
    if targets:
        from console.notify import deliver_alerts

        opened = open_store(store)
        try:
            delivery = deliver_alerts(opened, targets, report.alerts, parse_rfc3339(report.window.end))
        finally:
            opened.close()
    if as_json:
        # after_now: the requests stamped after the window's end, in no figure (clock skew?)
        body = {"ok": not report.alerts, "alerts": report.alerts, "after_now": report.after_now}
        if delivery is not None:
            body["notify"] = delivery.as_json()
        sys.stdout.write(json_for_terminal(msgspec.json.encode(body).decode()) + "\n")
        sys.stdout.flush()
    else:
        out = Console()
        if not report.alerts:
            out.print(
                Text(
                    f"ok: no alert over {report.window.name} ({_count(report.requests, 'request')}, "
                    f"{_count(len(report.budgets), 'budget')}, {_count(len(settings.slos), 'SLO')})",
                    style="green",
                )
            )
        if not report.requests and now is None:
            # "ok" over an empty window is true, and from cron it is what a dead log pipeline
            # looks like too: say where the stored requests end (exit code unchanged)
            newest = _newest_request(store)
            if newest is not None and report.after_now.requests == 0:
                out.print(empty_window_hint(newest))
        after = after_now_text(report, wall_clock=now is None)
        if after is not None:
            out.print(after, soft_wrap=True)  # one line, for grep
        moment = parse_rfc3339(report.window.end)
        for alert in report.alerts:
            out.print(alert_text(alert, moment), soft_wrap=True)  # one line each, for grep
        if delivery is not None:
            for line in delivery.lines():
                out.print(Text(strip_control(line), style="dim"), soft_wrap=True)
    if delivery is not None and delivery.failed:
        err = Console(stderr=True)
        for failure in delivery.failures():
            err.print(Text(strip_control(failure), style="bold red"), soft_wrap=True)
        return DELIVERY_FAILED
    return code


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _targets(settings: Settings, urls: Sequence[str]):
    """[[notify]] and the --notify URLs (Slack's body for hooks.slack.com, else JSON)."""
    from urllib.parse import urlsplit

    from console.config import NotifyTarget

    targets = list(settings.notify)
    for url in urls:
        host = urlsplit(url).hostname or ""
        fmt = "slack" if host == "hooks.slack.com" else "json"
        try:
            targets.append(msgspec.convert({"url": url, "format": fmt}, NotifyTarget))
        except msgspec.ValidationError:
            raise UsageError(f"--notify {url!r}: use an http:// or https:// URL") from None
    return targets


def alert_text(alert: Alert, now: float) -> Text:
    """The alert explained (console.analytics.alerts.explain_alert, the alerts screen's text),
    its severity word coloured."""
    text = Text()
    for number, line in enumerate(explain_alert(alert, now)):
        if number == 0:
            text.append(line[:5], style=SEVERITY_STYLES[alert.severity])
            text.append(strip_control(line[5:]) + "\n")
        else:
            text.append(strip_control(line) + "\n")
    return text


# -- backtest --------------------------------------------------------------------------------


def backtest_seconds(text: str) -> float:
    """'7d' -> seconds; a usage error otherwise."""
    import re

    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?[smhd]", text or "") or duration_seconds(text) < MINUTE:
        raise UsageError(f"--backtest {text!r}: use a period such as 7d, 24h or 90m (at least a minute)")
    return duration_seconds(text)


def run_backtest(
    sources: Sequence[str], *, store: Optional[str], since: str, settings: Settings, now: Optional[str],
    as_json: bool, period: str,
) -> int:
    """Every episode of every alert rule over the period before --now; exit 0."""
    window = check_since(since)
    seconds = backtest_seconds(period)
    until = parse_now(now)
    start = until - seconds
    from console.store.minute_series import first_minute, pruned_before, read_minute_series

    opened = open_store(store, missing_hint=None if sources else "give log files, or load them first: llmops-console ingest FILES")
    try:
        if sources:
            _ingest(opened, sources, settings)
        lookback = lookback_seconds(settings, window)
        kept_from = pruned_before(opened)
        note = None
        if kept_from is not None and start - (lookback or 0) < kept_from:
            start = kept_from + (lookback or 0)  # older minutes live on as hours only: not judged
            note = f"the store keeps minute cells from {_moment(kept_from)} on: the backtest starts at {_moment(start)}"
        first = int(start // MINUTE * MINUTE - (lookback or 0))
        if lookback is None:
            first = min(first, first_minute(opened) or first)
        last_end = int(until // MINUTE * MINUTE)
        series = read_minute_series(opened, list(settings.budgets), first, max((last_end - first) // MINUTE, 0))
        newest = opened.newest_ts(1) if now is None else None  # for the hint when the period is empty
    finally:
        opened.close()
    found = backtest(series, settings, window, start, until)
    judged = max(0, (last_end - int(-(-start // MINUTE) * MINUTE)) // MINUTE + 1)
    if as_json:
        body = {
            "since": rfc3339(start), "until": rfc3339(until), "window": window, "minutes_judged": judged, "note": note,
            "episodes": [_episode_json(episode) for episode in found],
        }  # fmt: skip
        sys.stdout.write(json_for_terminal(msgspec.json.encode(body).decode()) + "\n")
        sys.stdout.flush()
        return 0
    out = Console()
    out.print(Text(
        f"backtest {period} ({_moment(start)} → {_moment(until)}), window {window}: {judged:,} minute ends judged "
        f"from the rollup minute cells; {len(found)} episode(s)", style="bold",
    ))  # fmt: skip
    if note:
        out.print(Text(note, style="yellow"))
    for episode in found:
        out.print(episode_text(episode), soft_wrap=True)
    if not found:
        out.print(Text("no rule fired over the period", style="green"))
    if newest is not None and newest < start:  # as check says it: older logs, or a dead pipeline
        out.print(empty_window_hint(newest, lead="no request stored in the period"))
    return 0


def _moment(ts: float) -> str:
    return rfc3339(ts, timespec="seconds").replace("T", " ").replace("Z", " UTC")


def _lasted(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _figure(value: float, unit: str) -> str:
    if value != value:
        return "—"
    if unit == "%":
        return f"{value:.1%}"
    return latency(value) if unit == "ms" else f"{value:,.1f}x"  # 12.59s, as the rule's SLO of 12.00s


def episode_text(episode: Episode) -> Text:
    rule = episode.rule
    line = Text()
    line.append(f"{episode.severity.upper():<5}", style=SEVERITY_STYLES[episode.severity])
    line.append(strip_control(f" {rule.kind:<10} {rule.subject} ({rule.name}) "))
    began = ("before " if episode.started_before else "") + _moment(episode.start)
    if episode.end is None:
        line.append(f"{began} → still firing")
    else:
        line.append(f"{began} → {_moment(episode.end)} ({_lasted(episode.end - episode.start)})")
    line.append(strip_control(f"; peak {rule.figure} {_figure(episode.peak, rule.unit)} at {_moment(episode.peak_at)}"))
    line.append(f"\n  rule: {strip_control(rule.text)}", style="dim")
    return line


def _episode_json(episode: Episode) -> dict:
    rule = episode.rule
    peak = episode.peak if episode.peak == episode.peak else None
    return {
        "kind": rule.kind, "subject": rule.subject, "rule": rule.name, "rule_text": rule.text,
        "severity": episode.severity, "start": rfc3339(episode.start), "started_before": episode.started_before,
        "end": None if episode.end is None else rfc3339(episode.end), "seconds": episode.seconds,
        "peak": peak, "peak_at": rfc3339(episode.peak_at), "figure": rule.figure, "unit": rule.unit,
    }  # fmt: skip
