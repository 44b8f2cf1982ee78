"""llmops.toml: typed settings, found in the working directory, then the user config dir.

A wrong key or type fails with the file, the key and what was expected. The README and
schemas/llmops-config.schema.json document every key.

    [ui]
    ring_size = 5000          # rows kept in the live requests table

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

    [prices."my-finetune"]    # USD per million tokens
    input = 3.0
    cached_input = 1.5
    output = 12.0

    [prompts]                 # the prompt registry (console/prompts)
    path = "prompts"          # relative to llmops.toml
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

CONFIG_NAME = "llmops.toml"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the key."""


class UiSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ring_size: int = msgspec.field(default=5000)

    def __post_init__(self) -> None:
        if not 100 <= self.ring_size <= 1_000_000:
            raise ValueError("ui.ring_size must be between 100 and 1000000")


Duration = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?(s|m|h|d)$")]
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


class PriceOverride(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """USD per million tokens, for fine-tunes and self-hosted models."""

    input: Annotated[float, msgspec.Meta(ge=0)]
    output: Annotated[float, msgspec.Meta(ge=0)]
    cached_input: Annotated[float, msgspec.Meta(ge=0)] | None = None


TARGET_TYPES = ("command", "python", "http", "replay")
_TARGET_NEEDS = {"command": "argv", "python": "function", "http": "base_url", "replay": "path"}


class RegressionTarget(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One thing the suite can run against (console/regression/targets)."""

    type: Literal["command", "python", "http", "replay"]
    argv: Annotated[list[str], msgspec.Meta(min_length=1)] | None = None  # command: no shell
    cwd: str | None = None  # command: working directory (relative to llmops.toml)
    env: dict[str, str] | None = None  # command: added to the environment
    function: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")] | None = None  # python
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
            raise ValueError(f"a {self.type} target needs '{needed}'")


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

    def __post_init__(self) -> None:
        if self.default_target is not None and self.default_target not in self.targets:
            raise ValueError(f"regression.default_target {self.default_target!r} is not in [regression.targets]")


DEFAULT_REASONS = ("wrong answer", "hallucination", "unsafe", "format", "tone", "too slow", "other")
ScorerRef = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")]
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


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ui: UiSettings = msgspec.field(default_factory=UiSettings)
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    budgets: list[Budget] = msgspec.field(default_factory=list)
    slos: list[Slo] = msgspec.field(default_factory=list)
    burn: BurnSettings = msgspec.field(default_factory=BurnSettings)
    prices: dict[str, PriceOverride] = msgspec.field(default_factory=dict)
    regression: RegressionSettings = msgspec.field(default_factory=RegressionSettings)
    evaluation: EvaluationSettings = msgspec.field(default_factory=EvaluationSettings)
    prompts: PromptSettings = msgspec.field(default_factory=PromptSettings)
    source: str | None = None


def find_config(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
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
    path = find_config(explicit)
    if path is None:
        return Settings()
    try:
        raw = msgspec.toml.decode(path.read_bytes())
    except (msgspec.DecodeError, OSError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if "source" in raw:  # Settings.source records where the settings came from; not a key
        raise ConfigError(f"{path}: unknown key 'source'")
    try:
        settings = msgspec.convert(raw, type=Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc, raw)}") from None
    settings.source = str(path)
    return settings


def _describe(exc: msgspec.ValidationError, raw: dict) -> str:
    message = str(exc)
    if " - at `$." in message:
        what, _, where = message.partition(" - at `$.")
        key = _name_entry(where.rstrip("`"), raw)
        if what.startswith("Object contains unknown field"):
            return f"unknown key '{key}.{what.split('`')[1]}'"
        return f"key '{key}': {what.replace('`', '')}"
    if message.startswith("Object contains unknown field"):
        return "unknown key " + message.split("`")[1].join("''")
    return message.replace("`", "'")


def _name_entry(where: str, raw: dict) -> str:
    """msgspec calls any entry of a table of tables '[...]': find which one is wrong."""
    table, found, rest = where.partition("[...]")
    entries: object = raw
    for part in table.split("."):  # nested tables of tables too, e.g. regression.targets
        entries = entries.get(part) if isinstance(entries, dict) else None
    if found and isinstance(entries, dict):
        for name, value in entries.items():
            candidate: dict = {name: value}
            for part in reversed(table.split(".")):
                candidate = {part: candidate}
            try:
                msgspec.convert(candidate, type=Settings)
            except msgspec.ValidationError:
                return f"{table}.{name}{rest}"
    return where.replace("[...]", ".<each>")
