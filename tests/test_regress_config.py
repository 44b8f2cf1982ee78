"""[regression] in llmops.toml: schema and console/config.py agree, errors name the key."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import msgspec
import pytest

from conftest import REPO
from console.config import ConfigError, EmbeddingSettings, RegressionSettings, RegressionTarget, load_settings

SCHEMA = json.loads((REPO / "schemas" / "llmops-config.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
REGRESSION = SCHEMA["properties"]["regression"]
TARGET = SCHEMA["$defs"]["regressionTarget"]
EMBEDDINGS = REGRESSION["properties"]["embeddings"]


@pytest.mark.parametrize(("struct", "schema"), [(RegressionSettings, REGRESSION), (RegressionTarget, TARGET),
                                               (EmbeddingSettings, EMBEDDINGS)],
                         ids=["RegressionSettings", "RegressionTarget", "EmbeddingSettings"])  # fmt: skip
def test_the_schema_has_the_same_keys_and_defaults(struct, schema):
    info = msgspec.inspect.type_info(struct)
    assert {f.name for f in info.fields} == set(schema["properties"])
    assert {f.name for f in info.fields if f.required} == set(schema.get("required", []))
    assert schema["additionalProperties"] is False
    for f in info.fields:
        if "default" in schema["properties"][f.name]:
            assert schema["properties"][f.name]["default"] == f.default, f.name


FULL = """
[regression]
suite = "cases/suite.jsonl"
default_target = "app"
concurrency = 8
timeout_s = 12.5
retries = 0
backoff_s = 0
min_pass_rate = 0.9
critical_tag = "p0"

[regression.targets.app]
type = "command"
argv = ["python3", "answer.py"]
cwd = "app"
env = {MODE = "test"}
timeout_s = 5

[regression.targets.candidate]
type = "http"
base_url = "http://127.0.0.1:8000/v1"
model = "gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"
prompt_file = "prompts/support-answer/{version}.txt"
prompt_version = "v9"
temperature = 0
max_tokens = 400

[regression.targets.lib]
type = "python"
function = "my_app.answer:handle"

[regression.targets.ci]
type = "replay"
path = "regression/recorded.jsonl"

[regression.embeddings]
url = "http://127.0.0.1:8000/v1"
model = "text-embedding-3-small"
api_key_env = "EMBEDDINGS_KEY"
timeout_s = 10
"""

BAD = {
    "concurrency 0": "[regression]\nconcurrency = 0\n",
    "min pass rate above 1": "[regression]\nmin_pass_rate = 1.5\n",
    "negative retries": "[regression]\nretries = -1\n",
    "unknown target type": '[regression.targets.a]\ntype = "shell"\nargv = ["x"]\n',
    "command without argv": '[regression.targets.a]\ntype = "command"\n',
    "empty argv": '[regression.targets.a]\ntype = "command"\nargv = []\n',
    "argv a string": '[regression.targets.a]\ntype = "command"\nargv = "python app.py"\n',
    "python without function": '[regression.targets.a]\ntype = "python"\n',
    "python function without colon": '[regression.targets.a]\ntype = "python"\nfunction = "my_app.answer"\n',
    "http without base_url": '[regression.targets.a]\ntype = "http"\n',
    "replay without path": '[regression.targets.a]\ntype = "replay"\n',
    "timeout zero": '[regression.targets.a]\ntype = "replay"\npath = "x"\ntimeout_s = 0\n',
    "embeddings without model": '[regression.embeddings]\nurl = "http://127.0.0.1:8000/v1"\n',
    "embeddings without url": '[regression.embeddings]\nmodel = "m"\n',
    "embeddings empty url": '[regression.embeddings]\nurl = ""\nmodel = "m"\n',
    "embeddings timeout zero": '[regression.embeddings]\nurl = "u"\nmodel = "m"\ntimeout_s = 0\n',
    "embeddings not a table": '[regression]\nembeddings = "openai"\n',
}


def write(tmp_path, text):
    path = tmp_path / "llmops.toml"
    path.write_text(text)
    return path


def test_the_full_example_is_valid_for_both(tmp_path):
    assert list(VALIDATOR.iter_errors(tomllib.loads(FULL))) == []
    settings = load_settings(write(tmp_path, FULL)).regression
    assert settings.targets["app"].argv == ["python3", "answer.py"] and settings.targets["app"].env == {"MODE": "test"}
    assert settings.targets["candidate"].temperature == 0 and settings.min_pass_rate == 0.9
    assert settings.embeddings == EmbeddingSettings(url="http://127.0.0.1:8000/v1", model="text-embedding-3-small",
                                                    api_key_env="EMBEDDINGS_KEY", timeout_s=10)  # fmt: skip
    assert RegressionSettings().embeddings is None  # `similar` is skipped until one is configured
    assert RegressionSettings().concurrency == 4 and RegressionSettings().suite == "regression/cases.jsonl"


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_bad_regression_configs_are_rejected_by_both(tmp_path, text):
    assert list(VALIDATOR.iter_errors(tomllib.loads(text))), "the schema accepts it"
    with pytest.raises(ConfigError):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "warning"),
    [("[regression]\nsuit = 'x'\n", "unknown key 'regression.suit' ignored (did you mean 'regression.suite'?)"),
     ('[regression.targets.a]\ntype = "replay"\npath = "x"\nargs = 1\n', "unknown key 'regression.targets.a.args' ignored (did you mean 'regression.targets.a.argv'?)")],
)  # fmt: skip
def test_unknown_keys_fail_the_schema_and_are_warnings_for_the_console(tmp_path, text, warning):
    assert list(VALIDATOR.iter_errors(tomllib.loads(text))), "the schema accepts it"
    path = write(tmp_path, text)
    assert load_settings(path).warnings == [f"{path}: {warning}"]


def test_a_default_target_that_is_not_defined(tmp_path):
    # JSON Schema cannot check that one key names another; the code does
    with pytest.raises(ConfigError, match="'regression.default_target'.* got 'ghost'"):
        load_settings(write(tmp_path, '[regression]\ndefault_target = "ghost"\n'))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[regression.targets.ok]\ntype = "replay"\npath = "x"\n[regression.targets.broken]\ntype = "command"\n',
         "'regression.targets.broken.argv'"),
        ('[regression.targets.a]\ntype = "replay"\npath = "x"\ntimeout_s = -1\n', "'regression.targets.a.timeout_s'"),
        ("[regression]\nconcurrency = 0\n", "'regression.concurrency'"),
    ],
)
def test_errors_name_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert key in str(err.value)
