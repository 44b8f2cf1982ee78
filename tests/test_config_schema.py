"""schemas/llmops-config.schema.json and console/config.py describe the same llmops.toml.

Every example is checked both ways: what one accepts the other accepts, what one rejects the
other rejects, so neither can drift; and errors name the key that is wrong. The one deliberate
difference: an unknown key fails the schema (an editor flags the typo as it is typed) while
the console warns, ignores it and loads the rest -- except in the tables whose keys set a
figure or an alert ([[budgets]], [[slos]], [burn], [prices.<model>], [otel]), where both reject it.
"""

from __future__ import annotations

import json
import tomllib

import jsonschema
import msgspec
import pytest

from conftest import REPO
from console.config import (
    INTERNAL_FIELDS, OTEL_DEFAULT_KEYS, Budget, BurnAlert, BurnSettings, ConfigError, OtelSettings, PriceOverride,
    Settings, Slo, UiSettings, load_settings,
)  # fmt: skip

SCHEMA = json.loads((REPO / "schemas" / "llmops-config.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

FULL_EXAMPLE = """
[ui]
ring_size = 20000

[keys]
"dashboard.pause" = "p"
"requests.open" = "enter,o"

[[budgets]]
name = "all traffic"
period = "month"
amount_usd = 3000

[[budgets]]
name = "one of everything"
period = "day"
amount_usd = 12.5
model = "gpt-4o"
prompt_id = "support-answer"
user_id = "u_086e47"
environment = "production"

[[slos]]
max_ms = 4000

[[slos]]
model = "claude-sonnet-4-5"
percentile = 99.9
max_ms = 2500.5

[burn]
page = {threshold = 10, long = "2h", short = "10m"}

[burn.warn]
threshold = 3.5
long = "1.5d"
short = "90s"

[prices."acme-support-ft"]
input = 3.0
cached_input = 1.5
output = 12

[prices."llama-3.1-70b-selfhosted"]
input = 0
output = 0.0

[otel]
prompt_id_keys = ["app.prompt", "gen_ai.prompt.name"]
prompt_version_keys = ["app.prompt_rev"]
user_keys = []
session_keys = ["app.conversation"]
environment_keys = ["deployment.environment.name"]
"""


def readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    return readme.split("```toml\n", 1)[1].split("```", 1)[0]


def write(tmp_path, text: str):
    path = tmp_path / "llmops.toml"
    path.write_text(text)
    return path


def schema_errors(text: str) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(tomllib.loads(text))]


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("text", [readme_example(), FULL_EXAMPLE, ""], ids=["readme", "full", "empty"])
def test_examples_are_valid_for_both(tmp_path, text):
    assert schema_errors(text) == []
    load_settings(write(tmp_path, text))


def test_the_readme_example_documents_every_table(tmp_path):
    example = tomllib.loads(readme_example())
    assert set(example) == set(SCHEMA["properties"])
    settings = load_settings(write(tmp_path, readme_example()))
    assert settings.budgets and settings.slos and settings.prices
    assert settings.prices["acme-support-ft"].cached_input == 1.5


def test_the_full_example_loads_every_value(tmp_path):
    settings = load_settings(write(tmp_path, FULL_EXAMPLE))
    assert settings.ui.ring_size == 20000
    assert settings.budgets[1].environment == "production"
    assert settings.slos[0].percentile == 95 and settings.slos[0].model is None
    assert settings.burn.page == BurnAlert(threshold=10, long="2h", short="10m")
    assert settings.burn.warn.long == "1.5d"
    assert settings.prices["llama-3.1-70b-selfhosted"].cached_input is None
    assert settings.otel.prompt_id_keys == ["app.prompt", "gen_ai.prompt.name"]
    assert settings.otel.user_keys == [] and settings.otel.session_keys == ["app.conversation"]


# Every Struct of console/config.py and the schema object describing it.
STRUCTS = [
    (Settings, SCHEMA),
    (UiSettings, SCHEMA["properties"]["ui"]),
    (Budget, SCHEMA["properties"]["budgets"]["items"]),
    (Slo, SCHEMA["properties"]["slos"]["items"]),
    (BurnSettings, SCHEMA["properties"]["burn"]),
    (BurnAlert, SCHEMA["$defs"]["burnAlert"]),
    (PriceOverride, SCHEMA["properties"]["prices"]["additionalProperties"]),
    (OtelSettings, SCHEMA["properties"]["otel"]),
]


@pytest.mark.parametrize(("struct", "schema"), STRUCTS, ids=[s.__name__ for s, _ in STRUCTS])
def test_the_schema_has_the_same_keys_and_required_keys(struct, schema):
    info = msgspec.inspect.type_info(struct)
    fields = {f.name for f in info.fields} - INTERNAL_FIELDS
    required = {f.name for f in info.fields if f.required}
    assert set(schema["properties"]) == fields
    assert set(schema.get("required", [])) == required
    assert schema["additionalProperties"] is False


def test_the_schema_defaults_are_the_code_defaults():
    burn = SCHEMA["properties"]["burn"]["properties"]
    assert msgspec.to_builtins(BurnSettings()) == {name: burn[name]["default"] for name in ("page", "warn")}
    assert SCHEMA["properties"]["ui"]["properties"]["ring_size"]["default"] == UiSettings().ring_size
    assert SCHEMA["properties"]["slos"]["items"]["properties"]["percentile"]["default"] == Slo(max_ms=1).percentile
    otel = SCHEMA["properties"]["otel"]["properties"]
    assert {name: otel[name]["default"] for name in otel} == msgspec.to_builtins(OtelSettings())
    assert msgspec.to_builtins(OtelSettings()) == {name: list(keys) for name, keys in OTEL_DEFAULT_KEYS.items()}


GOOD = {
    "ring size at the lower bound": "[ui]\nring_size = 100\n",
    "ring size at the upper bound": "[ui]\nring_size = 1000000\n",
    "empty tables": "[ui]\n[keys]\n[burn]\n[prices]\n",
    "integer amounts": '[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = 1\n',
    "only page": '[burn]\npage = {threshold = 1, long = "60m", short = "1m"}\n',
    "free model": '[prices.m]\ninput = 0\noutput = 0\ncached_input = 0\n',
    "percentile near 100": "[[slos]]\nmax_ms = 1\npercentile = 99.99\n",
    "otel: no user attribute": "[otel]\nuser_keys = []\n",
    "otel: one prompt attribute": '[otel]\nprompt_id_keys = ["my.prompt"]\n',
}

BAD = {
    "ring size too small": "[ui]\nring_size = 99\n",
    "ring size too big": "[ui]\nring_size = 1000001\n",
    "ring size a string": '[ui]\nring_size = "many"\n',
    "ring size a fraction": "[ui]\nring_size = 100.5\n",
    "key binding not a string": '[keys]\n"dashboard.pause" = 5\n',
    "budgets not a list": '[budgets]\nname = "b"\n',
    "budget without name": '[[budgets]]\nperiod = "day"\namount_usd = 1\n',
    "budget without period": '[[budgets]]\nname = "b"\namount_usd = 1\n',
    "budget without amount": '[[budgets]]\nname = "b"\nperiod = "day"\n',
    "budget period week": '[[budgets]]\nname = "b"\nperiod = "week"\namount_usd = 1\n',
    "budget of zero": '[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = 0\n',
    "budget negative": '[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = -5\n',
    "budget amount a string": '[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = "10"\n',
    "budget scope not a string": '[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = 1\nmodel = 4\n',
    "slo without max": "[[slos]]\npercentile = 95\n",
    "slo max zero": "[[slos]]\nmax_ms = 0\n",
    "slo percentile 100": "[[slos]]\nmax_ms = 1\npercentile = 100\n",
    "slo percentile 0": "[[slos]]\nmax_ms = 1\npercentile = 0\n",
    "slo max a boolean": "[[slos]]\nmax_ms = true\n",
    "burn alert without short": '[burn]\npage = {threshold = 1, long = "1h"}\n',
    "burn threshold zero": '[burn]\npage = {threshold = 0, long = "1h", short = "5m"}\n',
    "burn window without unit": '[burn]\npage = {threshold = 1, long = "60", short = "5m"}\n',
    "burn window in weeks": '[burn]\nwarn = {threshold = 1, long = "1w", short = "5m"}\n',
    "burn window a number": '[burn]\nwarn = {threshold = 1, long = 3600, short = "5m"}\n',
    "price without output": "[prices.m]\ninput = 1\n",
    "price without input": "[prices.m]\noutput = 1\n",
    "price negative": "[prices.m]\ninput = -1\noutput = 1\n",
    "price cached negative": "[prices.m]\ninput = 1\noutput = 1\ncached_input = -0.5\n",
    "price a string": '[prices.m]\ninput = "3"\noutput = 1\n',
    "price not a table": "[prices]\nm = 3\n",
    "otel keys not a list": '[otel]\nuser_keys = "user.id"\n',
    "otel key not a string": "[otel]\nsession_keys = [1]\n",
    "otel key empty": '[otel]\nprompt_id_keys = [""]\n',
    "otel key with a space": '[otel]\nprompt_version_keys = ["prompt version"]\n',
    "otel not a table": 'otel = "gen_ai"\n',
}


# Unknown keys: an error for the schema, a warning (file, key, "did you mean") for the console.
UNKNOWN = {
    "unknown top-level key": ("colour = 1\n", "'colour'", None),
    "unknown ui key": ("[ui]\nringsize = 10\n", "'ui.ringsize'", "'ui.ring_size'"),
    "notify unknown key": ('[[notify]]\nurl = "https://x.test/h"\nformt = "slack"\n', "'notify[0].formt'", "'notify[0].format'"),
    "prompt registry misspelt": ('[prompt]\npath = "p"\n', "'prompt'", "'prompts'"),
    "source is not a key": ('source = "elsewhere.toml"\n', "'source'", None),
    "warnings is not a key": ('warnings = ["x"]\n', "'warnings'", None),
}

# Unknown keys where ignoring them would change a figure or an alert: an error for both,
# naming the key, the entry and the keys known there (tests/test_config_figure_keys.py: the CLI).
UNKNOWN_IN_FIGURES = {
    "budget misspelt scope": (
        '[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = 1\nmodle = "x"\n',
        "key 'budgets[0].modle' (the budget named 'b'): unknown key (did you mean 'model'?)",
    ),
    "slo unknown key": ("[[slos]]\nmax_ms = 1\np = 95\n", "key 'slos[0].p': unknown key; the keys known in an [[slos]] entry"),
    "burn unknown alert": ('[burn]\nticket = {threshold = 1, long = "1h", short = "5m"}\n', "key 'burn.ticket': unknown key;"),
    "burn alert misspelt": (
        '[burn]\npage = {threshold = 1, long = "1h", short = "5m", treshold = 2}\n',
        "key 'burn.page.treshold': unknown key (did you mean 'threshold'?)",
    ),
    "price unknown key": (
        "[prices.m]\ninput = 1\noutput = 1\ncache = 1\n", "key 'prices.m.cache': unknown key (did you mean 'cached_input'?)"
    ),
    "otel misspelt key": ('[otel]\nuser_key = ["u"]\n', "key 'otel.user_key': unknown key (did you mean 'user_keys'?)"),
    "budgets table misspelt": (
        '[[budget]]\nname = "b"\nperiod = "day"\namount_usd = 1\n', "key 'budget': unknown key (did you mean 'budgets'?)"
    ),
}


@pytest.mark.parametrize(("text", "message"), UNKNOWN_IN_FIGURES.values(), ids=UNKNOWN_IN_FIGURES.keys())
def test_unknown_keys_that_would_change_a_figure_fail_both(tmp_path, text, message):
    assert schema_errors(text), "the schema accepts it"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)
    assert "(an error, not a warning: ignored, " in str(err.value)


