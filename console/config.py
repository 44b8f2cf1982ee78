"""llmops.toml: typed settings, found in the working directory, then the user config dir.

A known key with a wrong value fails with the file, the key, what was expected and what was
found. An unknown key (a typo, or a key of a newer version) is a warning naming the file and
the key, with a "did you mean" when a known key is close; it is ignored and the rest loads --
except where ignoring it would change a figure or an alert: in a [[budgets]] or [[slos]]
entry, [burn], a [prices.<model>] table or [otel], and a top-level name close to one of those
(`[[budget]]`), it is an error naming the file, the entry, the key and the keys known there
(see _FIGURE_TABLES).
The README and schemas/llmops-config.schema.json document every key.

    [ui]
    ring_size = 5000          # rows of the requests table kept in memory (it pages the rest)
    window_max_rows = 1000000 # requests kept in memory at most (a window needing more is read from the rollups)

    [keys]                    # binding id = "key[,key...]", ids are listed by `?`
    "dashboard.pause" = "p"

    [[budgets]]
    name = "all traffic"
    period = "month"          # "day" or "month"
    amount_usd = 3000
    model = "gpt-4o"          # optional scopes: model, prompt_id, user_id, environment

    [[slos]]
    model = "claude-sonnet-4-5"   # optional; no model = every model
    percentile = 95
    max_ms = 2500

    [burn]                    # multi-window burn-rate alerts (SRE workbook, adapted to money)
    page = {threshold = 14.4, long = "1h", short = "5m"}
    warn = {threshold = 6.0, long = "6h", short = "30m"}

    [[notify]]                # `check` posts when an alert starts and when it clears
    url = "https://hooks.slack.com/services/T000/B000/XXXX"
    format = "slack"          # "slack" (an incoming webhook) or "json"
    severities = ["page"]     # which alerts: "warn", "page" (both by default)

    [prices."my-finetune"]    # USD per million tokens
    input = 3.0
    cached_input = 1.5
    output = 12.0

    [prompts]                 # the prompt registry (console/prompts)
    path = "prompts"          # relative to llmops.toml

    [otel]                    # OTLP spans: where prompt, version, user, session, environment are
    prompt_id_keys = ["app.prompt", "gen_ai.prompt.name"]   # first present wins
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

CONFIG_NAME = "llmops.toml"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, the key, what was
    expected and what was found."""


class UiSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ring_size: int = msgspec.field(default=5000)
    # requests the figures' window holds in memory at most (~250 bytes each); past it the oldest
    # are evicted and the budgets keep counting their spend
    window_max_rows: int = msgspec.field(default=1_000_000)

    def __post_init__(self) -> None:
        if not 100 <= self.ring_size <= 1_000_000:  # "field: ..." names the key (see _describe)
            raise ValueError(f"ring_size: Expected an int between 100 and 1000000, got {self.ring_size}")
        if not 10_000 <= self.window_max_rows <= 10_000_000:
            raise ValueError(
                f"window_max_rows: Expected an int between 10000 and 10000000, got {self.window_max_rows}"
            )


_DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(s|m|h|d)$"
Duration = Annotated[str, msgspec.Meta(pattern=_DURATION_PATTERN)]
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> float:
    """'5m' -> 300.0 (durations in config are validated by the Duration pattern)."""
    return float(text[:-1]) * _UNIT_SECONDS[text[-1]]


