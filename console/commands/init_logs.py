"""`llmops-console init --from-logs FILE`: a registry and first budgets/SLOs from an existing log.

Reads request logs (schema v1 JSONL or OTLP JSON, each file by its content, as ingest does),
prices records without cost_usd the way ingest does (llmops.toml [prices], then
genai-prices), and:

- registers every prompt_id/version seen as prompts/<id>/<version>.txt with front matter
  'text_unknown: true' and the most logged prompt_hash. The registry loads such a version
  as text-unknown (its hash is the logged one, so no false drift shows) and `prompts list`
  and the `p` screen say so. An existing file of that version (any extension) is kept;
- suggests a daily budget and a latency SLO per model from what the log shows, with the rule
  in the output (SUGGESTION_RULES).

Malformed lines are skipped and reported with file and line number. Nothing here prints:
console.commands.init renders the LogSurvey.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from console.analytics.prices import Pricer, PricingTally
from console.commands.init_files import write_new
from console.formatting import rfc3339
from console.prompts.registry import EXTENSIONS, UNKNOWN_MARKER
from console.records import RequestRecord
from console.sources.base import RejectedLine
from console.sources.otlp import OtlpOptions

BUDGET_HEADROOM = 1.5
SLO_HEADROOM = 1.2
SLO_PERCENTILE = 95
MIN_SLO_REQUESTS = 20  # fewer successful requests of a model give no SLO suggestion
SUGGESTION_RULES = (
    f"daily budget = p{SLO_PERCENTILE} of the spend per UTC day seen in the log x {BUDGET_HEADROOM} headroom; "
    f"SLO per model = p{SLO_PERCENTILE} latency of its successful requests x {SLO_HEADROOM} headroom, "
    f"rounded up to 100 ms (models with at least {MIN_SLO_REQUESTS} successful requests)"
)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$")  # as console.prompts.registry's prompt ids
_HEX = re.compile(r"^[0-9a-fA-F]{7,64}$")
MAX_REJECTIONS_KEPT = 20


@dataclass
class SeenVersion:
    prompt_id: str
    prompt_version: str
    requests: int = 0
    first_ts: float = math.inf
    last_ts: float = -math.inf
    hashes: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)


@dataclass
class Registered:
    prompt_id: str
    prompt_version: str
    path: Path | None  # None when the names cannot be a file name
    created: bool
    prompt_hash: str | None
    other_hashes: tuple[str, ...] = ()  # more hashes were logged under the same version: drift
    problem: str | None = None


@dataclass
class SloSuggestion:
    model: str
    requests: int  # successful requests the percentile is over
    p95_ms: float
    max_ms: int | None  # None: too few requests


@dataclass
class LogSurvey:
    files: list[str]
    records: int = 0
    rejected: int = 0
    first_rejections: list[RejectedLine] = field(default_factory=list)
    spans_skipped: int = 0
    pricing: PricingTally = field(default_factory=PricingTally)
    versions: dict[tuple[str, str], SeenVersion] = field(default_factory=dict)
    daily_spend: dict[str, float] = field(default_factory=dict)  # UTC day -> USD of priced records
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # model -> ok latency_ms
    registered: list[Registered] = field(default_factory=list)

    def add(self, records: Sequence[RequestRecord]) -> None:
        self.records += len(records)
        for record in records:
            key = (record.prompt_id, record.prompt_version)
            seen = self.versions.get(key)
            if seen is None:
                seen = self.versions[key] = SeenVersion(*key)
            seen.requests += 1
            ts = float(record.ts)
            seen.first_ts = min(seen.first_ts, ts)
            seen.last_ts = max(seen.last_ts, ts)
            if record.prompt_hash:
                seen.hashes[record.prompt_hash.strip().lower()] += 1
            seen.models[record.model] += 1
            if record.cost_usd is not None:
                day = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")
                self.daily_spend[day] = self.daily_spend.get(day, 0.0) + record.cost_usd
            if record.status == "ok":
                self.latencies[record.model].append(float(record.latency_ms))

    def suggested_daily_budget(self) -> float | None:
        """p95 of the daily spend x headroom, rounded up to two significant figures; None without spend."""
        days = sorted(self.daily_spend.values())
        if not days or days[-1] <= 0:
            return None
        return _round_up(_percentile(days, SLO_PERCENTILE) * BUDGET_HEADROOM)

    def suggested_slos(self) -> list[SloSuggestion]:
        out = []
        for model in sorted(self.latencies):
            values = sorted(self.latencies[model])
            p95 = _percentile(values, SLO_PERCENTILE)
            enough = len(values) >= MIN_SLO_REQUESTS
            max_ms = int(math.ceil(p95 * SLO_HEADROOM / 100.0) * 100) if enough else None
            out.append(SloSuggestion(model, len(values), p95, max(max_ms, 100) if max_ms is not None else None))
        return out


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on a sorted list."""
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low))


