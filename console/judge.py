"""An optional LLM judge over an OpenAI-compatible /chat/completions endpoint: the "judge"
scorer of console.evaluation, and the grader of llm-rubric assertions (console.regression.judging).

Off by default (`[evaluation.judge] enabled = true` turns it on); nothing else needs it,
and no test needs a real model: the tests run it against a stub server on 127.0.0.1.
The rubric comes from config; the judge is asked for a JSON object {"score": 0..1,
"reason": "..."} and a reply that is not one is a failure of the "judge" scorer (reported
with the request id like any other scorer's). The API key is read from the environment
variable named by api_key_env, never from the config file. Only the standard library is
used (urllib), so the judge adds no dependency.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request

import orjson

from console.config import JudgeSettings
from console.records import RequestRecord, text_of

MAX_TEXT_CHARS = 12_000  # of the input and of the output sent to the judge
SYSTEM_PROMPT = """You grade one response of an LLM application against a rubric.
Rubric: {rubric}
Reply with only a JSON object: {{"score": <number from 0 (fails the rubric) to 1 (fully meets it)>, "reason": "<one sentence>"}}"""
# For llm-rubric assertions: a promptfoo grader's answer (pass, score, reason).
RUBRIC_SYSTEM_PROMPT = """You grade one response of an LLM application against a rubric.
Rubric: {rubric}
Reply with only a JSON object: {{"reason": "<one sentence>", "pass": <true if the response meets the rubric, else false>, "score": <number from 0 to 1>}}"""
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class JudgeError(RuntimeError):
    """The endpoint could not be reached or did not answer with a score."""


class Judge:
    """Callable as a scorer: record -> (score, reason)."""

    def __init__(self, settings: JudgeSettings) -> None:
        self.settings = settings
        self.endpoint = settings.url.rstrip("/") + "/chat/completions"

    def messages(self, record: RequestRecord, system: str = SYSTEM_PROMPT) -> list[dict[str, str]]:
        question = text_of(record.input)[:MAX_TEXT_CHARS]
        answer = text_of(record.output)[:MAX_TEXT_CHARS]
        return [
            {"role": "system", "content": system.format(rubric=self.settings.rubric)},
            {
                "role": "user",
                "content": f"Prompt: {record.prompt_id}@{record.prompt_version}\n\n"
                f"<input>\n{question}\n</input>\n\n<response>\n{answer}\n</response>",
            },
        ]

    def __call__(self, record: RequestRecord) -> tuple[float, str] | None:
        if record.status == "error":
            return None  # nothing to judge; the error scorer has it
        return parse_verdict(self._complete(self.messages(record)))

    def grade(self, record: RequestRecord) -> dict:
        """The rubric grader's answer {pass, score, reason} (llm-rubric assertions)."""
        return parse_grade(self._complete(self.messages(record, RUBRIC_SYSTEM_PROMPT)))

    def _complete(self, messages: list[dict[str, str]]) -> bytes:
        body = {"model": self.settings.model, "messages": messages, "temperature": 0}
        return post_json(self.endpoint, body, api_key_env=self.settings.api_key_env, timeout_s=self.settings.timeout_s)


def post_json(endpoint: str, body: dict, *, api_key_env: str | None, timeout_s: float,
              error: type[Exception] = JudgeError) -> bytes:  # fmt: skip
    """POST `body` to an OpenAI-compatible endpoint, the API key read from the variable named
    api_key_env; the reply's bytes, or `error` saying why there is none (HTTP status, unreachable)."""
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(api_key_env) if api_key_env else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(endpoint, data=orjson.dumps(body), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise error(f"{endpoint} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise error(f"cannot reach {endpoint}: {getattr(exc, 'reason', exc)}") from None


def _content(payload: bytes) -> str:
    try:
        return orjson.loads(payload)["choices"][0]["message"]["content"] or ""
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        raise JudgeError("the reply is not a chat completion") from None


def _not_json(word: str):
    raise ValueError(f"{word} is not JSON")


def first_json_object(text: str) -> dict | None:
    """The first JSON object in a reply (prose or a code fence around it is fine, and so is a
    second object after it), or None."""
    decoder = json.JSONDecoder(parse_constant=_not_json)  # NaN and Infinity are not JSON
    start = text.find("{")
    while start != -1:
        try:
            found, _ = decoder.raw_decode(text, start)
        except ValueError:
            found = None
        if isinstance(found, dict):
            return found
        start = text.find("{", start + 1)
    return None


def parse_grade(payload: bytes) -> dict:
    """A rubric grader's JSON object from a chat completion. Any object is an answer, as in
    promptfoo (src/matchers/rubric.ts): without pass it passes, without score it scores 1 or 0
    from pass (the llm-rubric check reads them by promptfoo's rules); a reply without an object
    is a JudgeError."""
    content = _content(payload)
    grade = first_json_object(content) if isinstance(content, str) else None
    if grade is None:
        raise JudgeError(f"the judge's reply holds no JSON object: {str(content)[:120]!r}")
    return grade


def parse_verdict(payload: bytes) -> tuple[float, str]:
    """The score and reason from a chat completion response."""
    content = _content(payload)
    found = _OBJECT.search(content or "")
    try:
        verdict = orjson.loads(found.group(0)) if found else None
        score = float(verdict["score"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise JudgeError(f"the judge did not give a score: {str(content)[:120]!r}") from None
    if not 0.0 <= score <= 1.0:
        raise JudgeError(f"the judge's score {score} is outside [0, 1]")
    return score, "judge: " + str(verdict.get("reason", ""))[:300]
