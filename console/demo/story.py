"""Acme Helpdesk: a seeded, reproducible story told as request-log records (schema v1).

Acme's support chat runs three prompts (support-answer, ticket-classifier, summarize-thread)
on five models from two providers. `generate_history` writes days of past traffic in which an
on-call engineer can find a latency incident, a bad prompt rollout, a cost spike and a prompt
that drifted; `LiveStory` replays those incidents every few minutes for the live demo;
`simulate` appends live records to a JSONL file the way a running app would.
Standard library only: the demo must run before anything else is installed.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from console.demo import texts

DEFAULT_END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
SPIKE_USER_ID = "u_9f3e07"  # the customer who pastes whole log exports into the chat
INCIDENT_MODEL = "claude-sonnet-4-5"
REQUEST_TIMEOUT_MS = 30_000  # the app's client timeout
NEW_APP_VERSION, OLD_APP_VERSION = "2.15.0", "2.14.2"  # release 2.15.0 ships support-answer v8


@dataclass(frozen=True)
class Model:
    name: str
    provider: str
    response_model: str
    usd_per_mtok_input: float
    usd_per_mtok_cached: float
    usd_per_mtok_output: float
    ttft_ms: float  # median time to first token, small prompt
    tokens_per_s: float  # median decode speed
    reasoning: bool = False


# USD per million tokens: the list prices genai-prices has for these names (checked against it).
MODELS = {m.name: m for m in (
    Model("claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5-20250929", 3.0, 0.30, 15.0, 650, 75),
    Model("claude-haiku-4-5", "anthropic", "claude-haiku-4-5-20251001", 1.0, 0.10, 5.0, 380, 150),
    Model("gpt-4o", "openai", "gpt-4o-2024-08-06", 2.5, 1.25, 10.0, 450, 85),
    Model("gpt-4o-mini", "openai", "gpt-4o-mini-2024-07-18", 0.15, 0.075, 0.6, 350, 110),
    Model("o3-mini", "openai", "o3-mini-2025-01-31", 1.1, 0.55, 4.4, 500, 160, reasoning=True),
)}
PROMPT_MIX = (("support-answer", 60), ("ticket-classifier", 25), ("summarize-thread", 15))
ROUTES = {  # models serving each prompt, with traffic weights
    "support-answer": (("claude-sonnet-4-5", 75), ("gpt-4o", 25)),
    "ticket-classifier": (("gpt-4o-mini", 80), ("claude-haiku-4-5", 20)),
    "summarize-thread": (("gpt-4o-mini", 45), ("o3-mini", 35), ("claude-haiku-4-5", 20)),
}
SYSTEM_TOKENS = {"v6": 1450, "v7": 1720, "v8": 2310, "v3": 1180, "v4": 1010, "v1": 420, "v2": 480}
MAX_TOKENS = {"v6": 600, "v7": 600, "v8": 400}  # v8 also lowered max_tokens: more truncation
# support-answer outcomes per version: answer, refusal, truncated, tool call, content filter.
OUTCOMES = ("answer", "refusal", "length", "tool_calls", "content_filter")
OUTCOME_WEIGHTS = {"v6": (90.8, 1.5, 1.5, 6, 0.2), "v7": (92.0, 1.0, 0.8, 6, 0.2), "v8": (78.8, 9, 7, 5, 0.2)}
BASE_ERRORS = (("RateLimitError", 0.0075), ("InternalServerError", 0.0065), ("APIConnectionError", 0.003),
               ("APITimeoutError", 0.0015), ("BadRequestError", 0.0007))
STALL_PROBABILITY = 0.06  # during the latency incident some streams hang until the client timeout
# Chance that a thumbs vote is a thumbs down: refusals and cut-off answers are hated.
THUMBS_DOWN_BY_OUTCOME = {"refusal": 0.8, "length": 0.65}
THUMBS_DOWN_BY_VERSION = {"v6": 0.15, "v7": 0.12, "v8": 0.2}
CONTEXT_LIMIT = {"openai": 128_000, "anthropic": 200_000}  # quoted by "prompt too long" errors
REGIONS = (("eu-west-1", 45), ("us-east-1", 45), ("ap-southeast-2", 10))
TENANTS = ("globex", "initech", "hooli", "umbrella", "wonka", "tyrell", "soylent", "cyberdyne", "stark", "acme-eu")

# When things happen, in minutes after the start of the default 4-day history; other lengths
# scale these so the whole story always fits.
STORY_MINUTES = {
    "summarize_v2_rollout": 15 * 60, "v8_staging": 22 * 60,
    "latency_incident_start": 26 * 60 + 5, "latency_incident_end": 28 * 60 + 15,
    "v8_canary": 45 * 60 + 30, "v8_half": 47 * 60, "v8_full": 49 * 60,
    "cost_spike_start": 61 * 60 + 40, "cost_spike_end": 62 * 60 + 45,
    "prompt_drift_start": 80 * 60 + 40,
}
SPIKE_EXTRA_TRAFFIC = 1.0  # the spike user's request rate, relative to the mean total rate

# The live demo's 3-minute cycle, in seconds: (start, end) of each incident.
LIVE_CYCLE_S = 180
LIVE_PHASES = {"latency_incident": (20, 60), "v8_release": (75, 150), "cost_spike": (110, 140),
               "prompt_drift": (90, 180)}


@dataclass(frozen=True)
class Conditions:
    """What is true of the world at one instant of the story."""

    new_release_share: float = 0.0  # share of production servers on 2.15.0 (support-answer v8)
    staging_release: bool = True  # staging runs the 2.15.0 release candidate
    summarize_version: str = "v2"
    slow_model: str | None = None  # the model in a latency incident
    spike_share: float = 0.0  # chance that a request comes from the spike user
    drifted: bool = False  # summarize-thread v2 hot-edited in eu-west-1


@dataclass
class User:
    user_id: str
    region: str
    plan: str
    channel: str  # web and mobile chat, or email (answered by the older v6 prompt)
    tenant: str
    session_id: str = ""
    last_ms: int = -(10**15)
    turn: int = 0


def price_usd(model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
    m = MODELS[model]
    fresh = input_tokens - cached_input_tokens
    usd = fresh * m.usd_per_mtok_input + cached_input_tokens * m.usd_per_mtok_cached
    return round((usd + output_tokens * m.usd_per_mtok_output) / 1e6, 8)


def prompt_hash(prompt_id: str, version: str, drifted: bool = False) -> str:
    table = texts.DRIFTED_TEMPLATES if drifted else texts.PROMPT_TEMPLATES
    return hashlib.sha256(table[(prompt_id, version)].encode()).hexdigest()[:12]


def format_ts(ms: int) -> str:
    """RFC 3339, UTC, milliseconds, 'Z'."""
    second = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return second.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _to_ms(moment: datetime) -> int:
    return math.floor(_utc(moment).timestamp() * 1000)


def _pick(rng: random.Random, weighted: tuple) -> str:
    return rng.choices([name for name, _ in weighted], [w for _, w in weighted])[0]


class _Teller:
    """Turns (time, conditions) into one record; the seeded RNG makes it reproducible."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        users_rng = random.Random(f"acme-users-{seed}")  # same customers whatever n is
        self.users: list[User] = []
        while len(self.users) < 900:
            user_id = f"u_{users_rng.getrandbits(24):06x}"
            if user_id != SPIKE_USER_ID:
                self.users.append(User(user_id, _pick(users_rng, REGIONS), users_rng.choice(texts.PLANS),
                                       _pick(users_rng, (("web", 60), ("mobile", 30), ("email", 10))),
                                       users_rng.choice(TENANTS)))
        # A few customers write most of the chats (Zipf-like).
        self.user_cum = list(_accumulate(1 / rank**0.8 for rank in range(1, len(self.users) + 1)))
        self.spike_user = User(SPIKE_USER_ID, "us-east-1", "Business", "web", "globex")

    def _pick_user(self) -> User:
        return self.users[bisect_left(self.user_cum, self.rng.random() * self.user_cum[-1])]

    def _hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def _start_turn(self, user: User, ms: int) -> None:
        if ms - user.last_ms > 30 * 60_000 or self.rng.random() < 0.1:
            user.session_id, user.turn = "s_" + self._hex(12), 0
        user.turn += 1
        user.last_ms = ms

    def record(self, ms: int, cond: Conditions) -> dict:
        rng = self.rng
        spike = rng.random() < cond.spike_share
        user = self.spike_user if spike else self._pick_user()
        self._start_turn(user, ms)
        env = "staging" if rng.random() < 0.035 else "production"
        if env == "staging":
            new_release = cond.staging_release
            app_version = "2.15.0-rc.2" if new_release else OLD_APP_VERSION
        else:
            new_release = rng.random() < cond.new_release_share
            app_version = NEW_APP_VERSION if new_release else OLD_APP_VERSION
        prompt_id = "support-answer" if spike else _pick(rng, PROMPT_MIX)
        ex = texts.exchange(rng, user.region)
        build = {"support-answer": self._support, "ticket-classifier": self._classifier,
                 "summarize-thread": self._summarizer}[prompt_id]
        call = build(user, new_release, ex, cond, spike)
        return self._finish(ms, user, env, app_version, prompt_id, call, cond, spike)

    def _cached(self, model: str, system_tokens: int, warm: bool) -> int:
        if not warm or system_tokens < 1024:
            return 0
        # OpenAI caches whole 128-token blocks; Anthropic caches the marked system prefix.
        return system_tokens // 128 * 128 if MODELS[model].provider == "openai" else system_tokens

    def _support(self, user, new_release, ex, cond, spike) -> dict:
        rng = self.rng
        version = "v6" if user.channel == "email" else "v8" if new_release else "v7"
        model = INCIDENT_MODEL if spike else _pick(rng, ROUTES["support-answer"])
        system = SYSTEM_TOKENS[version]
        if spike:
            input_tokens = rng.randint(36_000, 44_000)
            question = texts.huge_paste(rng, input_tokens * 4)
        else:
            question = ex.question
            if rng.random() < 0.002:
                question = texts.paste_with_ansi(question)
            context = int(rng.lognormvariate(math.log(520), 0.5))
            input_tokens = system + (user.turn - 1) * rng.randint(120, 260) + context + len(question) // 4
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS[version])[0]
        if outcome == "answer":
            output = texts.answer(rng, ex)
            output_tokens = min(MAX_TOKENS[version] - 1, 25 + int(rng.lognormvariate(math.log(170), 0.45)))
        elif outcome == "length":
            output, output_tokens = texts.truncated_answer(rng, ex), MAX_TOKENS[version]
        elif outcome == "refusal":
            output, output_tokens = texts.refusal(rng), rng.randint(10, 30)
        elif outcome == "tool_calls":
            output, output_tokens = texts.tool_call(ex), rng.randint(18, 45)
        else:
            output, output_tokens = "", rng.randint(0, 5)
        return {"version": version, "model": model, "input": question, "output": output,
                "input_tokens": input_tokens, "output_tokens": output_tokens, "outcome": outcome,
                "cached": self._cached(model, system, user.turn > 1 or rng.random() < 0.6),
                "finish_reason": "stop" if outcome in ("answer", "refusal") else outcome, "streaming": True}

    def _classifier(self, user, new_release, ex, cond, spike) -> dict:
        rng = self.rng
        variant = "A" if int(user.user_id[2:], 16) % 2 == 0 else "B"  # A/B arm fixed per user
        version = "v3" if variant == "A" else "v4"
        model = _pick(rng, ROUTES["ticket-classifier"])
        ticket = ex.question
        valid = rng.random() >= (0.04 if version == "v3" else 0.01)
        output = texts.classification(rng, ex, version, valid)
        return {"version": version, "model": model, "input": ticket, "output": output, "variant": variant,
                "input_tokens": SYSTEM_TOKENS[version] + len(ticket) // 4 + rng.randint(20, 60),
                "output_tokens": len(output) // 3 + rng.randint(0, 6), "outcome": "answer",
                "cached": self._cached(model, SYSTEM_TOKENS[version], rng.random() < 0.6),
                "finish_reason": "stop", "streaming": False}

    def _summarizer(self, user, new_release, ex, cond, spike) -> dict:
        rng = self.rng
        version = cond.summarize_version
        model = _pick(rng, ROUTES["summarize-thread"])
        thread, messages = texts.thread(rng, ex)
        reasoning = 64 * int(rng.lognormvariate(math.log(11), 0.6)) if MODELS[model].reasoning else 0
        return {"version": version, "model": model, "input": thread,
                "output": texts.summary(rng, ex, messages), "reasoning": reasoning,
                "drifted": version == "v2" and cond.drifted and user.region == "eu-west-1",
                "input_tokens": SYSTEM_TOKENS[version] + messages * int(rng.lognormvariate(math.log(260), 0.4)),
                "output_tokens": reasoning + int(rng.lognormvariate(math.log(150), 0.35)), "outcome": "answer",
                "cached": 0, "finish_reason": "stop", "streaming": False}

    def _error(self, slow: bool, spike: bool) -> str | None:
        rng = self.rng
        extra = (("InternalServerError", 0.04),) if slow else ()  # the provider sheds load
        extra += (("RateLimitError", 0.06), ("BadRequestError", 0.01)) if spike else ()
        for error_type, probability in BASE_ERRORS + extra:
            if rng.random() < probability:
                return error_type
        return None

    def _latency(self, model: Model, call: dict, slow: bool) -> tuple[float, float]:
        """(ttft_ms, latency_ms): queueing + prefill, hidden reasoning, then visible tokens."""
        rng = self.rng
        ttft = model.ttft_ms * rng.lognormvariate(0, 0.35) + call["input_tokens"] / 30
        tokens_per_s = model.tokens_per_s * rng.lognormvariate(0, 0.2)
        if slow:
            ttft *= rng.lognormvariate(math.log(3.5), 0.7)
            tokens_per_s *= 0.6
            if rng.random() < STALL_PROBABILITY:
                ttft += REQUEST_TIMEOUT_MS
        reasoning = call.get("reasoning", 0)
        ttft += reasoning / tokens_per_s * 1000
        visible = call["output_tokens"] - reasoning
        return ttft, ttft + visible / tokens_per_s * 1000 + rng.uniform(15, 60)

    def _finish(self, ms, user, env, app_version, prompt_id, call, cond, spike) -> dict:
        rng = self.rng
        model = MODELS[call["model"]]
        slow = cond.slow_model == model.name
        ttft, latency = self._latency(model, call, slow)
        error_type = self._error(slow, spike)
        if error_type is None and latency > REQUEST_TIMEOUT_MS:
            error_type = "APITimeoutError"
        rec = {"ts": format_ts(ms), "request_id": "req_" + self._hex(20), "model": model.name,
               "provider": model.provider, "prompt_id": prompt_id, "prompt_version": call["version"],
               "prompt_hash": prompt_hash(prompt_id, call["version"], call.get("drifted", False))}
        if "variant" in call:
            rec["variant"] = call["variant"]
        if error_type:
            low, high = texts.ERRORS[model.provider][error_type][1]
            too_long = error_type == "BadRequestError"  # a pasted document overflowed the context
            tokens = call["input_tokens"] + (CONTEXT_LIMIT[model.provider] if too_long else 0)
            rec.update(input_tokens=0, output_tokens=0, latency_ms=round(rng.uniform(low, high), 1),
                       status="error", error_type=error_type,
                       error_message=texts.error_message(model.provider, error_type, model.name, tokens))
        else:
            rec.update(input_tokens=call["input_tokens"], output_tokens=call["output_tokens"])
            if call["cached"]:
                rec["cached_input_tokens"] = call["cached"]
            if call.get("reasoning"):
                rec["reasoning_tokens"] = call["reasoning"]
            rec.update(latency_ms=round(latency, 1), status="ok")
            if call["streaming"]:
                rec["ttft_ms"] = round(ttft)
            rec["finish_reason"] = call["finish_reason"]
            if rng.random() < 0.5:  # the other half is priced by the console at ingest
                rec["cost_usd"] = price_usd(model.name, call["input_tokens"], call["output_tokens"],
                                            call["cached"])
            if rng.random() < 0.85:
                rec["response_model"] = model.response_model
        rec.update(environment=env, user_id=user.user_id, session_id=user.session_id, trace_id=self._hex(32))
        feedback = self._feedback(prompt_id, call, user, latency) if not error_type else None
        if feedback is not None:
            rec["feedback"] = feedback
        rec["input"] = call["input"]
        if not error_type:
            hostile = call["output"] and rng.random() < 0.005
            rec["output"] = texts.make_hostile(rng, call["output"]) if hostile else call["output"]
        tags = {"support-answer": "chat", "ticket-classifier": "triage", "summarize-thread": "handoff"}
        rec["tags"] = [tags[prompt_id], user.channel] + (["vip"] if user.plan == "Enterprise" else [])
        rec["metadata"] = {"region": user.region, "app_version": app_version}
        if user.region == "eu-west-1":  # the EU deployment adds a key the schema does not know
            rec["tenant"] = user.tenant
        if rng.random() < 0.02:
            rec["retry_attempt"] = 1
        return rec

    def _feedback(self, prompt_id, call, user, latency):
        """Thumbs from the chat widget; the mobile app sends "up"/"down" strings."""
        if prompt_id != "support-answer" or user.channel == "email" or call["outcome"] == "tool_calls":
            return None
        if self.rng.random() >= 0.16:
            return None
        bad = THUMBS_DOWN_BY_OUTCOME.get(call["outcome"], THUMBS_DOWN_BY_VERSION[call["version"]])
        bad += 0.25 if latency > 10_000 else 0.0  # slow answers annoy people too
        negative = self.rng.random() < bad
        if user.channel == "mobile":
            return "down" if negative else "up"
        return -1 if negative else 1


