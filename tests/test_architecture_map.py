"""ARCHITECTURE.md names real places: every path (and module.function) it cites exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CITED = re.compile(r"`([A-Za-z_][\w./]*)`")


def _cited_places(text: str) -> list[str]:
    return [name for name in CITED.findall(text) if "/" in name or name.endswith(".py")]


def _exists(name: str) -> bool:
    """`store/writers.py`, `console/ui/`, `analytics/report.build_report`: under the repo or console/."""
    for root in (REPO, REPO / "console"):
        if (root / name).exists():
            return True
        module, _, attribute = name.rpartition(".")
        path = root / f"{module}.py"
        if attribute and path.is_file():
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
            names |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                      if isinstance(t, ast.Name)}
            if attribute in names:
                return True
    return False


def test_every_place_the_architecture_map_names_exists():
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    cited = _cited_places(text)
    assert len(cited) > 40  # the map names places; a rewrite that drops them should be noticed
    assert [name for name in cited if not _exists(name)] == []


def test_the_readme_links_to_the_map_inside_the_repository():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](ARCHITECTURE.md)" in readme
    assert "../shared" not in readme