def _round_up(value: float) -> float:
    """Up to two significant figures: 37.2 -> 38, 0.0123 -> 0.013."""
    if value <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(value)) - 1)
    return round(math.ceil(value / scale - 1e-9) * scale, 10)


def survey_logs(
    paths: Sequence[str], pricer: Pricer | None = None, source_format: str = "auto", otlp_options: OtlpOptions | None = None
) -> LogSurvey:
    """Read the files to their end (without a store) and tally what init --from-logs needs;
    OTLP spans are read with otlp_options (llmops.toml's [otel], None: the defaults)."""
    from console.sources.detect import LogTail

    survey = LogSurvey(files=list(paths))
    with LogTail(list(paths), {}, watch=False, max_lines=10_000, source_format=source_format,
                 otlp_options=otlp_options) as tail:
        while True:
            batch = tail.read_available()
            if not batch:
                break
            if pricer is not None:
                survey.pricing.add(pricer.fill(batch.records))
            survey.add(batch.records)
            survey.rejected += len(batch.rejected)
            room = MAX_REJECTIONS_KEPT - len(survey.first_rejections)
            if room > 0:
                survey.first_rejections.extend(batch.rejected[:room])
            if batch.lines_read == 0 and not tail.has_more:
                break
        survey.spans_skipped = tail.total_spans_skipped
    return survey


def unknown_text_file(seen: SeenVersion, prompt_hash: str | None, sources: Sequence[str]) -> str:
    """A registry file for a version whose text is unknown: front matter the loader reads, a marker body."""
    lines = ["---", "text_unknown: true"]
    if prompt_hash:
        lines.append(f'prompt_hash: "{prompt_hash}"')
    names = ", ".join(Path(s).name for s in sources)
    lines += [
        f"# registered by `llmops-console init --from-logs` from {_comment(names)}:",
        f"# {seen.requests} request(s), {rfc3339(seen.first_ts, timespec='seconds')} .. "
        f"{rfc3339(seen.last_ts, timespec='seconds')}",
        "---",
        f"{UNKNOWN_MARKER}.",
        "Replace this body with the template's real text and delete the text_unknown and",
        "prompt_hash lines above; if the text's hash is not the logged one, the console shows drift.",
        "",
    ]
    return "\n".join(lines)


def _comment(text: str) -> str:
    """One safe comment line: no newlines or control characters from file names."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:200]


def register_versions(root: Path, survey: LogSurvey) -> list[Registered]:
    """Write prompts/<id>/<version>.txt for every logged version without a file; never overwrite."""
    done: list[Registered] = []
    for key in sorted(survey.versions):
        seen = survey.versions[key]
        valid = [h for h, _ in seen.hashes.most_common() if _HEX.match(h)]
        prompt_hash = valid[0] if valid else None
        others = tuple(h for h, _ in seen.hashes.most_common() if h != prompt_hash)
        if not (SAFE_NAME.match(seen.prompt_id) and SAFE_NAME.match(seen.prompt_version)):
            done.append(Registered(seen.prompt_id, seen.prompt_version, None, False, prompt_hash, others,
                                   problem="not usable as a file name (letters, digits, _ . @ : - only)"))
            continue
        directory = root / seen.prompt_id
        existing = [directory / f"{seen.prompt_version}.{ext}" for ext in EXTENSIONS]
        found = next((p for p in existing if p.exists() or p.is_symlink()), None)
        if found is not None:
            done.append(Registered(seen.prompt_id, seen.prompt_version, found, False, prompt_hash, others))
            continue
        path = directory / f"{seen.prompt_version}.txt"
        created = write_new(path, unknown_text_file(seen, prompt_hash, survey.files))
        done.append(Registered(seen.prompt_id, seen.prompt_version, path, created, prompt_hash, others))
    survey.registered = done
    return done


def suggestion_toml(survey: LogSurvey) -> str:
    """The [[budgets]] and [[slos]] tables to paste into llmops.toml ('' when there is nothing to suggest)."""
    import json

    parts = []
    budget = survey.suggested_daily_budget()
    if budget is not None:
        parts.append(f'[[budgets]]\nname = "daily spend"\nperiod = "day"\namount_usd = {budget:g}\n')
    for slo in survey.suggested_slos():
        if slo.max_ms is not None:
            model = json.dumps(slo.model)  # a TOML basic string
            parts.append(f"[[slos]]\nmodel = {model}\npercentile = {SLO_PERCENTILE}\nmax_ms = {slo.max_ms}\n")
    return "\n".join(parts)
