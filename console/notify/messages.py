"""What is posted: Slack's incoming-webhook body (`text`, the notification's fallback, and
`blocks`, what the channel shows) or the alert as JSON.

Alert texts carry names from the logs (models, prompts, users): control characters are
stripped, and in Slack's mrkdwn `&`, `<` and `>` are escaped as Slack asks, so a logged name
cannot ping a channel (`<!channel>`) or make a link.
"""

from __future__ import annotations

import json

from console.analytics.alerts import look_text
from console.analytics.report_types import Alert
from console.formatting import rfc3339
from console.sanitize import strip_control

SOURCE = "llmops-console"
_EMOJI = {"page": ":rotating_light:", "warn": ":warning:"}


def alert_key(alert: Alert) -> str:
    return f"{alert.kind}:{alert.subject}"


def _mrkdwn(text: str) -> str:
    return strip_control(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _moment(ts: float) -> str:
    return rfc3339(ts, timespec="seconds").replace("T", " ").replace("Z", " UTC")


def _lasted(seconds: float) -> str:
    minutes = max(seconds, 0) / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def firing_body(alert: Alert, at: float, fmt: str) -> str:
    since = alert.since or rfc3339(at, timespec="seconds")
    if fmt == "json":
        return json.dumps({
            "source": SOURCE, "event": "firing", "alert_key": alert_key(alert), "kind": alert.kind,
            "severity": alert.severity, "subject": strip_control(alert.subject), "message": strip_control(alert.message),
            "rule": strip_control(alert.rule), "figures": [strip_control(f) for f in alert.figures], "since": since,
            "look": strip_control(look_text(alert.target)), "at": rfc3339(at, timespec="seconds"),
        }, ensure_ascii=False)  # fmt: skip
    headline = f"{alert.severity.upper()} {alert.kind}: {strip_control(alert.message)}"
    details = [f"*rule:* {_mrkdwn(alert.rule)}"] if alert.rule else []
    if alert.figures:
        details.append("*now:* " + " · ".join(_mrkdwn(figure) for figure in alert.figures))
    details.append(f"*since:* {'before ' if alert.since_capped else ''}{_moment_text(since)} · *look:* {_mrkdwn(look_text(alert.target))}")
    return json.dumps({
        "text": _mrkdwn(headline)[:3000],
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": f"{_EMOJI[alert.severity]} *{alert.severity.upper()}* {alert.kind}: {_mrkdwn(alert.message)}"[:3000]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": line[:3000]} for line in details]},
        ],
    }, ensure_ascii=False)  # fmt: skip


def _moment_text(since: str) -> str:
    return since.replace("T", " ").replace("Z", " UTC")


def resolved_body(key: str, severity: str, started: float, at: float, fmt: str) -> str:
    kind, _, subject = key.partition(":")
    if fmt == "json":
        return json.dumps({
            "source": SOURCE, "event": "resolved", "alert_key": key, "kind": kind, "severity": severity,
            "subject": strip_control(subject), "started": rfc3339(started, timespec="seconds"),
            "at": rfc3339(at, timespec="seconds"), "seconds": at - started,
        }, ensure_ascii=False)  # fmt: skip
    text = (f"RESOLVED {kind} {strip_control(subject)}: the {severity} alert posted at {_moment(started)} "
            f"no longer fires ({_moment(at)}, {_lasted(at - started)} after)")  # fmt: skip
    return json.dumps({
        "text": _mrkdwn(text),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":white_check_mark: *RESOLVED* {_mrkdwn(text[9:])}"}}],
    }, ensure_ascii=False)  # fmt: skip
