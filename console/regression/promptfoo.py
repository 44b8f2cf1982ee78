"""A promptfoo suite (promptfooconfig.yaml) read as it is, into our cases.

What is read: `prompts` (strings, file:// text/JSON/YAML, {raw, label}), `tests` (inline, and
file:// YAML, JSON, JSONL and CSV files or globs), each test's `vars` (file:// values read,
a list value expanded into one test per value, as promptfoo does), `defaultTest` (its vars under
each test's, its assert before each test's), `assert` with the types console.cases.format knows,
`threshold` (a test's, any number; `threshold: null` falls through to defaultTest's, as
promptfoo's `??` does, and one that is text or a boolean is ignored with a note, as promptfoo only
warns; an assertion's threshold that is not a number makes the test not run, as promptfoo refuses
the config), `description` and `metadata`. Each test × each prompt is one case; the prompt is
rendered with the vars (Jinja2) into the case's input text and the vars kept beside it, so the
console's one target answers every case, whatever `providers` says.

What cannot be mapped is listed per test with the reason and the test is not run (it is never
passed): javascript assertions and transforms, a test's own provider, assertion types we do not
have (factuality, bleu, …), prompts that are functions. A top-level `redteam` or several
providers become suite notes. Our own exported suites carry each case in metadata.llmops
(console.regression.promptfoo_export), so an unedited round trip gives back the same cases.
The cases triage made for the suite (`<stem>.cases.jsonl` beside it: console.cases.file) run
after its tests.
"""

from __future__ import annotations

import csv
import glob
import io
import itertools
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

from console.cases.file import cases_beside
from console.cases.format import ASSERTION_KINDS, REFUSED_KINDS, CaseError, RegressionCase, parse_case
from console.regression.checks.values import FILE_PREFIX, render
from console.regression.promptfoo_export import original_case
from console.regression.suite import CaseProblem, Suite, SuiteError, display_path, load_suite, read_suite_file

ASSERTION_KEYS = frozenset({"type", "value", "threshold", "weight", "metric", "config", "normalizeUnicode", "assert",
                            "description"})  # fmt: skip
GRADER_KEYS = frozenset({"provider", "rubricPrompt"})  # our judge grades instead: a note, not a skip
TEST_KEYS = frozenset({"description", "vars", "assert", "threshold", "metadata", "options"})
_CSV_ASSERTION = re.compile(r"^((?:not-)?[a-z][a-z-]*)(?:\((\d*\.?\d+)\))?:\s?(.*)$", re.DOTALL)
_CSV_ALIASES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}
# promptfoo types with no counterpart here: a CSV "factuality: …" is that type (reported), not text
PROMPTFOO_ONLY_KINDS = frozenset({
    "factuality", "model-graded-closedqa", "model-graded-factuality", "answer-relevance", "context-faithfulness",
    "context-recall", "context-relevance", "rouge-n", "bleu", "gleu", "meteor", "perplexity", "perplexity-score",
    "classifier", "moderation", "webhook", "g-eval", "select-best", "max-score", "ends-with", "is-xml",
    "contains-xml", "is-sql", "contains-sql", "is-html", "contains-html", "is-valid-openai-tools-call",
    "is-valid-function-call", "tool-call-f1", "ruby", "word-count", "character-count", "pi",
})  # fmt: skip


class PromptfooYamlLoader(yaml.SafeLoader):
    """YAML as promptfoo (js-yaml, YAML 1.2) reads it: only true/false are booleans, so a var
    `body: Yes` or `answer: no` stays the text it is (PyYAML's YAML 1.1 makes them True/False)."""


PromptfooYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PromptfooYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(text: str | bytes) -> Any:
    return yaml.load(text, Loader=PromptfooYamlLoader)  # noqa: S506 (a SafeLoader)


class Unmappable(Exception):
    """A part of a test that cannot run here; the test is listed with this reason and not run."""


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if suffix in (".yaml", ".yml"):
        return read_yaml(text)
    if suffix == ".csv":
        return [_csv_test(row) for row in csv.DictReader(io.StringIO(text))]
    return text


def _files(reference: str, base: Path) -> list[Path]:
    pattern = reference[len(FILE_PREFIX):] if reference.startswith(FILE_PREFIX) else reference
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    found = sorted(Path(p) for p in glob.glob(full)) if glob.has_magic(full) else [Path(full)]
    if not found:
        raise SuiteError(f"{reference}: no file matches")
    return found


def load_references(reference: str, base: Path) -> list[Any]:
    """A file:// reference's content, parsed by its extension: one value per file (a glob)."""
    try:
        return [_read(p) for p in _files(reference, base)]
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SuiteError(f"{reference}: cannot read: {exc}") from None