def _accumulate(values) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def history_events(end: datetime | None = None, days: float = 4.0) -> dict[str, datetime]:
    """The story's turning points for a history ending at `end` (see sample_logs/README.md)."""
    end = _utc(end or DEFAULT_END)
    start = end - timedelta(days=days)
    return {name: start + timedelta(minutes=minutes * days / 4.0) for name, minutes in STORY_MINUTES.items()}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _diurnal(ms: float) -> float:
    """Relative traffic: busiest at 15:00 UTC when Europe and America overlap."""
    hour = ms / 3_600_000 % 24
    return 1.0 + 0.75 * math.cos(2 * math.pi * (hour - 15) / 24)


def _history_conditions(ms: int, ev: dict[str, int]) -> Conditions:
    rollout = (("v8_full", 1.0), ("v8_half", 0.5), ("v8_canary", 0.1))
    share = next((share for key, share in rollout if ms >= ev[key]), 0.0)
    in_spike = ev["cost_spike_start"] <= ms < ev["cost_spike_end"]
    return Conditions(
        new_release_share=share,
        staging_release=ms >= ev["v8_staging"],
        summarize_version="v2" if ms >= ev["summarize_v2_rollout"] else "v1",
        slow_model=INCIDENT_MODEL if ev["latency_incident_start"] <= ms < ev["latency_incident_end"] else None,
        spike_share=SPIKE_EXTRA_TRAFFIC / (_diurnal(ms) + SPIKE_EXTRA_TRAFFIC) if in_spike else 0.0,
        drifted=ms >= ev["prompt_drift_start"],
    )


