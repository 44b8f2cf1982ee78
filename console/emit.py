"""The request logger an existing app adopts in three lines (standard library only).

    from console.emit import RequestLogger
    log = RequestLogger("logs/requests.jsonl")
    client = log.instrument_openai(OpenAI())   # every chat completion is now a log line

Each request becomes one schema v1 line (schemas/request-log.v1.schema.json) that
`llmops-console logs/requests.jsonl` tails. Any call can be logged by hand:

    with log.track(model="gpt-4o-mini", prompt_id="support-answer", prompt_version="v7",
                   input=messages) as call:
        reply = my_model_call(messages)
        call.set_usage(input_tokens=812, output_tokens=143, cached_input_tokens=512)
        call.set_output(reply.text, finish_reason="stop")

track() measures the latency, and an exception leaving the block is logged as an error
(its type and message) and raised on. `with log.prompt("support-answer", "v8"):` names the
prompt of the instrumented client's calls made inside it. With
`RequestLogger(path, prompts="prompts")` (the registry of console/prompts), a call naming a
registered prompt and version also logs its prompt_hash, so the console can spot drift.

Safety: every line is a single os.write() on a descriptor opened with O_APPEND, so lines
from many threads and processes never interleave (the kernel appends each write whole);
a file rotated away is reopened on the next line; a failed write (disk full) is counted in
`dropped`, never raised into the app. This module imports only the standard library at
import time, so it can also be copied into an app as it is.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import inspect
import json
import os
import threading
import time
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any, Iterator

MAX_LINE_BYTES = 1024 * 1024  # the console rejects longer lines
_TEXT_FIELDS = ("input", "output", "error_message")
_prompt: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("llmops_prompt", default=None)
_loggers: weakref.WeakSet[RequestLogger] = weakref.WeakSet()


def _rfc3339(ts: float) -> str:
    # not console.formatting.rfc3339: this module imports nothing of the console, so it can be copied into an app
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """For json.dumps: pydantic models (openai's types) and anything else as text."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return str(value)


def error_type_of(exc: BaseException) -> str:
    """'openai.InternalServerError', 'TimeoutError': the package and the class name."""
    module = type(exc).__module__.split(".")[0]
    name = type(exc).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


class RequestLogger:
    """Append schema v1 request records to one JSONL file, safely from threads and processes."""

    def __init__(self, path: str | os.PathLike[str], *, capture_content: bool = True,
                 prompts: str | os.PathLike[str] | None = None, **defaults: Any) -> None:
        """defaults: fields added to every record (environment="production", tags=[...], ...).

        capture_content=False leaves inputs and outputs out of the log. prompts: the prompt
        registry's directory; a call naming a registered prompt and version gets its prompt_hash.
        """
        self.path = os.fspath(path)
        self.prompts = os.fspath(prompts) if prompts is not None else None
        self.capture_content = capture_content
        self.defaults = defaults
        self.dropped = 0  # lines that could not be written
        self._lock = threading.Lock()
        self._fd = -1
        self._identity: tuple[int, int] = (0, 0)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self._open()
        _loggers.add(self)

    # -- writing --------------------------------------------------------------------------

    def log(self, **fields: Any) -> None:
        """Write one record as given (ts defaults to now, request_id to a fresh id)."""
        record = {**self.defaults, **fields}
        record.setdefault("ts", time.time())
        record.setdefault("request_id", new_request_id())
        if isinstance(record["ts"], datetime):
            record["ts"] = record["ts"].timestamp()
        if isinstance(record["ts"], (int, float)):
            record["ts"] = _rfc3339(record["ts"])
        if not self.capture_content:
            record.pop("input", None)
            record.pop("output", None)
        self.write_line(_encode(record))

    def write_line(self, line: bytes) -> None:
        """One os.write of a whole line; reopens the file if it was rotated or removed."""
        with self._lock:
            try:
                self._reopen_if_moved()
                view = memoryview(line)
                while view:  # a regular file takes the whole line; a short write (disk full) is finished
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError:
                self.dropped += 1

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> RequestLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _open(self) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self.path, flags, 0o644)
        st = os.fstat(self._fd)
        self._identity = (st.st_dev, st.st_ino)

    def _reopen_if_moved(self) -> None:
        try:
            st = os.stat(self.path)
            moved = (st.st_dev, st.st_ino) != self._identity
        except FileNotFoundError:
            moved = True
        if moved or self._fd < 0:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self._open()

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # another thread may have held it at the fork

    # -- tracking calls -------------------------------------------------------------------

    def track(self, *, model: str, prompt_id: str | None = None, prompt_version: str | None = None,
              **fields: Any) -> Call:
        """A context manager timing one model call; see the module docstring."""
        current = _prompt.get() or (None, None)
        prompt_id = prompt_id or current[0] or "unknown"
        prompt_version = prompt_version or current[1] or "unversioned"
        if self.prompts is not None and "prompt_hash" not in fields:
            found = registry_hash(self.prompts, prompt_id, prompt_version)
            if found is not None:
                fields["prompt_hash"] = found
        return Call(self, model=model, prompt_id=prompt_id, prompt_version=prompt_version, **fields)

    @staticmethod
    @contextlib.contextmanager
    def prompt(prompt_id: str, prompt_version: str) -> Iterator[None]:
        """Calls made inside this block (in this thread or task) are logged under this prompt."""
        token = _prompt.set((prompt_id, prompt_version))
        try:
            yield
        finally:
            _prompt.reset(token)

    def instrument_openai(self, client: Any, *, prompt_id: str | None = None, prompt_version: str | None = None,
                          **fields: Any) -> Any:
        """Log every `client.chat.completions.create` call of this client; returns the client.

        Works with OpenAI and AsyncOpenAI (and compatible clients): tokens, cached and
        reasoning tokens, finish reason, response model, the time to the first token of a
        stream, and errors (logged, then raised as before). The app's calls do not change.
        A stream has token counts only when the call asks for them
        (stream_options={"include_usage": True}); otherwise they are logged as 0.
        """
        completions = client.chat.completions
        original = completions.create
        defaults = {"prompt_id": prompt_id, "prompt_version": prompt_version, **fields}

        def create(*args: Any, **kwargs: Any) -> Any:
            call = self._openai_call(kwargs, defaults)
            try:
                result = original(*args, **kwargs)
            except BaseException as exc:
                call.finish(exc)
                raise
            if inspect.isawaitable(result):  # AsyncOpenAI
                return _awaited(result, call, bool(kwargs.get("stream")))
            return _RecordedStream(result, call) if kwargs.get("stream") else _completed(call, result)

        completions.create = create
        return client

    def _openai_call(self, kwargs: dict[str, Any], defaults: dict[str, Any]) -> Call:
        fields = {k: v for k, v in defaults.items() if v is not None}
        if _prompt.get() is not None:  # `with log.prompt(...)` is more specific than the client's default
            fields.pop("prompt_id", None)
            fields.pop("prompt_version", None)
        fields.setdefault("provider", "openai")
        if self.capture_content and kwargs.get("messages") is not None:
            fields["input"] = list(kwargs["messages"])
        user = kwargs.get("user") or kwargs.get("safety_identifier")
        if isinstance(user, str):
            fields.setdefault("user_id", user)
        return self.track(model=str(kwargs.get("model") or "unknown"), **fields)


