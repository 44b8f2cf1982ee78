"""llmops.toml: typed settings, found in the working directory, then the user config dir.

A wrong key or type fails with the file, the key and what was expected. Today the file
holds the UI settings and key remaps; budgets, SLOs and prices join it with the panes.

    [ui]
    ring_size = 5000          # rows kept in the live requests table

    [keys]                    # binding id = "key[,key...]", ids are listed by `?`
    "dashboard.pause" = "p"
"""

from __future__ import annotations

from pathlib import Path

import msgspec

CONFIG_NAME = "llmops.toml"


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the key."""


class UiSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ring_size: int = msgspec.field(default=5000)

    def __post_init__(self) -> None:
        if not 100 <= self.ring_size <= 1_000_000:
            raise ValueError("ui.ring_size must be between 100 and 1000000")


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ui: UiSettings = msgspec.field(default_factory=UiSettings)
    keys: dict[str, str] = msgspec.field(default_factory=dict)
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
        settings = msgspec.toml.decode(path.read_bytes(), type=Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from None
    except (msgspec.DecodeError, OSError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    settings.source = str(path)
    return settings


def _describe(exc: msgspec.ValidationError) -> str:
    message = str(exc)
    if " - at `$." in message:
        what, _, where = message.partition(" - at `$.")
        key = where.rstrip("`")
        if what.startswith("Object contains unknown field"):
            return f"unknown key '{key}.{what.split('`')[1]}'"
        key = key.replace("[...]", ".<each>")
        return f"key '{key}': {what.replace('`', '')}"
    if message.startswith("Object contains unknown field"):
        return "unknown key " + message.split("`")[1].join("''")
    return message.replace("`", "'")
