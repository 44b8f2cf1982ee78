"""Acme Helpdesk: a seeded, reproducible story told as request-log records (schema v1).

Acme's support chat runs three prompts (support-answer, ticket-classifier, summarize-thread)
on five models from two providers. `generate_history` writes days of past traffic in which an
on-call engineer can find a latency incident, a bad prompt rollout, a cost spike and a prompt
that drifted (when they happen is in console.demo.incidents); `LiveStory` replays those
incidents every few minutes for the live demo; `simulate` appends live records to a JSONL
file the way a running app would.
Standard library only: the demo must run before anything else is installed.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Iterator

from console.demo import texts
from console.demo.incidents import (  # noqa: F401  (re-exported: the story's public names)
    DEFAULT_END, INCIDENT_MODEL, LIVE_CYCLE_S, REQUEST_TIMEOUT_MS, SPIKE_USER_ID, Conditions, history_conditions,
    history_events, in_spike, live_conditions, pick_error, timestamps, timing, to_ms, utc,
)


@dataclass(frozen=True)
class Model:
    name: str
    provider: str
    usd_per_mtok_input: float
    usd_per_mtok_cached: float
    usd_per_mtok_output: float
    ttft_ms: float  # median time to first token, small prompt
    tokens_per_s: float  # median decode speed
    reasoning: bool = False


# USD per million tokens: the list prices genai-prices has for these names (checked against it).
MODELS = {m.name: m for m in (
    Model("claude-sonnet-4-5", "anthropic", 3.0, 0.30, 15.0, 650, 75),
    Model("claude-haiku-4-5", "anthropic", 1.0, 0.10, 5.0, 380, 150),
    Model("gpt-4o", "openai", 2.5, 1.25, 10.0, 450, 85),
    Model("gpt-4o-mini", "openai", 0.15, 0.075, 0.6, 350, 110),
    Model("o3-mini", "openai", 1.1, 0.55, 4.4, 500, 160, reasoning=True),
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
# Chance that a thumbs vote is a thumbs down: refusals and cut-off answers are hated.
THUMBS_DOWN_BY_OUTCOME = {"refusal": 0.8, "length": 0.65}
THUMBS_DOWN_BY_VERSION = {"v6": 0.15, "v7": 0.12, "v8": 0.2}
CONTEXT_LIMIT = {"openai": 128_000, "anthropic": 200_000}  # quoted by "prompt too long" errors
REGIONS = (("eu-west-1", 45), ("us-east-1", 45), ("ap-southeast-2", 10))
CHANNELS = (("web", 60), ("mobile", 30), ("email", 10))
# What the app's logger adds to the core fields. Every service logs prompt_hash, user_id and its
# deployment's `region` (a key outside the schema: the console keeps it in metadata);
# finish_reason only when it is not "stop"; `environment` only on staging (production never set
# it). The rest depends on the service, as in a real app whose services grew their logging
# separately:
# - the chat server (support-answer) streams, so it logs ttft_ms, but streamed responses carry
#   no cached-token count; it also logs session_id and the user's feedback;
# - the triage worker (ticket-classifier) logs the A/B `variant` and cached_input_tokens;
# - the handoff worker (summarize-thread) logs cost_usd and reasoning_tokens.
# The tracer samples 5% of requests (trace_id). Tags mark email and Enterprise ("vip") chats.
TRACE_SAMPLE, STAGING_SHARE = 0.05, 0.035
# Chats have several turns: this share of chat requests follows up in a chat that is still open.
FOLLOW_UP_SHARE, OPEN_CHAT_MS, MAX_TURNS = 0.55, 10 * 60_000, 10


@dataclass
class User:
    user_id: str
    region: str
    plan: str
    channel: str  # web and mobile chat, or email (answered by the older v6 prompt)
    session_id: str = ""
    last_ms: int = -(10**15)
    turn: int = 0
    chat: texts.Exchange | None = None  # the chat's latest exchange, for follow-ups
    chat_ms: int = -(10**15)


def price_usd(model: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
    m = MODELS[model]
    fresh = input_tokens - cached_input_tokens
    usd = fresh * m.usd_per_mtok_input + cached_input_tokens * m.usd_per_mtok_cached
    return round((usd + output_tokens * m.usd_per_mtok_output) / 1e6, 10)


@lru_cache(maxsize=None)
def prompt_hash(prompt_id: str, version: str, drifted: bool = False) -> str:
    table = texts.DRIFTED_TEMPLATES if drifted else texts.PROMPT_TEMPLATES
    return hashlib.sha256(table[(prompt_id, version)].encode()).hexdigest()[:12]


@lru_cache(maxsize=4096)
def _minute_prefix(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:")


def format_ts(ms: int) -> str:
    """RFC 3339, UTC, milliseconds, 'Z'."""
    minute, rest = divmod(ms, 60_000)
    return f"{_minute_prefix(minute)}{rest // 1000:02d}.{rest % 1000:03d}Z"


class _Weighted:
    """A weighted choice with the cumulative weights computed once."""

    def __init__(self, weighted: tuple):
        self.names = [name for name, _ in weighted]
        self.cum = list(accumulate(w for _, w in weighted))

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.names, cum_weights=self.cum)[0]


_MIX, _REGIONS, _CHANNELS = _Weighted(PROMPT_MIX), _Weighted(REGIONS), _Weighted(CHANNELS)
_ROUTES = {prompt_id: _Weighted(route) for prompt_id, route in ROUTES.items()}


class _Teller:
    """Turns (time, conditions) into one record; the seeded RNG makes it reproducible."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        users_rng = random.Random(f"acme-users-{seed}")  # same customers whatever n is
        self.users: list[User] = []
        while len(self.users) < 900:
            user_id = f"u_{users_rng.getrandbits(24):06x}"
            if user_id != SPIKE_USER_ID:
                self.users.append(User(user_id, _REGIONS.pick(users_rng), users_rng.choice(texts.PLANS),
                                       _CHANNELS.pick(users_rng)))
        # A few customers write most of the chats (Zipf-like).
        self.user_cum = list(accumulate(1 / rank**0.8 for rank in range(1, len(self.users) + 1)))
        self.spike_user = User(SPIKE_USER_ID, "us-east-1", "Business", "web")
        self.chatting: deque[User] = deque(maxlen=40)  # who chatted lately, newest last

    def _pick_user(self) -> User:
        return self.users[bisect_left(self.user_cum, self.rng.random() * self.user_cum[-1])]

    def _hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def _open_chat(self, ms: int) -> User | None:
        open_chats = [u for u in self.chatting if ms - u.chat_ms < OPEN_CHAT_MS and u.turn < MAX_TURNS]
        return self.rng.choice(open_chats) if open_chats else None

    def _start_turn(self, user: User, ms: int, follow_up: bool) -> None:
        idle = ms - user.last_ms > 30 * 60_000
        if not follow_up and (idle or user.turn >= MAX_TURNS or self.rng.random() < 0.1):
            user.session_id, user.turn = "s_" + self._hex(8), 0
        user.turn += 1
        user.last_ms = ms

    def record(self, ms: int, cond: Conditions) -> dict:
        rng = self.rng
        spike = rng.random() < cond.spike_share
        prompt_id = "support-answer" if spike else _MIX.pick(rng)
        chat = prompt_id == "support-answer" and not spike
        following = self._open_chat(ms) if chat and rng.random() < FOLLOW_UP_SHARE else None
        user = self.spike_user if spike else following or self._pick_user()
        if prompt_id == "support-answer":
            self._start_turn(user, ms, following is not None)
        if rng.random() < STAGING_SHARE:
            env, new_release = "staging", cond.staging_release
        else:
            env, new_release = "production", rng.random() < cond.new_release_share
        ex = texts.follow_up(rng, user.chat) if following else texts.exchange(rng, user.region)
        if chat:
            user.chat, user.chat_ms = ex, ms
            self.chatting.append(user)
        if prompt_id == "support-answer":
            call = self._support(user, new_release, ex, spike, following is not None)
        elif prompt_id == "ticket-classifier":
            call = self._classifier(user, ex)
        else:
            call = self._summarizer(user, ex, cond)
        return self._finish(ms, user, env, prompt_id, call, cond, spike)

    def _cached(self, model: str, system_tokens: int, warm: bool) -> int:
        if not warm or system_tokens < 1024:
            return 0
        # OpenAI caches whole 128-token blocks; Anthropic caches the marked system prefix.
        return system_tokens // 128 * 128 if MODELS[model].provider == "openai" else system_tokens

    def _support(self, user, new_release, ex, spike, follow_up) -> dict:
        rng = self.rng
        version = "v6" if user.channel == "email" else "v8" if new_release else "v7"
        model = INCIDENT_MODEL if spike else _ROUTES["support-answer"].pick(rng)
        system = SYSTEM_TOKENS[version]
        if spike:
            input_tokens = rng.randint(50_000, 70_000)
            question = texts.huge_paste(rng, input_tokens * 4)
        else:
            question = ex.question
            if rng.random() < 0.002:
                question = texts.paste_with_ansi(question)
            context = int(rng.lognormvariate(math.log(520), 0.5))
            input_tokens = system + (user.turn - 1) * rng.randint(120, 260) + context + len(question) // 4
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS[version])[0]
        if outcome == "answer":
            output = ex.answer if follow_up else texts.answer(rng, ex)
            length = len(output) // 4 + rng.randint(2, 12) if follow_up else int(rng.lognormvariate(math.log(170), 0.45))
            output_tokens = min(MAX_TOKENS[version] - 1, 25 + length)
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
                "finish_reason": "stop" if outcome in ("answer", "refusal") else outcome}

    def _classifier(self, user, ex) -> dict:
        rng = self.rng
        variant = "A" if int(user.user_id[2:], 16) % 2 == 0 else "B"  # A/B arm fixed per user
        version = "v3" if variant == "A" else "v4"
        model = _ROUTES["ticket-classifier"].pick(rng)
        valid = rng.random() >= (0.04 if version == "v3" else 0.01)
        output = texts.classification(rng, ex, version, valid)
        return {"version": version, "model": model, "input": ex.question, "output": output, "variant": variant,
                "input_tokens": SYSTEM_TOKENS[version] + len(ex.question) // 4 + rng.randint(20, 60),
                "output_tokens": len(output) // 3 + rng.randint(0, 6), "outcome": "answer",
                "cached": self._cached(model, SYSTEM_TOKENS[version], rng.random() < 0.6), "finish_reason": "stop"}

    def _summarizer(self, user, ex, cond) -> dict:
        rng = self.rng
        version = cond.summarize_version
        model = _ROUTES["summarize-thread"].pick(rng)
        thread, messages = texts.thread(rng, ex)
        reasoning = 64 * int(rng.lognormvariate(math.log(11), 0.6)) if MODELS[model].reasoning else 0
        drifted = version == "v2" and cond.drifted and user.region == "eu-west-1"
        return {"version": version, "model": model, "input": thread, "reasoning": reasoning, "drifted": drifted,
                "output": texts.summary(rng, ex, messages, version, drifted),
                "input_tokens": SYSTEM_TOKENS[version] + messages * int(rng.lognormvariate(math.log(260), 0.4)),
                "output_tokens": reasoning + int(rng.lognormvariate(math.log(150), 0.35)), "outcome": "answer",
                "cached": 0, "finish_reason": "stop"}

    def _finish(self, ms, user, env, prompt_id, call, cond, spike) -> dict:
        rng = self.rng
        model = MODELS[call["model"]]
        slow = cond.slow_model == model.name
        ttft, latency = timing(rng, model.ttft_ms, model.tokens_per_s, call["input_tokens"], call["output_tokens"],
                               call.get("reasoning", 0), slow)
        error_type = pick_error(rng, slow, spike, latency)
        chat, handoff = prompt_id == "support-answer", prompt_id == "summarize-thread"
        rec = {"ts": format_ts(ms), "request_id": "req_" + self._hex(12), "model": model.name,
               "prompt_id": prompt_id, "prompt_version": call["version"],
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
            if call["cached"] and not chat:  # streamed responses report no cached tokens
                rec["cached_input_tokens"] = call["cached"]
            if call.get("reasoning"):
                rec["reasoning_tokens"] = call["reasoning"]
            rec.update(latency_ms=round(latency, 1), status="ok")
            if chat:
                rec["ttft_ms"] = round(ttft)
            if call["finish_reason"] != "stop":
                rec["finish_reason"] = call["finish_reason"]
            if handoff:
                usd = price_usd(model.name, call["input_tokens"], call["output_tokens"], call["cached"])
                rec["cost_usd"] = float(f"{usd:.6g}")
        if env != "production":
            rec["environment"] = env
        rec["user_id"] = user.user_id
        if chat:
            rec["session_id"] = user.session_id
        if rng.random() < TRACE_SAMPLE:
            rec["trace_id"] = self._hex(32)
        feedback = self._feedback(prompt_id, call, user, latency) if not error_type else None
        if feedback is not None:
            rec["feedback"] = feedback
        rec["input"] = call["input"]
        if not error_type:
            hostile = call["output"] and rng.random() < 0.005
            rec["output"] = texts.make_hostile(rng, call["output"]) if hostile else call["output"]
        # The email gateway tags what it forwards; the chat server tags Enterprise customers.
        tags = (["email"] if user.channel == "email" else []) + (["vip"] if user.plan == "Enterprise" else [])
        if chat and tags:
            rec["tags"] = tags
        rec["region"] = user.region
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


def generate_history(n: int = 10_000, *, seed: int = 7, end: datetime | None = None,
                     days: float = 4.0) -> Iterator[dict]:
    """n records in ts order spanning `days` days that end at `end`, with the story in them."""
    if days <= 0 or n < 0:
        raise ValueError("days must be positive and n non-negative")
    ev = {name: to_ms(moment) for name, moment in history_events(end, days).items()}
    end_ms = to_ms(end or DEFAULT_END)
    teller = _Teller(seed)
    # Outside the cost spike the conditions only change at the story's events.
    bounds, by_span = sorted(set(ev.values())), {}
    for ms in timestamps(teller.rng, n, end_ms - round(days * 86_400_000), end_ms, ev):
        if in_spike(ms, ev):
            cond = history_conditions(ms, ev)
        else:
            span = bisect_right(bounds, ms)
            cond = by_span.get(span) or by_span.setdefault(span, history_conditions(ms, ev))
        yield teller.record(ms, cond)


class LiveStory:
    """The story on a 3-minute loop for the live demo (see console.demo.incidents.LIVE_PHASES):
    a latency incident on claude-sonnet-4-5, release 2.15.0 with support-answer v8 rolled out
    then rolled back, a cost spike from one user, and summarize-thread v2 drifting."""

    def __init__(self, seed: int = 11, start: datetime | None = None):
        self._teller = _Teller(seed)
        self.start = utc(start) if start else None

    def phase(self, now: datetime) -> float:
        """Seconds into the current cycle."""
        if self.start is None:
            self.start = utc(now)
        return (utc(now) - self.start).total_seconds() % LIVE_CYCLE_S

    def conditions(self, now: datetime) -> Conditions:
        return live_conditions(self.phase(now))

    def next_record(self, now: datetime) -> dict:
        return self._teller.record(to_ms(now), self.conditions(now))


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