class Budget(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    period: Literal["day", "month"]
    amount_usd: Annotated[float, msgspec.Meta(gt=0)]
    model: str | None = None
    prompt_id: str | None = None
    user_id: str | None = None
    environment: str | None = None


class Slo(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_ms: Annotated[float, msgspec.Meta(gt=0)]
    percentile: Annotated[float, msgspec.Meta(gt=0, lt=100)] = 95.0
    model: str | None = None


class BurnAlert(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    threshold: Annotated[float, msgspec.Meta(gt=0)]
    long: Duration
    short: Duration


class BurnSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Defaults: the SRE workbook's page and ticket pairs for a 30-day budget.

    For a daily budget the same thresholds would mean 'gone in 1.7 h' and 'gone in 4 h';
    see console/analytics/budget.py for how a day's thresholds are chosen.
    """

    page: BurnAlert = msgspec.field(default_factory=lambda: BurnAlert(threshold=14.4, long="1h", short="5m"))
    warn: BurnAlert = msgspec.field(default_factory=lambda: BurnAlert(threshold=6.0, long="6h", short="30m"))


_URL_PATTERN = r"^https?://[^\s/]+\S*$"


class NotifyTarget(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A webhook `check` posts each alert's start and end to (console/notify)."""

    url: Annotated[str, msgspec.Meta(pattern=_URL_PATTERN)]
    format: Literal["slack", "json"] = "json"  # slack: an incoming webhook's text and blocks
    severities: list[Literal["warn", "page"]] = msgspec.field(default_factory=lambda: ["warn", "page"])

    def __post_init__(self) -> None:
        if not self.severities:
            raise ValueError("severities: Expected at least one of 'warn', 'page', got an empty array")


class PriceOverride(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """USD per million tokens, for fine-tunes and self-hosted models."""

    input: Annotated[float, msgspec.Meta(ge=0)]
    output: Annotated[float, msgspec.Meta(ge=0)]
    cached_input: Annotated[float, msgspec.Meta(ge=0)] | None = None


TARGET_TYPES = ("command", "python", "http", "replay")
_FUNCTION_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"
_TARGET_NEEDS = {"command": "argv", "python": "function", "http": "base_url", "replay": "path"}


class RegressionTarget(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One thing the suite can run against (console/regression/targets)."""

    type: Literal["command", "python", "http", "replay"]
    argv: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None  # command: no shell
    cwd: str | None = None  # command: working directory (relative to llmops.toml)
    env: dict[str, str] | None = None  # command: added to the environment
    function: Annotated[str, msgspec.Meta(pattern=_FUNCTION_PATTERN)] | None = None  # python
    base_url: str | None = None  # http: OpenAI-compatible, e.g. "http://127.0.0.1:8000/v1"
    model: str | None = None  # http: the model asked for; every type: passed in context
    api_key_env: str | None = None  # http: the environment variable holding the API key
    prompt_file: str | None = None  # http: system prompt template; "{version}" in the path is replaced
    prompt_id: str | None = None  # http: the registry prompt rendered when a case names none (source.prompt_id)
    temperature: float | None = None  # http
    max_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None  # http
    prompt_version: str | None = None  # passed in context (--prompt-version wins)
    path: str | None = None  # replay: recorded outputs, JSONL keyed by case id
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] | None = None  # default: regression.timeout_s

    def __post_init__(self) -> None:
        needed = _TARGET_NEEDS[self.type]
        if getattr(self, needed) is None:
            raise ValueError(f"{needed}: Expected a value (a {self.type} target needs '{needed}'), got nothing")


class EmbeddingSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An embedding model over an OpenAI-compatible /embeddings endpoint, for `similar` assertions."""

    url: Annotated[str, msgspec.Meta(min_length=1)]  # base URL; /embeddings is appended
    model: Annotated[str, msgspec.Meta(min_length=1)]
    api_key_env: str | None = "OPENAI_API_KEY"  # the variable holding the key, never the key
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0


class RegressionSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The regression suite: where the cases are, what they run against, when the gate fails."""

    suite: str = "regression/cases.jsonl"  # relative to llmops.toml
    default_target: str | None = None
    targets: dict[str, RegressionTarget] = msgspec.field(default_factory=dict)
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=256)] = 4
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0  # per target call
    retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2  # after an error (not a timeout)
    backoff_s: Annotated[float, msgspec.Meta(ge=0)] = 0.5  # first retry delay; doubles, with jitter
    min_pass_rate: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None  # gate: fail below it
    critical_tag: str = "critical"  # gate: a regression in a case with this tag fails it
    embeddings: EmbeddingSettings | None = None  # `similar` assertions; without it they are skipped

    def __post_init__(self) -> None:
        if self.default_target is not None and self.default_target not in self.targets:
            names = ", ".join(repr(name) for name in self.targets) or "none are defined"
            raise ValueError(
                f"default_target: Expected the name of a target in [regression.targets] ({names}), "
                f"got {self.default_target!r}"
            )


# refusal and truncated: the demo's own cases use them, and each writes the assertion that tests it
DEFAULT_REASONS = ("wrong answer", "hallucination", "unsafe", "format", "tone", "too slow", "refusal", "truncated", "other")
_SCORER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$"
ScorerRef = Annotated[str, msgspec.Meta(pattern=_SCORER_PATTERN)]
Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]


class JudgeSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An LLM judge over an OpenAI-compatible /chat/completions endpoint (off by default)."""

    enabled: bool = False
    url: str = "http://127.0.0.1:8000/v1"  # base URL; /chat/completions is appended
    model: str = "gpt-4o-mini"
    rubric: str = "Is the response correct, helpful, safe and in the requested format?"
    api_key_env: str | None = "OPENAI_API_KEY"  # the variable holding the key, never the key
    timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0


class EvaluationSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Sampling, scorers and the triage queue (console/evaluation). Cases go to regression.suite."""

    sample_rate: Fraction = 0.1
    watch_prompts: list[str] = msgspec.field(default_factory=list)  # "id" or "id@version": always sampled
    json_prompts: list[str] = msgspec.field(default_factory=list)  # "id" or "id@version": output must be JSON
    min_output_tokens: Annotated[int, msgspec.Meta(ge=0)] | None = None
    max_output_tokens: Annotated[int, msgspec.Meta(ge=1)] | None = None
    refusal_phrases: list[str] = msgspec.field(default_factory=list)  # added to the built-in ones
    scorers: list[ScorerRef] = msgspec.field(default_factory=list)  # "module:function"
    queue_below: Fraction = 0.5  # a request whose lowest score is under this enters the queue
    reasons: Annotated[list[str], msgspec.Meta(min_length=1, max_length=9)] = msgspec.field(
        default_factory=lambda: list(DEFAULT_REASONS)
    )
    judge: JudgeSettings = msgspec.field(default_factory=JudgeSettings)


class PromptSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The prompt registry in files (console/prompts): prompts/<prompt_id>/<version>.<ext>."""

    path: str = "prompts"  # relative to llmops.toml


_ATTRIBUTE_PATTERN = r"^\S+$"
AttributeName = Annotated[str, msgspec.Meta(pattern=_ATTRIBUTE_PATTERN)]
AttributeNames = Annotated[list[AttributeName], msgspec.Meta(max_length=32)]
# The defaults cover the GenAI conventions, OpenLLMetry (traceloop.*), OpenInference, openlit and
# Logfire; console/sources/otlp.py reads these (config is below sources: it imports neither).
OTEL_DEFAULT_KEYS: dict[str, tuple[str, ...]] = {
    "prompt_id_keys": ("gen_ai.prompt.name", "gen_ai.prompt.id", "traceloop.prompt.key"),
    "prompt_version_keys": ("gen_ai.prompt.version", "traceloop.prompt.version", "llm.prompt_template.version"),
    "user_keys": ("user.id", "enduser.id", "traceloop.association.properties.user_id", "gen_ai.request.user"),
    "session_keys": ("session.id", "gen_ai.conversation.id", "traceloop.association.properties.session_id"),
    "environment_keys": (
        "deployment.environment.name", "deployment.environment", "traceloop.association.properties.environment",
    ),
}  # fmt: skip


def _otel_default(name: str):
    return msgspec.field(default_factory=lambda: list(OTEL_DEFAULT_KEYS[name]))


class OtelSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Which span attributes (then resource attributes) an OTLP span's prompt, prompt version,
    user, session and environment are read from, in order: the first present wins. Setting a
    key replaces its default list (an empty list reads none: the prompt is then service.name)."""

    prompt_id_keys: AttributeNames = _otel_default("prompt_id_keys")
    prompt_version_keys: AttributeNames = _otel_default("prompt_version_keys")
    user_keys: AttributeNames = _otel_default("user_keys")
    session_keys: AttributeNames = _otel_default("session_keys")
    environment_keys: AttributeNames = _otel_default("environment_keys")


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ui: UiSettings = msgspec.field(default_factory=UiSettings)
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    budgets: list[Budget] = msgspec.field(default_factory=list)
    slos: list[Slo] = msgspec.field(default_factory=list)
    burn: BurnSettings = msgspec.field(default_factory=BurnSettings)
    notify: list[NotifyTarget] = msgspec.field(default_factory=list)
    prices: dict[str, PriceOverride] = msgspec.field(default_factory=dict)
    regression: RegressionSettings = msgspec.field(default_factory=RegressionSettings)
    evaluation: EvaluationSettings = msgspec.field(default_factory=EvaluationSettings)
    prompts: PromptSettings = msgspec.field(default_factory=PromptSettings)
    otel: OtelSettings = msgspec.field(default_factory=OtelSettings)
    source: str | None = None  # not a key: the file these settings came from (set by load_settings)
    warnings: list[str] = msgspec.field(default_factory=list)  # not a key: unknown keys found, for the user


INTERNAL_FIELDS = frozenset({"source", "warnings"})  # Settings fields that are not config keys


def find_config(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        if explicit.is_dir():
            raise ConfigError(f"{explicit}: is a directory, not a config file (expected a path to an llmops.toml)")
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such config file")
        return explicit
    here = Path.cwd() / CONFIG_NAME
    if here.is_file():
        return here
    from platformdirs import user_config_path

    user = user_config_path("llmops-console") / CONFIG_NAME
    return user if user.is_file() else None


def load_settings(explicit: Path | None = None) -> Settings:
    """The settings of llmops.toml; unknown keys are dropped into ``Settings.warnings``, except
    in the tables of _FIGURE_TABLES, where they are a ConfigError."""
    path = find_config(explicit)
    if path is None:
        return Settings()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM, as some Windows editors write
        data = data[3:]
    try:
        raw = msgspec.toml.decode(data)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown: list[str] = []
    errors: list[str] = []  # unknown keys that would change a figure if ignored
    _drop_unknown(raw, Settings, "", unknown, errors)
    try:
        settings = msgspec.convert(raw, type=Settings)
    except msgspec.ValidationError as exc:  # a key spelled wrong is often why one is missing: say it too
        told = errors + unknown
        also = f"; also {'; '.join(told)}" if told else ""
        raise ConfigError(f"{path}: {_describe(exc, raw)}{also}") from None
    if errors:
        raise ConfigError(f"{path}: {'; '.join(errors)}")
    settings.source = str(path)
    settings.warnings = [f"{path}: {warning}" for warning in unknown]
    return settings


def suggest(name: str, known: typing.Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.55)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- unknown keys: warned and dropped, or errors where they would change a figure --------


def _bare(tp: Any) -> Any:
    """The type without Annotated constraints and without '| None'."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _known_fields(tp: type) -> dict[str, msgspec.structs.FieldInfo]:
    fields = {f.encode_name: f for f in msgspec.structs.fields(tp)}
    if tp is Settings:
        for name in INTERNAL_FIELDS:
            fields.pop(name, None)
    return fields


# Tables where an unknown key is an error, not a warning: each scopes or sets a figure or an
# alert, so a misspelt key ignored would change it without a word (a budget whose `modle`
# is dropped counts all traffic; an SLO's `percentil` falls back to p95; a price's `cache`
# prices cached tokens as input; an [otel] `user_key` attributes spans to other users).
# The value: how the entry is named in the message, and what ignoring the key would do.
_FIGURE_TABLES: dict[type, tuple[str, str]] = {
    Budget: ("a [[budgets]] entry", "it would widen or change the traffic the budget counts"),
    Slo: ("an [[slos]] entry", "it would change the requests the SLO measures or its percentile"),
    BurnSettings: ("[burn]", "the burn alerts would use thresholds other than the ones written"),
    BurnAlert: ("a [burn] alert", "the alert would use thresholds other than the ones written"),
    PriceOverride: ("a [prices.<model>] table", "it would change the spend figures"),
    OtelSettings: ("[otel]", "spans would be counted under other prompts, users or environments"),
}
# At the top level a key of a newer version stays a warning; one close to a figure table's
# name (`[[budget]]`, `[[slo]]`, `[price.x]`) is an error: the table meant would not be used.
_FIGURE_TOP_LEVEL = frozenset({"budgets", "slos", "burn", "prices", "otel"})


def _unknown_key_error(key: str, where: str, tp: type, value: dict, fields: dict) -> str | None:
    """The error for an unknown key where ignoring it would change a figure, else None:
    "key 'budgets[0].modle' (the budget named 'b'): unknown key (did you mean 'model'?); ..."."""
    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.55)
    if tp is Settings:
        if not close or close[0] not in _FIGURE_TOP_LEVEL:
            return None
        meant = f"[[{close[0]}]]" if close[0] in ("budgets", "slos") else f"[{close[0]}]"
        table, consequence = "at the top level", f"the {meant} meant would not be used"
    elif tp in _FIGURE_TABLES:
        table, consequence = _FIGURE_TABLES[tp]
        table = f"in {table}"
    else:
        return None
    name = value.get("name")
    entry = f" (the budget named {name!r})" if tp is Budget and isinstance(name, str) else ""
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"key '{where}'{entry}: unknown key{hint}; the keys known {table}: {', '.join(fields)} "
        f"(an error, not a warning: ignored, {consequence})"
    )


def _drop_unknown(value: Any, tp: Any, path: str, unknown: list[str], errors: list[str]) -> None:
    tp = _bare(tp)
    if _is_struct(tp):
        if not isinstance(value, dict):
            return  # a wrong type: msgspec.convert reports it
        fields = _known_fields(tp)
        for key in list(value):
            where = f"{path}.{key}" if path else key
            if key in fields:
                _drop_unknown(value[key], fields[key].type, where, unknown, errors)
                continue
            error = _unknown_key_error(key, where, tp, value, fields)
            if error is not None:
                errors.append(error)
                del value[key]
                continue
            hint = suggest(key, fields)
            if hint:
                hint = hint.replace(" '", f" '{path}." if path else " '", 1)
            unknown.append(f"unknown key '{where}' ignored{hint}")
            del value[key]
    elif typing.get_origin(tp) is list and isinstance(value, list):
        (item,) = typing.get_args(tp)
        for index, entry in enumerate(value):
            _drop_unknown(entry, item, f"{path}[{index}]", unknown, errors)
    elif typing.get_origin(tp) is dict and isinstance(value, dict):
        _, item = typing.get_args(tp)
        for key, entry in value.items():
            _drop_unknown(entry, item, f"{path}.{key}", unknown, errors)


# -- wrong values: the key, what was expected, what was found -----------------------------

_MISSING = object()
_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\.\.\.)\]")
_PATTERN_NAMES = {
    _DURATION_PATTERN: "a duration such as 90s, 5m, 1h or 1.5d (s, m, h or d)",
    _FUNCTION_PATTERN: "a 'module:function' reference",
    _SCORER_PATTERN: "a 'module:function' reference",
    _ATTRIBUTE_PATTERN: "an attribute name (not empty, no spaces)",
    _URL_PATTERN: "an http:// or https:// URL",
}


def _describe(exc: msgspec.ValidationError, raw: dict) -> str:
    message = str(exc)
    what, found, where = message.partition(" - at `$")
    what = what.replace("`", "")
    parts, value, tp = _locate(where.rstrip("`") if found else "", raw)
    field_error = re.match(r"^([a-z_]+): (.*)$", what, re.S)  # from a __post_init__
    if field_error and _is_struct(tp) and field_error[1] in _known_fields(tp):
        name = field_error[1]
        parts.append(name)
        value = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
        what = field_error[2]
    elif what.startswith("Object missing required field"):
        name = message.split("`")[1]
        parts.append(name)
        field = _known_fields(tp).get(name) if _is_struct(tp) else None
        expected = _type_name(field.type) if field is not None else "a value"
        what = f"Expected {expected}, got nothing (the key is required)"
    elif what.startswith("Invalid enum value"):
        choices = typing.get_args(tp) if typing.get_origin(tp) is Literal else ()
        expected = ", ".join(repr(c) for c in choices) if choices else "a known value"
        what = f"Expected one of {expected}, got {_shown(value)}"
    elif what.startswith("Object contains unknown field"):  # not expected: unknown keys are dropped first
        parts.append(message.split("`")[1])
        what = "unknown key"
    else:
        what = what.replace("Expected object", "Expected a table")
        for pattern, name in _PATTERN_NAMES.items():
            what = what.replace(f"str matching regex {pattern!r}", name)
        if ", got " not in what and value is not _MISSING:
            what = f"{what}, got {_shown(value)}"
        elif ", got " in what and value is not _MISSING and _is_scalar(value):
            what = f"{what} ({_shown(value)})"
    key = _render(parts)
    return f"key '{key}': {what}" if key else what


def _locate(where: str, raw: dict) -> tuple[list[str | int], Any, Any]:
    """Walk msgspec's '.a[0].b[...]' path through the raw values and the types together.

    msgspec calls any entry of a table of tables '[...]': the entry that fails on its own
    is the one named."""
    parts: list[str | int] = []
    value: Any = raw
    tp: Any = Settings
    for name, index in _PATH_TOKEN.findall(where):
        tp = _bare(tp)
        if name:
            parts.append(name)
            field = _known_fields(tp).get(name) if _is_struct(tp) else None
            tp = field.type if field is not None else None
            value = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
        elif index != "...":
            parts.append(int(index))
            args = typing.get_args(tp) if typing.get_origin(tp) is list else ()
            tp = args[0] if args else None
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else _MISSING
        else:
            args = typing.get_args(tp) if typing.get_origin(tp) is dict else ()
            tp = args[1] if args else None
            entry = _failing_entry(value, tp) if isinstance(value, dict) else None
            if entry is None:
                parts.append("<each>")
                value = _MISSING
            else:
                parts.append(entry)
                value = value[entry]
    return parts, value, _bare(tp)


def _failing_entry(table: dict, tp: Any) -> str | None:
    for name, entry in table.items():
        try:
            msgspec.convert(entry, type=tp)
        except (msgspec.ValidationError, TypeError):
            return name
    return None


def _render(parts: list[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _type_name(tp: Any) -> str:
    tp = _bare(tp)
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(c) for c in typing.get_args(tp))
    if _is_struct(tp) or typing.get_origin(tp) is dict:
        return "a table"
    if typing.get_origin(tp) is list:
        return "an array"
    return getattr(tp, "__name__", str(tp))


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _shown(value: Any) -> str:
    """A found value as the user wrote it (TOML-ish), shortened."""
    if value is _MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table" if value else "an empty table"
    import json  # only for an error's message (~1 ms of every command's start-up otherwise)

    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