def _timestamps(rng: random.Random, n: int, start_ms: int, end_ms: int, ev: dict[str, int]) -> list[int]:
    """n sorted times drawn from the diurnal traffic curve plus the spike user's burst."""
    bucket_ms = 60_000
    edges = list(range(start_ms, end_ms, bucket_ms)) + [end_ms]
    weights = []
    for lo, hi in zip(edges, edges[1:]):
        rate = _diurnal((lo + hi) / 2)
        if ev["cost_spike_start"] <= lo < ev["cost_spike_end"]:
            rate += SPIKE_EXTRA_TRAFFIC
        weights.append(rate * (hi - lo))
    cum = list(_accumulate(weights))
    stamps = []
    for u in sorted(rng.random() for _ in range(n)):
        x = u * cum[-1]
        i = min(bisect_left(cum, x), len(cum) - 1)
        below = cum[i - 1] if i else 0.0
        fraction = (x - below) / (cum[i] - below)
        stamps.append(min(end_ms - 1, math.floor(edges[i] + fraction * (edges[i + 1] - edges[i]))))
    return stamps


def generate_history(n: int = 10_000, *, seed: int = 7, end: datetime | None = None,
                     days: float = 4.0) -> Iterator[dict]:
    """n records in ts order spanning `days` days that end at `end`, with the story in them."""
    if days <= 0 or n < 0:
        raise ValueError("days must be positive and n non-negative")
    events = history_events(end, days)
    ev = {name: _to_ms(moment) for name, moment in events.items()}
    end_ms = _to_ms(end or DEFAULT_END)
    teller = _Teller(seed)
    for ms in _timestamps(teller.rng, n, end_ms - round(days * 86_400_000), end_ms, ev):
        yield teller.record(ms, _history_conditions(ms, ev))