@pytest.mark.parametrize(("text", "key", "suggestion"), UNKNOWN.values(), ids=UNKNOWN.keys())
def test_unknown_keys_fail_the_schema_and_are_warnings_for_the_console(tmp_path, text, key, suggestion):
    assert schema_errors(text), "the schema accepts it"
    path = write(tmp_path, text)
    settings = load_settings(path)
    (warning,) = settings.warnings
    assert warning.startswith(f"{path}: unknown key {key} ignored")
    if suggestion:
        assert f"did you mean {suggestion}?" in warning
    else:
        assert "did you mean" not in warning
    assert settings.source == str(path)


@pytest.mark.parametrize("text", GOOD.values(), ids=GOOD.keys())
def test_good_configs_are_accepted_by_both(tmp_path, text):
    assert schema_errors(text) == []
    load_settings(write(tmp_path, text))


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_bad_configs_are_rejected_by_both(tmp_path, text):
    assert schema_errors(text), "the schema accepts it"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)  # file, key, expected, got
    assert message.startswith(f"{path}: key '") and "Expected " in message and ", got " in message, message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (BAD["budget period week"], "'budgets[0].period'"),
        ('[[budgets]]\nname = "a"\nperiod = "day"\namount_usd = 1\n' + BAD["budget of zero"], "'budgets[1].amount_usd'"),
        (BAD["slo max zero"], "'slos[0].max_ms'"),
        (BAD["slo percentile 100"], "'slos[0].percentile'"),
        (BAD["burn window in weeks"], "'burn.warn.long'"),
        (BAD["burn threshold zero"], "'burn.page.threshold'"),
        (BAD["otel key with a space"], "'otel.prompt_version_keys[0]'"),
    ],
)
def test_errors_name_the_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and key in str(err.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[prices."my-model"]\ninput = "x"\noutput = 1\n', "'prices.my-model.input'"),
        ('[prices.ok]\ninput = 1\noutput = 1\n[prices."my-model"]\ninput = 1\n', "'prices.my-model.output'"),
    ],
)
def test_price_errors_name_the_model(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert key in str(err.value)
