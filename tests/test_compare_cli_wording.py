"""`compare`'s words for two user-trial cases.

1. The same arm twice (`--a model=gpt-4o --b model=gpt-4o`) was headed `A: A (gpt-4o)` and
   `B: B (gpt-4o)`: the labels made different for the verdict got the column's A:/B: again.
2. `--a model=gpt` exited 0 with an empty arm and a list of models, never saying that no
   model is named exactly `gpt` while gpt-4o and gpt-4o-mini contain it: the console's `/`
   filter says it (console.analytics.filters.near_name); compare now says it too.
"""

from __future__ import annotations

from typer.testing import CliRunner

from console.cli import app as cli_app
from test_compare import rollout, store_url  # noqa: F401 (fixtures)

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_same_arm_twice_is_headed_by_its_name_once(store_url):  # noqa: F811
    args = ["compare", "--a", "model=gpt-4o-mini", "--b", "model=gpt-4o-mini", "--store", store_url]
    result = runner.invoke(cli_app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    assert "A: gpt-4o-mini" in result.stdout and "B: gpt-4o-mini" in result.stdout, result.stdout
    assert "A (" not in result.stdout and "B (" not in result.stdout, result.stdout
    assert "both arms are the same 1,000 requests" in words(result.stdout)


def test_a_model_named_by_a_part_of_its_name_says_which_models_it_is_a_part_of(store_url):  # noqa: F811
    result = runner.invoke(cli_app, ["compare", "--a", "model=GPT", "--b", "version=v8", "--store", store_url], env=WIDE)
    assert result.exit_code == 0, result.output
    said = words(result.output)
    assert "no model is named 'gpt' (an arm names one exactly, ignoring case)" in said, said
    assert "named like it: gpt-4o-mini, e.g. --a model=gpt-4o-mini" in said, said
    # a name nothing contains gets the lists only; an exact one no hint at all
    result = runner.invoke(cli_app, ["compare", "--a", "version=v7", "--b", "model=claude", "--store", store_url])
    assert "no request matches model=claude" in words(result.output) and "named like it" not in result.output
    result = runner.invoke(cli_app, ["compare", "--a", "version=v7", "--b", "model=gpt-4o-mini", "--store", store_url])
    assert "no model is named" not in result.output
