"""`module:function` references, as python targets and python assertions name them.

The working directory is importable (as with `python -m`), so a project's own checks in
`my_checks.py` or `tests/checks.py` load without installing anything.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from typing import Any, Callable

_cache: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()


class LoadError(Exception):
    """The reference is malformed, its module does not import, or it names no callable."""


def load_callable(reference: str, *, what: str = "function") -> Callable[..., Any]:
    found = _cache.get(reference)
    if found is not None:
        return found
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise LoadError(f"{what} {reference!r}: expected 'module:function'")
    with _lock:
        cwd = os.getcwd()
        if cwd not in sys.path:
            sys.path.append(cwd)
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or anything the module raises at import time
            raise LoadError(f"{what} {reference!r}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise LoadError(f"{what} {reference!r}: {module_name} has no {attribute!r}")
    if not callable(target):
        raise LoadError(f"{what} {reference!r}: {attribute!r} is not callable")
    _cache[reference] = target
    return target
