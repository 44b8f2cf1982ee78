"""Posting each episode's two messages, in order, retried, never dropped.

A run compares the alerts that fire now (at the severities a webhook asked for) with the
episodes open for that webhook (console.notify.state): an alert not yet open gets a 'firing'
message, an open one that no longer fires a 'resolved' one. Then every pending message of the
webhook is posted, oldest first: a refusal that may pass (a connection error, a timeout, 429
or 5xx) is tried again after a pause doubling from `first_s` to `most_s`, up to `tries`
times; another 4xx is not retried within the run. A message still refused stays pending,
and the ones after it wait (a 'resolved' never overtakes its 'firing'): the run reports them
and the next run posts them again.

A run works on a webhook only while it holds the webhook's lease (console.notify.state), so
two checks at once never post a message twice: the second one leaves that webhook to the
first and says so. A run killed while holding it delays its webhook until the lease expires
(one message's worst case: `tries` x (`timeout_s` + `most_s`), plus LEASE_MARGIN_S).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Sequence

from console.analytics.report_types import Alert
from console.config import NotifyTarget
from console.notify import state
from console.notify.messages import alert_key, firing_body, resolved_body

# Module defaults, read when a policy is made (so a test can shorten them for every caller).
TRIES = 3
FIRST_S = 1.0
MOST_S = 8.0
TIMEOUT_S = 10.0
LEASE_MARGIN_S = 30.0
BUSY = "another check is posting to this webhook now; left to it"


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    tries: int = field(default_factory=lambda: TRIES)
    first_s: float = field(default_factory=lambda: FIRST_S)
    most_s: float = field(default_factory=lambda: MOST_S)
    timeout_s: float = field(default_factory=lambda: TIMEOUT_S)

    @property
    def lease_s(self) -> float:
        """How long a run holds a webhook between two posts: one message's worst case, and margin."""
        return self.tries * (self.timeout_s + self.most_s) + LEASE_MARGIN_S


@dataclass(frozen=True)
class Outcome:
    host: str
    event: str
    alert_key: str
    delivered: bool
    attempts: int  # in this run
    error: str | None = None  # why it is still pending


@dataclass
class Delivery:
    outcomes: list[Outcome] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # hosts another run was posting to

    @property
    def failed(self) -> bool:
        return any(not outcome.delivered for outcome in self.outcomes)

    def lines(self) -> list[str]:
        return [
            f"notify {o.host}: {o.event} {o.alert_key} "
            + ("posted" if o.delivered else f"NOT delivered ({o.error}); kept pending, the next check posts it again")
            for o in self.outcomes
        ] + [f"notify {host}: {BUSY}" for host in self.busy]

    def failures(self) -> list[str]:
        return [line for line, o in zip(self.lines(), self.outcomes) if not o.delivered]

    def as_json(self) -> list[dict]:
        return [
            {"host": o.host, "event": o.event, "alert_key": o.alert_key, "delivered": o.delivered, "attempts": o.attempts,
             "error": o.error}
            for o in self.outcomes
        ] + [{"host": host, "busy": BUSY} for host in self.busy]  # fmt: skip


def deliver_alerts(
    store, targets: Sequence[NotifyTarget], alerts: Sequence[Alert], now: float, policy: DeliveryPolicy | None = None
) -> Delivery:
    """Record the episodes that started or ended since the last run and post every pending
    message; `now` is the moment check judged (its --now)."""
    policy = policy or DeliveryPolicy()
    state.ensure_table(store.engine)
    delivery = Delivery()
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    for target in targets:
        tid, host = state.target_id(target.url), state.target_host(target.url)
        if not state.take_lease(store.engine, tid, holder, policy.lease_s):
            delivery.busy.append(host)
            continue
        try:
            _deliver_to(store, target, tid, host, alerts, now, policy, holder, delivery)
        finally:
            state.release_lease(store.engine, tid, holder)
    return delivery


def _deliver_to(store, target: NotifyTarget, tid: str, host: str, alerts: Sequence[Alert], now: float,
                policy: DeliveryPolicy, holder: str, delivery: Delivery) -> None:
    """One webhook, while this run holds its lease: open and close its episodes, post its queue."""
    firing: dict[str, Alert] = {}
    for alert in alerts:  # pages come first: an alert's worst severity is the one kept
        if alert.severity in target.severities:
            firing.setdefault(alert_key(alert), alert)
    with store.engine.begin() as conn:
        opened = state.open_episodes(conn, tid)
        for key, alert in firing.items():
            if key not in opened:
                state.add(conn, tid, host, key, "firing", alert.severity, now, firing_body(alert, now, target.format))
        for key, notice in opened.items():
            if key not in firing:
                body = resolved_body(key, notice.severity, notice.at, now, target.format)
                state.add(conn, tid, host, key, "resolved", notice.severity, now, body)
    with store.engine.connect() as conn:
        queue = state.pending(conn, tid)
    blocked: str | None = None
    for notice in queue:
        if blocked is not None:
            delivery.outcomes.append(Outcome(host, notice.event, notice.alert_key, False, 0, f"waits for an earlier message: {blocked}"))
            continue
        if not state.take_lease(store.engine, tid, holder, policy.lease_s):  # renewed for this post
            blocked = "this run lost the webhook's lease to another check"
            delivery.outcomes.append(Outcome(host, notice.event, notice.alert_key, False, 0, blocked))
            continue
        error, tries = post(target.url, notice.body, policy)
        with store.engine.begin() as conn:
            state.mark(conn, notice.id, delivered=None if error else time.time(), attempts=notice.attempts + tries, error=error)
        delivery.outcomes.append(Outcome(host, notice.event, notice.alert_key, error is None, tries, error))
        if error is not None:
            blocked = error


def post(url: str, body: str, policy: DeliveryPolicy) -> tuple[str | None, int]:
    """(None, tries) once the webhook answers 2xx; (why not, tries) when it still refuses."""
    pause = policy.first_s
    error = "not tried"
    for attempt in range(1, policy.tries + 1):
        request = urllib.request.Request(
            url, data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "llmops-console"},
        )  # fmt: skip
        retry_after = None
        try:
            with urllib.request.urlopen(request, timeout=policy.timeout_s) as answer:
                answer.read()
            return None, attempt
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code} {exc.reason}"
            if exc.code != 429 and exc.code < 500:
                return error, attempt  # the webhook rejects this body or URL: retrying now will not help
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            error = f"cannot reach it: {reason}"
        if attempt < policy.tries:
            time.sleep(min(_seconds(retry_after, pause), policy.most_s))
            pause = min(pause * 2, policy.most_s)
    return f"{error} after {policy.tries} tries", policy.tries


def _seconds(retry_after: str | None, default: float) -> float:
    try:
        return max(float(retry_after), 0.0) if retry_after else default
    except ValueError:
        return default
