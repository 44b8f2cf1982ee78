"""The demo's simulated app as a regression target: `console.demo.target:answer`.

It answers a case the way Acme Helpdesk (console.demo.story) answers a request: it finds the
customer question among the story's texts and gives that exchange's answer, a ticket
classification, or a thread summary, with a plausible latency and cost for the model.
Deterministic: the same case and prompt version give the same answer.

support-answer v8 carries the story's defect (its policy line "never discuss billing,
accounts or security; refuse if unsure", and max_tokens cut to 400): for an input that
triggered it in production (a case whose recorded bad output is a refusal or a cut-off
answer) it gives that bad output again, and it refuses other billing and account questions.
Every other version (v6, v7, and v9, the fix) answers properly. So a case made from a bad v8
response fails against v8 and passes against v9:

    llmops-console regress --target demo --prompt-version v8   # exit 1
    llmops-console regress --target demo --prompt-version v9   # exit 0
"""

from __future__ import annotations

import hashlib
import random
import re
import string
from functools import lru_cache
from typing import Any

from console.demo import texts
from console.demo.story import MODELS, price_usd

DEFECTIVE_VERSION = "v8"
DEFAULT_MODEL = "claude-sonnet-4-5"
REFUSING_TOPICS = ("billing", "account")  # v8's policy line: never discuss billing, accounts or security

# For console/demo/run.py's llmops.toml: the suite runs against the simulated app.
DEMO_REGRESSION_TOML = """
[regression]
suite = "regression/cases.jsonl"
default_target = "demo"
min_pass_rate = 1.0         # the demo's gate: every case must pass

[regression.targets.demo]   # the simulated app; --prompt-version v9 tries the fix
type = "python"
function = "console.demo.target:answer"
prompt_version = "v8"
"""


def _seed(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _pattern(template: str) -> re.Pattern:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)" if f"(?P<{name}>" not in "".join(parts) else f"(?P={name})")
    return re.compile(r"^.*?" + "".join(parts) + r".*$", re.DOTALL)


@lru_cache(maxsize=1)
def _known() -> list[tuple[re.Pattern, str, str, str, str]]:
    """(question pattern, topic, language, answer template, issue template), longest first."""
    known = [(q, topic, "en", a, i) for topic, cases in texts.CASES.items() for q, a, i in cases]
    known += [(q, topic, lang, a, i) for lang, topic, q, a, i in texts.LOCAL_CASES]
    known.sort(key=lambda k: -len(k[0]))
    return [(_pattern(q), topic, lang, a, i) for q, topic, lang, a, i in known]


def find_exchange(question: str) -> texts.Exchange | None:
    """The story's exchange a question comes from, its slots filled from the question (and,
    for slots only the answer uses, deterministically from the question's hash)."""
    for pattern, topic, language, answer_template, issue in _known():
        match = pattern.match(question)
        if match is None:
            continue
        rng = _seed("fill", question)
        fill = {name: slot(rng) for name, slot in texts.SLOTS.items()}
        fill.update({k: v for k, v in match.groupdict().items() if v is not None})
        return texts.Exchange(topic, language, question, answer_template.format(**fill), issue.format(**fill), fill)
    return None


def _follow_up_answer(question: str) -> str | None:
    wanted = question.strip().casefold()
    for _, message, reply in texts.FOLLOW_UPS:
        if message.casefold() == wanted:
            return reply
    return None


def question_of(case: dict[str, Any]) -> str:
    given = case.get("input") or {}
    if isinstance(given.get("text"), str):
        return given["text"]
    for message in reversed(given.get("messages") or []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    variables = given.get("vars") or {}
    for key in ("question", "input", "message", "text", "ticket", "thread"):
        if isinstance(variables.get(key), str):
            return variables[key]
    return next((v for v in variables.values() if isinstance(v, str)), "")


def is_defect(output: str | None) -> bool:
    """A refusal, or an answer cut off by max_tokens (the v8 rollout's two symptoms)."""
    if not output:
        return False
    if output in texts.REFUSALS:
        return True
    return texts.RAMBLE[:20].strip() in output and not output.rstrip().endswith((".", "!", "?"))


def support_answer(question: str, version: str, bad_output: str | None = None) -> str:
    ex = find_exchange(question)
    if version == DEFECTIVE_VERSION:
        if is_defect(bad_output):
            return bad_output  # the same input under the same prompt: the same failure
        if ex is not None and ex.topic in REFUSING_TOPICS:
            return _seed("refusal", question).choice(texts.REFUSALS)
    if ex is None:
        reply = _follow_up_answer(question)
        if reply is not None:
            return reply
        return "Thanks for reaching out! Could you tell me a bit more so I can find the right help-center article?"
    if ex.language != "en":
        return ex.answer
    rng = _seed("answer", question)
    return rng.choice(texts.ANSWER_OPENERS[3:]) + ex.answer


def _classification(question: str, version: str) -> str:
    ex = find_exchange(question)
    topic = ex.topic if ex is not None else "howto"
    fake = ex or texts.Exchange(topic, "en", question, "", "", {})
    return texts.classification(_seed("classify", question), fake, "v3" if version == "v3" else "v4", True)


def _summary(thread: str, version: str) -> str:
    ex = find_exchange(thread.split("Customer: ", 1)[-1].split("\n", 1)[0])
    if ex is None:
        return "Issue: a customer question\nDone: sent a help article\nStatus: waiting on customer"
    return texts.summary(_seed("summary", thread), ex, 3, "v1" if version == "v1" else "v2")


def answer(case: dict[str, Any]) -> dict[str, Any]:
    """The python target: a case (with its context) in, the simulated app's reply out."""
    context = case.get("context") or {}
    source = case.get("source") or {}
    prompt_id = source.get("prompt_id") or "support-answer"
    version = context.get("prompt_version") or source.get("prompt_version") or "v7"
    question = question_of(case)
    if prompt_id == "ticket-classifier":
        output = _classification(question, version)
    elif prompt_id == "summarize-thread":
        output = _summary(question, version)
    else:
        bad = source.get("bad_output") if source.get("prompt_version") in (None, DEFECTIVE_VERSION) else None
        output = support_answer(question, version, bad)
    model_name = context.get("model") or source.get("model") or DEFAULT_MODEL
    model = MODELS.get(model_name)
    input_tokens = 1700 + len(question) // 4
    output_tokens = max(1, len(output) // 4)
    cut_off = is_defect(output) and output not in texts.REFUSALS  # max_tokens ended it
    reply: dict[str, Any] = {"output": output, "tokens": input_tokens + output_tokens,
                             "finish_reason": "length" if cut_off else "stop"}  # fmt: skip
    if model is not None:
        reply["latency_ms"] = round(model.ttft_ms + output_tokens / model.tokens_per_s * 1000, 1)
        reply["cost_usd"] = price_usd(model_name, input_tokens, output_tokens)
    return reply