_PROMPT_EXTENSIONS = ("txt", "md", "j2", "jinja", "tmpl")  # as console/prompts/registry.py


def normalise_prompt(text: str) -> str:
    """As console.prompts.registry.normalise (a test keeps them equal): the text a prompt_hash is of."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def _prompt_body(text: str) -> str:
    """The text without a leading '---' front matter block."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":
        for end in range(1, len(lines)):
            if lines[end].strip() == "---":
                return "\n".join(lines[end + 1:])
    return text.lstrip("\ufeff")


def _text_unknown(text: str) -> bool:
    """A version registered from logs (front matter 'text_unknown: true'): its body is not the prompt."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return False
    for line in lines[1:]:
        if line.strip() == "---":
            return False
        key, _, value = line.partition(":")
        if key.strip() == "text_unknown" and value.strip().lower() == "true":
            return True
    return False


@functools.lru_cache(maxsize=256)
def _cached_hash(path: str, mtime_ns: int, size: int) -> str | None:
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8")
    if _text_unknown(text):
        return None  # the app's real text is not in the file: log no hash rather than a wrong one
    return hashlib.sha256(normalise_prompt(_prompt_body(text)).encode("utf-8")).hexdigest()[:12]


def registry_hash(root: str, prompt_id: str, prompt_version: str) -> str | None:
    """The short prompt_hash of prompts/<prompt_id>/<prompt_version>.<ext>, or None when unregistered."""
    if any(part.startswith(".") or "/" in part or os.sep in part for part in (prompt_id, prompt_version)):
        return None
    for ext in _PROMPT_EXTENSIONS:
        path = os.path.join(root, prompt_id, f"{prompt_version}.{ext}")
        try:
            st = os.stat(path)
            return _cached_hash(path, st.st_mtime_ns, st.st_size)
        except (OSError, UnicodeDecodeError):
            continue
    return None


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def _encode(record: dict[str, Any]) -> bytes:
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_jsonable).encode("utf-8", "replace")
    if len(line) + 1 > MAX_LINE_BYTES:
        line = _shrink(record)
    return line + b"\n"


def _shrink(record: dict[str, Any]) -> bytes:
    """Cut the texts of a record too long for one line, and say so in its metadata."""
    budget = MAX_LINE_BYTES // 4 // len(_TEXT_FIELDS)  # characters of up to 4 bytes each
    record = {**record, "metadata": {**(record.get("metadata") or {}), "truncated": True}}
    for key in _TEXT_FIELDS:
        value = record.get(key)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=_jsonable)
        if value is not None and len(text) > budget:
            record[key] = text[:budget] + "…"
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_jsonable).encode("utf-8", "replace")


class Call:
    """One tracked call: set what you learn, and the record is written when the block ends."""

    def __init__(self, logger: RequestLogger, **fields: Any) -> None:
        self.logger = logger
        self.fields: dict[str, Any] = fields
        self.request_id: str = fields.pop("request_id", None) or new_request_id()
        self.ts = time.time()
        self._start = time.perf_counter()
        self._done = False

    def set_usage(self, input_tokens: int | None = None, output_tokens: int | None = None, *,
                  cached_input_tokens: int | None = None, reasoning_tokens: int | None = None) -> None:
        """Token counts; input_tokens includes the cached ones."""
        for key, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                           ("cached_input_tokens", cached_input_tokens), ("reasoning_tokens", reasoning_tokens)):
            if value is not None:
                self.fields[key] = int(value)

    def set_output(self, output: Any, *, finish_reason: str | None = None) -> None:
        self.fields["output"] = output
        if finish_reason is not None:
            self.fields["finish_reason"] = finish_reason

    def set(self, **fields: Any) -> None:
        """Any other field: response_model, user_id, session_id, metadata, tags, cost_usd..."""
        self.fields.update(fields)

    def first_token(self) -> None:
        """Mark the first token of a stream (its time to first token), once."""
        self.fields.setdefault("ttft_ms", round((time.perf_counter() - self._start) * 1000, 3))

    def fail(self, exc: BaseException | str, message: str | None = None) -> None:
        """Log the call as an error although no exception leaves the block."""
        self.fields["status"] = "error"
        self.fields["error_type"] = exc if isinstance(exc, str) else error_type_of(exc)
        text = message if message is not None else (None if isinstance(exc, str) else str(exc))
        if text:
            self.fields["error_message"] = text

    def finish(self, exc: BaseException | None = None) -> None:
        """Write the record (track() does this at the end of its block); only the first call counts."""
        if self._done:
            return
        self._done = True
        if exc is not None:
            self.fail(exc)
        fields = self.fields
        fields.setdefault("status", "ok")
        fields.setdefault("input_tokens", 0)
        fields.setdefault("output_tokens", 0)
        self.logger.log(ts=self.ts, request_id=self.request_id,
                        latency_ms=round((time.perf_counter() - self._start) * 1000, 3), **fields)

    def __enter__(self) -> Call:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.finish(exc)


def _reset_locks_after_fork() -> None:
    for logger in list(_loggers):
        logger._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)


# -- the openai helper's pieces ------------------------------------------------------------------


def _get(obj: Any, name: str) -> Any:
    """An attribute of an openai object, or a key of the same thing as a dict."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _record_usage(call: Call, usage: Any) -> None:
    if usage is None:
        return
    call.set_usage(
        _get(usage, "prompt_tokens"),
        _get(usage, "completion_tokens"),
        cached_input_tokens=_get(_get(usage, "prompt_tokens_details"), "cached_tokens"),
        reasoning_tokens=_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"),
    )


