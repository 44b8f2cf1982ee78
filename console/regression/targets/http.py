"""An HTTP target: an OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama,
LiteLLM, a gateway).

The request: ``POST {base_url}/chat/completions`` with ``model`` (``--model`` wins over the
target's), ``messages`` and the optional ``temperature`` / ``max_tokens``; the API key is read
from the environment variable named by ``api_key_env`` and sent as a bearer token.

Messages: the prompt template is rendered with the case's vars and sent as the system message.
When a prompt registry exists and holds the run's prompt version (``--prompt-version``) for the
case's ``source.prompt_id`` (else the target's ``prompt_id``), the template is that registry
file, ``prompts/<prompt_id>/<version>.*``; otherwise it is ``prompt_file`` (with ``{version}``
in its path replaced by the prompt version asked for). It is rendered with the case's vars (``{{ name }}`` placeholders; a
missing variable is an error, not an empty string) and sent as the system message; then the
case's chat messages, or its text as the user message, or its vars as a JSON user message.
The reply's first choice is the output; usage tokens are kept. Transport errors, 429 and 5xx
are retried; other 4xx are not.
"""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import msgspec

from console.cases.format import RegressionCase
from console.regression.results import TargetOutput
from console.regression.targets.base import TargetConfigError, TargetError, in_thread

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
ERROR_SHOWN = 300


def render(template: str, variables: dict[str, Any]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in variables:
            raise TargetError(f"the prompt needs the variable {name!r}, which the case does not give", retryable=False)
        value = variables[name]
        return value if isinstance(value, str) else msgspec.json.encode(value).decode()

    return _PLACEHOLDER.sub(fill, template)


def build_messages(case: RegressionCase, system: str | None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    given = case.input
    if given.messages:
        chat = [{"role": m.role, "content": m.content} for m in given.messages]
        if system is not None:  # the template replaces a logged system prompt
            chat = [m for m in chat if m["role"] != "system"]
        messages.extend(chat)
    elif given.text is not None:
        messages.append({"role": "user", "content": given.text})
    elif system is None or not given.vars:
        messages.append({"role": "user", "content": msgspec.json.encode(given.vars or {}).decode()})
    return messages


class HttpTarget:
    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        model: str | None = None,
        api_key_env: str | None = None,
        prompt_file: str | Path | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout_s: float = 30.0,
        prompts_root: str | Path | None = None,
        prompt_id: str | None = None,
    ) -> None:
        self.name = name
        if not base_url.startswith(("http://", "https://")):
            raise TargetConfigError(f"target {name!r}: base_url must start with http:// or https://")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = None
        if api_key_env:
            self.api_key = os.environ.get(api_key_env)
            if not self.api_key:
                raise TargetConfigError(f"target {name!r}: the environment variable {api_key_env} is not set")
        self.prompt_file = str(prompt_file) if prompt_file is not None else None
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self._templates: dict[str, str] = {}
        self.prompt_id = prompt_id
        self.registry = None
        if prompts_root is not None and Path(prompts_root).is_dir():
            from console.prompts.registry import PromptError, load_registry

            try:
                self.registry = load_registry(Path(prompts_root))
            except PromptError as exc:
                raise TargetConfigError(f"target {name!r}: the prompt registry: {exc}") from None

    def registry_has(self, version: str | None) -> bool:
        """The registry holds this version (for the target's prompt_id, or any prompt without one)."""
        if self.registry is None or not version:
            return False
        if self.prompt_id is not None:
            return self.registry.get(self.prompt_id, version) is not None
        return any(v.version == version for v in self.registry.versions())

    def registry_template(self, prompt_id: str | None, version: str | None) -> str | None:
        if self.registry is None or not version:
            return None
        from console.prompts.registry import normalise

        for name in (prompt_id, self.prompt_id):
            entry = self.registry.get(name, version) if name else None
            if entry is not None and entry.text_unknown:
                raise TargetConfigError(
                    f"target {self.name!r}: {name}@{version} was registered from logs and its text is "
                    f"unknown: write it in {entry.path} before running a candidate on it"
                )
            if entry is not None:
                return normalise(entry.text)  # the text its hash names
        return None

    def template(self, version: str | None) -> str | None:
        if self.prompt_file is None:
            return None
        if "{version}" in self.prompt_file and not version:
            raise TargetConfigError(f"target {self.name!r}: prompt_file has {{version}}: pass --prompt-version")
        path = Path(self.prompt_file.replace("{version}", version or ""))
        key = str(path)
        if key not in self._templates:
            try:
                self._templates[key] = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise TargetConfigError(f"target {self.name!r}: cannot read the prompt {path}: {exc.strerror or exc}") from None
        return self._templates[key]

    def request_body(self, payload: dict[str, Any], case: RegressionCase) -> dict[str, Any]:
        context = payload.get("context", {})
        model = context.get("model") or self.model
        if not model:
            raise TargetError(f"target {self.name!r} has no model: set model or pass --model", retryable=False)
        version = context.get("prompt_version")
        source_id = case.source.prompt_id if case.source is not None else None
        template = self.registry_template(source_id, version)
        if template is None:
            template = self.template(version)
        variables = dict(case.input.vars or {})
        if case.input.text is not None:
            variables.setdefault("input", case.input.text)
        system = render(template, variables) if template is not None else None
        body: dict[str, Any] = {"model": model, "messages": build_messages(case, system)}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body

    def _post(self, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TargetError(f"cannot reach {self.url}: {reason}") from None

    async def run(self, payload: dict[str, Any], case: RegressionCase) -> TargetOutput:
        try:
            body = msgspec.json.encode(self.request_body(payload, case))
        except TargetConfigError as exc:
            raise TargetError(str(exc), retryable=False) from None
        started = time.perf_counter()
        status, data = await in_thread(self._post, body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if status >= 400:
            text = data.decode("utf-8", errors="replace").strip()[:ERROR_SHOWN]
            raise TargetError(f"HTTP {status} from {self.url}: {text}", retryable=status in (408, 409, 429) or status >= 500)
        try:
            reply = msgspec.json.decode(data)
            content = reply["choices"][0]["message"]["content"]
        except (msgspec.DecodeError, KeyError, IndexError, TypeError):
            raise TargetError(f"not a chat completion from {self.url}: {data[:ERROR_SHOWN]!r}") from None
        if content is None:
            content = ""
        if not isinstance(content, str):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        usage = reply.get("usage") or {}
        tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
        cost = usage.get("cost") if isinstance(usage, dict) else None  # gateways like OpenRouter report it
        return TargetOutput(
            content,
            latency_ms=elapsed_ms,
            cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
            tokens=int(tokens) if isinstance(tokens, int) else None,
            raw=reply,
        )

    async def aclose(self) -> None:
        return None