def load_reference(reference: str, base: Path) -> Any:
    values = load_references(reference, base)
    return values if len(values) > 1 else values[0]


def _csv_assertion(text: str) -> dict[str, Any]:
    match = _CSV_ASSERTION.match(text)
    if match:
        kind, threshold, value = match.groups()
        base = kind.removeprefix("not-")
        base = _CSV_ALIASES.get(base, base)
        kind = ("not-" if kind.startswith("not-") else "") + base
        if base in ASSERTION_KINDS or base in PROMPTFOO_ONLY_KINDS:
            out: dict[str, Any] = {"type": kind, "value": value}
            if threshold:
                out["threshold"] = float(threshold)
            return out
    if text.strip() in ("is-json", "contains-json", "is-refusal", "not-is-refusal", "not-is-json"):
        return {"type": text.strip()}
    return {"type": "equals", "value": text}


def _csv_test(row: dict[str, str]) -> dict[str, Any]:
    test: dict[str, Any] = {"vars": {}, "assert": []}
    for key, value in row.items():
        if key is None:
            continue
        if key.startswith("__expected"):
            if value:
                test["assert"].append(_csv_assertion(value))
        elif key.startswith("__metadata:"):
            if value:
                test.setdefault("metadata", {})[key.removeprefix("__metadata:")] = value
        elif key == "__description":
            test["description"] = value
        elif key == "__threshold" and value:
            test["threshold"] = float(value)
        elif key == "__metric" and value:
            for a in test["assert"]:
                a.setdefault("metric", value)
        elif not key.startswith("__"):
            test["vars"][key] = value
    return test


def _prompts(config: dict, base: Path) -> list[tuple[str, Any]]:
    """(label, template) per prompt; a template is text, a list of messages, or an Unmappable."""
    raw = config.get("prompts")
    if raw is None:
        return [("", None)]
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else [{"raw": k, "label": v} for k, v in raw.items()]
    prompts: list[tuple[str, Any]] = []
    for item in items:
        label = item.get("label") or item.get("id") if isinstance(item, dict) else None
        text = item.get("raw", item.get("id")) if isinstance(item, dict) else item
        if not isinstance(text, str):
            prompts.append((str(label or len(prompts) + 1), Unmappable("a prompt that is not text")))
            continue
        if text.startswith(FILE_PREFIX):
            if re.search(r"\.(py|js|mjs|cjs|ts)(:\w+)?$", text):
                prompts.append((str(label or text), Unmappable(f"prompt {text} is a function (promptfoo runs it)")))
                continue
            loaded = load_reference(text, base)
            for part in loaded if isinstance(loaded, list) and not _is_chat(loaded) else [loaded]:
                pieces = [p.strip() for p in re.split(r"\n-{3,}\n", part)] if isinstance(part, str) else [part]
                prompts.extend((str(label or text) + (f"#{i + 1}" if len(pieces) > 1 else ""), p) for i, p in enumerate(pieces))
            continue
        prompts.append((str(label or text[:40]), _chat(text)))
    return prompts