class LiveStory:
    """The story on a 3-minute loop for the live demo (phases in LIVE_PHASES, seconds):
    a latency incident on claude-sonnet-4-5, release 2.15.0 with support-answer v8 rolled out
    then rolled back, a cost spike from one user, and summarize-thread v2 drifting."""

    def __init__(self, seed: int = 11, start: datetime | None = None):
        self._teller = _Teller(seed)
        self.start = _utc(start) if start else None

    def phase(self, now: datetime) -> float:
        """Seconds into the current cycle."""
        if self.start is None:
            self.start = _utc(now)
        return (_utc(now) - self.start).total_seconds() % LIVE_CYCLE_S

    def conditions(self, now: datetime) -> Conditions:
        t = self.phase(now)
        active = {name for name, (lo, hi) in LIVE_PHASES.items() if lo <= t < hi}
        return Conditions(
            new_release_share=1.0 if "v8_release" in active else 0.0,
            slow_model=INCIDENT_MODEL if "latency_incident" in active else None,
            spike_share=0.3 if "cost_spike" in active else 0.0,
            drifted="prompt_drift" in active,
        )

    def next_record(self, now: datetime) -> dict:
        return self._teller.record(_to_ms(now), self.conditions(now))


def dumps(record: dict) -> str:
    """One JSONL line, byte-for-byte reproducible."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def simulate(path: str | Path, rate: float = 20.0, stop: threading.Event | None = None, seed: int = 11) -> None:
    """Append live records to `path` at about `rate` lines/s until `stop` is set."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    stop = stop or threading.Event()
    story = LiveStory(seed=seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tick = min(0.2, max(0.01, 1.0 / rate))  # small batches: a tail sees a steady stream
    started, written = time.monotonic(), 0
    with path.open("a", encoding="utf-8") as out:
        while not stop.is_set():
            due = int(rate * (time.monotonic() - started)) + 1 - written
            if due > 2 * rate + 1:  # after a suspend, do not flood: skip what was missed
                started, written, due = time.monotonic(), 0, 1
            if due > 0:
                lines = [dumps(story.next_record(datetime.now(timezone.utc))) + "\n" for _ in range(due)]
                out.write("".join(lines))
                out.flush()
                written += due
            stop.wait(tick)
