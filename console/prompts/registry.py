"""The registry in files: prompts/<prompt_id>/<version>.<ext>, git is the history.

    prompts/
      support-answer/
        v7.txt             the text; {{ var }} placeholders are filled by render()
        v8.md              optional front matter: a leading '---' block of 'key: value' lines
        v8.toml            or a side file: model = "gpt-4o", temperature = 0.2, [parameters]
        labels.toml        production = "v7", candidate = "v8"
        v5.txt             registered from logs (`init --from-logs`): front matter
                           'text_unknown: true' and the logged 'prompt_hash: <hex>'; the
                           body is only a marker, so the version's hash is the logged one

A version's hash is the sha256 of its normalised text (front matter excluded; trailing
whitespace per line stripped, \\r\\n as \\n, no final newline), so an editor's line endings
do not make a new version. Logs carry the short form (12 hex). Every problem (a duplicate
version, an unreadable file, a label naming no version, a missing variable when rendering)
raises PromptError naming the file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

EXTENSIONS = ("txt", "md", "j2", "jinja", "tmpl")
SHORT = 12
LABELS_FILE = "labels.toml"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_OPEN = re.compile(r"\{\{(?!\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$")
_HEX = re.compile(r"^[0-9a-f]{7,64}$")
TEXT_UNKNOWN = "text_unknown"  # front matter key of a version registered from logs
UNKNOWN_MARKER = "text unknown: registered from logs"


class PromptError(Exception):
    """A registry file that cannot be used; the message starts with the file."""


def normalise(text: str) -> str:
    """The text a hash is taken of: \\r\\n -> \\n, no trailing whitespace per line, no final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def content_hash(text: str) -> str:
    """sha256 (hex) of the normalised text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def hash_matches(logged: str, full: str) -> bool:
    """A logged prompt_hash (short or full form) names this full hash."""
    logged = logged.strip().lower()
    if len(full) < 64:  # a version registered from logs holds the logged (often short) form
        return len(logged) >= 7 and len(full) >= 7 and (full.startswith(logged) or logged.startswith(full))
    return len(logged) >= 7 and full.startswith(logged)


def natural_key(version: str) -> tuple:
    """v2 < v10: digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version) if part)


@dataclass(frozen=True)
class PromptVersion:
    prompt_id: str
    version: str
    path: Path
    text: str  # the body, front matter excluded, as written
    hash: str  # full sha256 hex of normalise(text)
    model: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    text_unknown: bool = False  # registered from logs: hash is the logged one ('' if none was logged)

    @property
    def short_hash(self) -> str:
        return self.hash[:SHORT]

    @property
    def variables(self) -> tuple[str, ...]:
        """The placeholders, in order of first appearance."""
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.text)))

    def render(self, variables: Mapping[str, Any] | None = None) -> str:
        """The text with every {{ var }} filled; a missing variable is an error, never ''."""
        if self.text_unknown:
            raise PromptError(f"{self.path}: {UNKNOWN_MARKER}; put the template's real text in the file first")
        values = variables or {}
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise PromptError(f"{self.path}: missing variable(s) for rendering: {', '.join(missing)}")
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.text)


@dataclass
class Prompt:
    prompt_id: str
    directory: Path
    versions: list[PromptVersion]  # oldest first (natural order of the version names)
    labels: dict[str, str] = field(default_factory=dict)  # label -> version

    def version(self, name: str) -> PromptVersion | None:
        return next((v for v in self.versions if v.version == name), None)

    def previous(self, name: str) -> PromptVersion | None:
        names = [v.version for v in self.versions]
        if name not in names:
            return None
        index = names.index(name)
        return self.versions[index - 1] if index > 0 else None


@dataclass
class Registry:
    root: Path
    prompts: dict[str, Prompt]

    def get(self, prompt_id: str, version: str) -> PromptVersion | None:
        prompt = self.prompts.get(prompt_id)
        return prompt.version(version) if prompt else None

    def versions(self) -> list[PromptVersion]:
        return [v for prompt in self.prompts.values() for v in prompt.versions]


def registry_root(path: str, config_source: str | None) -> Path:
    """[prompts] path, relative to the config file's directory (else the working directory)."""
    root = Path(path).expanduser()
    if root.is_absolute():
        return root
    base = Path(config_source).resolve().parent if config_source else Path.cwd()
    return base / root