def _is_chat(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def _chat(text: str) -> Any:
    """A prompt written as a JSON list of messages is a chat prompt."""
    if text.lstrip().startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if _is_chat(parsed):
            return parsed
    return text


def _tests(config: dict, base: Path) -> list[Any]:
    raw = config.get("tests") or []
    items = raw if isinstance(raw, list) else [raw]
    tests: list[Any] = []
    for item in items:
        if not isinstance(item, str):
            tests.append(item)
            continue
        for loaded in load_references(item, base):
            tests.extend(loaded if isinstance(loaded, list) else [loaded])
    return tests


def _vars(raw: Any, base: Path) -> list[dict[str, Any]]:
    """A test's vars, file:// values read; a list value makes one set of vars per item."""
    variables = {k: load_reference(v, base) if isinstance(v, str) and v.startswith(FILE_PREFIX) else v
                 for k, v in (raw or {}).items()}  # fmt: skip
    spread = [k for k, v in variables.items() if isinstance(v, list)]
    if not spread:
        return [variables]
    return [{**variables, **dict(zip(spread, combo))} for combo in itertools.product(*(variables[k] for k in spread))]


def _assertion(raw: Any, notes: list[str]) -> dict[str, Any]:
    if isinstance(raw, str):
        raise Unmappable(f"assertion {raw!r} is not an object")
    kind = str(raw.get("type", ""))
    base = kind.removeprefix("not-")
    if base in REFUSED_KINDS:
        raise Unmappable(f"{kind} assertion (no JavaScript runs here)")
    if base not in ASSERTION_KINDS:
        raise Unmappable(f"promptfoo's {kind or 'untyped'} assertion has no counterpart here")
    if raw.get("transform") is not None or raw.get("contextTransform") is not None:
        raise Unmappable(f"{kind} with a transform (JavaScript)")
    if "threshold" in raw and not _js_number(raw["threshold"]):
        # promptfoo's validateAssertions parses each assertion with its schema (threshold:
        # z.number().optional()) and refuses the config: `threshold:` left empty is not "none"
        raise Unmappable(f"{kind} has threshold {raw['threshold']!r}, not a number (promptfoo refuses the config)")
    notes.extend(f"{kind}: {key} ignored (our LLM judge grades)" for key in GRADER_KEYS & raw.keys())
    unknown = set(raw) - ASSERTION_KEYS - GRADER_KEYS
    if unknown:
        raise Unmappable(f"{kind} has keys we cannot honour: {', '.join(sorted(unknown))}")
    out = {k: v for k, v in raw.items() if k in ASSERTION_KEYS}
    if base == "assert-set":
        out["assert"] = [_assertion(a, notes) for a in raw.get("assert") or []]
    return out


def _js_number(value: Any) -> bool:
    """A number as zod's z.number() takes one: finite, not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _test_threshold(test: dict, default: dict) -> Any:
    """promptfoo's `test.threshold ?? defaultTest.threshold` (a null falls through to defaultTest's),
    applied only when it is a number and not NaN (AssertionsResult.testResult), of any size: null,
    text or a boolean is no threshold (promptfoo's config check only warns about those)."""
    threshold = test.get("threshold")
    if threshold is None:
        threshold = default.get("threshold")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or math.isnan(threshold):
        return None
    if math.isinf(threshold):  # YAML's .inf: JSON has no Infinity; the largest float fails (passes) the same scores
        return math.copysign(sys.float_info.max, threshold)
    return threshold


def _threshold_note(test: dict, default: dict) -> str | None:
    threshold = test.get("threshold")
    if threshold is None:
        threshold = default.get("threshold")
    if threshold is None or _test_threshold(test, default) is not None:
        return None
    return f"threshold {threshold!r} is not a number: ignored (promptfoo warns and runs without it)"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "test"


class _Loader:
    def __init__(self, path: Path, shown: str, config: dict) -> None:
        self.path, self.shown, self.config, self.base = path, shown, config, path.parent
        self.suite = Suite(shown)
        self.seen: set[str] = set()

    def resolve(self, raw: Any) -> Any:
        """An assertion written as {$ref: "#/assertionTemplates/name"}: the object it points at."""
        if not isinstance(raw, dict) or "$ref" not in raw:
            return raw
        reference = str(raw["$ref"])
        if not reference.startswith("#/"):
            raise Unmappable(f"$ref {reference} points outside the config")
        found: Any = self.config
        for part in reference[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(found, dict) or part not in found:
                raise Unmappable(f"$ref {reference} points at nothing in the config")
            found = found[part]
        return {**found, **{k: v for k, v in raw.items() if k != "$ref"}} if isinstance(found, dict) else found

    def skip(self, where: str, reason: str) -> None:
        self.suite.problems.append(CaseProblem(self.shown, 0, reason, where=where, not_run=True))

    def load(self, only, tags) -> Suite:
        config = self.config
        if config.get("redteam"):
            self.suite.notes.append("redteam: not run here (promptfoo generates and grades those tests)")
        providers = config.get("providers") or config.get("targets")
        if isinstance(providers, list) and len(providers) > 1:
            self.suite.notes.append(f"{len(providers)} providers: the cases run against the console's one target")
        default = config.get("defaultTest") or {}
        if isinstance(default, str):
            default = load_reference(default, self.base) or {}
        if (default.get("options") or {}).get("provider"):
            self.suite.notes.append("defaultTest options.provider (a grader) ignored: our LLM judge grades")
        prompts = _prompts(config, self.base)
        for number, test in enumerate(_tests(config, self.base), start=1):
            name = test.get("description") if isinstance(test, dict) else None
            where = f"tests[{number}]" + (f" {str(name)[:40]!r}" if name else "")
            if not isinstance(test, dict):
                self.skip(where, "a test that is not an object")
                continue
            for case in self.cases(number, where, test, default, prompts):
                if case.status == "archived":
                    self.suite.archived += 1
                elif (only is None or case.id in only) and (not tags or tags.intersection(case.tags)):
                    self.suite.cases.append(case)
        return self.suite

    def cases(self, number: int, where: str, test: dict, default: dict, prompts) -> list[RegressionCase]:
        own = (test.get("metadata") or {}).get("llmops") if isinstance(test.get("metadata"), dict) else None
        notes: list[str] = []
        reasons: list[str] = []  # every part that cannot run, so the report names them all
        if test.get("provider"):
            reasons.append("the test names its own provider (promptfoo would call it)")
        options = {**(default.get("options") or {}), **(test.get("options") or {})}
        if (test.get("options") or {}).get("provider"):
            notes.append("options.provider (a grader) ignored: our LLM judge grades")
        if options.get("transform") or options.get("postprocess"):
            reasons.append("options.transform (JavaScript)")
        unknown = set(test) - TEST_KEYS - {"provider"}
        if unknown:
            reasons.append(f"keys we cannot honour: {', '.join(sorted(unknown))}")
        asserts = []
        for raw in [*(default.get("assert") or []), *(test.get("assert") or [])]:
            try:
                asserts.append(_assertion(self.resolve(raw), notes))
            except Unmappable as exc:
                reasons.append(str(exc))
        try:
            var_sets = _vars({**(default.get("vars") or {}), **(test.get("vars") or {})}, self.base)
        except SuiteError as exc:
            reasons.append(str(exc))
        if reasons:
            self.skip(where, "; ".join(dict.fromkeys(reasons)))
            return []
        ignored = _threshold_note(test, default)
        if ignored:
            notes.append(ignored)
        spread = len(var_sets) > 1
        built = []
        for (label, template), variables in itertools.product(prompts, var_sets):
            if isinstance(template, Unmappable):
                self.skip(f"{where} × {label}", str(template))
                continue
            original = original_case(own, test) if own is not None and len(prompts) == 1 and not spread else None
            case = original or self.case(number, test, default, label if len(prompts) > 1 else "", template,
                                         variables, asserts, spread)
            if case is None:
                continue
            if case.id in self.seen:
                self.skip(where, f"duplicate id {case.id!r}")
                continue
            self.seen.add(case.id)
            built.append(case)
        for note in notes:
            self.suite.notes.append(f"{where}: {note}")
        return built

    def case(self, number, test, default, label, template, variables, asserts, spread) -> RegressionCase | None:
        where = f"tests[{number}]"
        name = str(test.get("description") or "")
        case_id = f"{number}-{_slug(name)}" if name else f"test-{number}"
        if label:
            case_id += f"@{_slug(label)}"
        if spread:
            case_id += "-" + _slug("-".join(str(v)[:12] for v in variables.values()))
        given: dict[str, Any] = {"vars": variables}
        if isinstance(template, str):
            given["text"] = render(template, variables)
        elif isinstance(template, list):
            given["messages"] = render(template, variables)
        threshold = _test_threshold(test, default)
        metadata = test.get("metadata") if isinstance(test.get("metadata"), dict) else {}
        data = {"id": case_id, "input": given, "assert": asserts, "threshold": threshold,
                "description": name or None, "tags": [str(t) for t in metadata.get("tags") or []],
                "source": {"kind": "import", "note": f"promptfoo {self.shown} {where}"}}  # fmt: skip
        try:
            return parse_case(msgspec.json.encode({k: v for k, v in data.items() if v is not None}))
        except (CaseError, msgspec.EncodeError) as exc:
            self.skip(where, f"does not make a case: {exc}")
            return None


def load_promptfoo(path: str | Path, *, only: set[str] | None = None, tags: set[str] | None = None) -> Suite:
    path = Path(path)
    shown = display_path(path)
    try:
        config = read_yaml(read_suite_file(path, shown))
    except yaml.YAMLError as exc:
        raise SuiteError(f"{shown}: not YAML: {exc}") from None
    if not isinstance(config, dict):
        raise SuiteError(f"{shown}: not a promptfoo config (expected a mapping with tests)")
    suite = _Loader(path, shown, config).load(only, tags)
    beside = cases_beside(path)
    if beside.is_file():  # the cases triage made for this suite (console.cases.file)
        extra = load_suite(beside, only=only, tags=tags)
        seen = {case.id for case in suite.cases}
        suite.problems.extend(extra.problems)
        suite.archived += extra.archived
        for case in extra.cases:
            if case.id in seen:
                reason = "duplicate id: a promptfoo test has it; skipped"
                suite.problems.append(CaseProblem(extra.path, 0, reason, where=f"case {case.id!r}"))
            else:
                suite.cases.append(case)
    return suite