def _record_response_fields(call: Call, response: Any) -> None:
    model = _get(response, "model")
    if model:
        call.set(response_model=str(model))
    response_id = _get(response, "id")
    if response_id:
        call.fields.setdefault("metadata", {})["response_id"] = str(response_id)


async def _awaited(result: Any, call: Call, stream: bool) -> Any:
    try:
        result = await result
    except BaseException as exc:
        call.finish(exc)
        raise
    return _AsyncRecordedStream(result, call) if stream else _completed(call, result)


def _completed(call: Call, completion: Any) -> Any:
    try:
        _record_usage(call, _get(completion, "usage"))
        _record_response_fields(call, completion)
        choices = _get(completion, "choices") or []
        if choices:
            message = _get(choices[0], "message")
            content = _get(message, "content")
            tool_calls = _get(message, "tool_calls")
            output = content if content is not None or not tool_calls else [_jsonable(t) for t in tool_calls]
            call.set_output(output, finish_reason=_get(choices[0], "finish_reason"))
    finally:
        call.finish()
    return completion


class _StreamObserver:
    """What a stream's chunks say: first token, text, finish reason, usage."""

    def __init__(self, stream: Any, call: Call) -> None:
        self._stream = stream
        self._call = call
        self._parts: list[str] = []
        self._finish_reason: str | None = None

    def _observe(self, chunk: Any) -> None:
        for choice in _get(chunk, "choices") or []:
            delta = _get(choice, "delta")
            content = _get(delta, "content")
            if content or _get(delta, "tool_calls") or _get(delta, "refusal"):
                self._call.first_token()
            if content and (_get(choice, "index") or 0) == 0:
                self._parts.append(content)
            if _get(choice, "finish_reason"):
                self._finish_reason = _get(choice, "finish_reason")
        if _get(chunk, "usage") is not None:
            _record_usage(self._call, _get(chunk, "usage"))
        if not self._call.fields.get("response_model"):
            _record_response_fields(self._call, chunk)

    def _finish(self, exc: BaseException | None, *, complete: bool = True) -> None:
        if self._call._done:
            return
        self._call.set_output("".join(self._parts), finish_reason=self._finish_reason)
        if not complete:
            self._call.fields.setdefault("metadata", {})["stream_closed_early"] = True
        self._call.finish(exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:  # the app broke out of its loop and dropped the stream
        try:
            self._finish(None, complete=False)
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass


class _RecordedStream(_StreamObserver):
    """The app's stream, unchanged, logged when it ends (exhausted, closed or failed)."""

    def __init__(self, stream: Any, call: Call) -> None:
        super().__init__(stream, call)
        self._iterator = iter(stream)

    def __iter__(self) -> _RecordedStream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._iterator)
        except StopIteration:
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._observe(chunk)
        return chunk

    def close(self) -> None:
        self._stream.close()
        self._finish(None, complete=False)

    def __enter__(self) -> _RecordedStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class _AsyncRecordedStream(_StreamObserver):
    def __init__(self, stream: Any, call: Call) -> None:
        super().__init__(stream, call)
        self._iterator = stream.__aiter__()

    def __aiter__(self) -> _AsyncRecordedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        self._observe(chunk)
        return chunk

    async def close(self) -> None:
        await self._stream.close()
        self._finish(None, complete=False)

    async def __aenter__(self) -> _AsyncRecordedStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()