def load_registry(root: Path) -> Registry:
    """Every prompt under root (a missing root is an empty registry)."""
    root = Path(root)
    prompts: dict[str, Prompt] = {}
    if not root.is_dir():
        return Registry(root=root, prompts=prompts)
    for directory in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        prompts[directory.name] = load_prompt(directory)
    return Registry(root=root, prompts=prompts)


def load_prompt(directory: Path) -> Prompt:
    prompt_id = directory.name
    if not _ID.match(prompt_id):
        raise PromptError(f"{directory}: not a valid prompt id (letters, digits, _ . @ : -)")
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix[1:] not in EXTENSIONS:
            continue
        version = path.stem
        if version in found:
            raise PromptError(f"{path}: duplicate version {version!r} (also {found[version].name})")
        found[version] = path
    labels = _read_labels(directory / LABELS_FILE, found)
    by_version: dict[str, list[str]] = {}
    for label, version in labels.items():
        by_version.setdefault(version, []).append(label)
    versions = [
        _load_version(prompt_id, name, path, tuple(by_version.get(name, ())))
        for name, path in sorted(found.items(), key=lambda item: natural_key(item[0]))
    ]
    return Prompt(prompt_id=prompt_id, directory=directory, versions=versions, labels=labels)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise PromptError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PromptError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{path}: not valid TOML: {exc}") from None


def _read_labels(path: Path, versions: Mapping[str, Path]) -> dict[str, str]:
    if not path.is_file():
        return {}
    labels: dict[str, str] = {}
    for label, version in _read_toml(path).items():
        if not isinstance(version, str):
            raise PromptError(f"{path}: label {label!r} must name a version as a string")
        if version not in versions:
            raise PromptError(f"{path}: label {label!r} names version {version!r}, which has no file")
        labels[label] = version
    return labels


def _scalar(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def split_front_matter(raw: str, path: Path) -> tuple[dict[str, Any], str]:
    """A leading '---' block of 'key: value' lines, and the body after it."""
    text = raw.lstrip("\ufeff")
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise PromptError(f"{path}: front matter opened with '---' is never closed") from None
    meta: dict[str, Any] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip():
            raise PromptError(f"{path}:{number}: front matter lines are 'key: value', got {line.strip()!r}")
        meta[key.strip()] = _scalar(value)
    return meta, "\n".join(lines[end + 1 :])


def _load_version(prompt_id: str, version: str, path: Path, labels: tuple[str, ...]) -> PromptVersion:
    meta, body = split_front_matter(_read_text(path), path)
    side = path.with_suffix(".toml")
    if side.is_file():
        meta = {**meta, **_read_toml(side)}
    unclosed = _OPEN.search(body)
    if unclosed and "}}" not in body[unclosed.end() :]:
        line = body.count("\n", 0, unclosed.start()) + 1
        raise PromptError(f"{path}: line {line}: '{{{{' is never closed with '}}}}'")
    model = meta.pop("model", None)
    if model is not None and not isinstance(model, str):
        raise PromptError(f"{path}: model must be a string")
    parameters = meta.pop("parameters", {})
    if not isinstance(parameters, dict):
        raise PromptError(f"{path}: parameters must be a table")
    text_unknown = meta.pop(TEXT_UNKNOWN, False)
    if not isinstance(text_unknown, bool):
        raise PromptError(f"{path}: {TEXT_UNKNOWN} must be true or false")
    logged = meta.pop("prompt_hash", None)
    digest = content_hash(body)
    if text_unknown:
        logged = "" if logged is None else str(logged).strip().lower()
        if logged and not _HEX.match(logged):
            raise PromptError(f"{path}: prompt_hash must be 7 to 64 hex digits, got {logged[:80]!r}")
        digest = logged
    elif logged is not None:
        raise PromptError(f"{path}: prompt_hash is only for a version with {TEXT_UNKNOWN}: true "
                          "(a known text's hash is computed from it)")
    parameters = {**meta, **parameters}
    return PromptVersion(
        prompt_id=prompt_id, version=version, path=path, text=body, hash=digest,
        model=model, parameters=parameters, labels=labels, text_unknown=text_unknown,
    )  # fmt: skip
