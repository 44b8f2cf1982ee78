"""[evaluation] in llmops.toml: console/config.py and the JSON Schema agree, errors name the key."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import msgspec
import pytest

from conftest import REPO
from console.config import ConfigError, EvaluationSettings, JudgeSettings, load_settings

SCHEMA = json.loads((REPO / "schemas" / "llmops-config.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
EVALUATION = SCHEMA["properties"]["evaluation"]
STRUCTS = [(EvaluationSettings, EVALUATION), (JudgeSettings, EVALUATION["properties"]["judge"])]


def write(tmp_path, text: str):
    path = tmp_path / "llmops.toml"
    path.write_text(text)
    return path


def schema_errors(text: str) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(tomllib.loads(text))]


@pytest.mark.parametrize(("struct", "schema"), STRUCTS, ids=[s.__name__ for s, _ in STRUCTS])
def test_the_schema_has_the_same_keys_and_defaults(struct, schema):
    info = msgspec.inspect.type_info(struct)
    assert set(schema["properties"]) == {f.name for f in info.fields}
    assert set(schema.get("required", [])) == {f.name for f in info.fields if f.required}
    assert schema["additionalProperties"] is False
    defaults = msgspec.to_builtins(struct())
    for name, value in defaults.items():
        if isinstance(value, dict):
            continue  # a nested table: checked as its own struct
        assert schema["properties"][name].get("default") == value, name


GOOD = {
    "everything": """
[evaluation]
sample_rate = 0.25
watch_prompts = ["support-answer@v8", "ticket-classifier"]
json_prompts = ["ticket-classifier"]
min_output_tokens = 0
max_output_tokens = 1500
refusal_phrases = ["outside my remit"]
scorers = ["my_app.quality:politeness", "scorers:tone_v2"]
queue_below = 0.6
reasons = ["wrong", "slow"]

[evaluation.judge]
enabled = true
url = "http://127.0.0.1:9999/v1"
model = "judge"
rubric = "Be right."
api_key_env = "JUDGE_KEY"
timeout_s = 5
""",
    "rate bounds": "[evaluation]\nsample_rate = 0\n",
    "rate one": "[evaluation]\nsample_rate = 1\n",
    "nine reasons": "[evaluation]\nreasons = ['1', '2', '3', '4', '5', '6', '7', '8', '9']\n",
    "empty": "[evaluation]\n[evaluation.judge]\n",
}

BAD = {
    "rate over one": ("[evaluation]\nsample_rate = 1.5\n", "'evaluation.sample_rate'"),
    "rate negative": ("[evaluation]\nsample_rate = -0.1\n", "'evaluation.sample_rate'"),
    "rate a string": ('[evaluation]\nsample_rate = "10%"\n', "'evaluation.sample_rate'"),
    "scorer without function": ('[evaluation]\nscorers = ["my_app.quality"]\n', "'evaluation.scorers[0]'"),
    "scorer with spaces": ('[evaluation]\nscorers = ["my app:f"]\n', "'evaluation.scorers[0]'"),
    "no reasons": ("[evaluation]\nreasons = []\n", "'evaluation.reasons'"),
    "ten reasons": ("[evaluation]\nreasons = ['1','2','3','4','5','6','7','8','9','10']\n", "'evaluation.reasons'"),
    "queue threshold over one": ("[evaluation]\nqueue_below = 2\n", "'evaluation.queue_below'"),
    "max tokens zero": ("[evaluation]\nmax_output_tokens = 0\n", "'evaluation.max_output_tokens'"),
    "judge timeout zero": ("[evaluation.judge]\ntimeout_s = 0\n", "'evaluation.judge.timeout_s'"),
    "judge enabled a string": ('[evaluation.judge]\nenabled = "yes"\n', "'evaluation.judge.enabled'"),
}


@pytest.mark.parametrize("text", GOOD.values(), ids=GOOD.keys())
def test_good_configs_are_accepted_by_both(tmp_path, text):
    assert schema_errors(text) == []
    load_settings(write(tmp_path, text))


@pytest.mark.parametrize(("text", "key"), BAD.values(), ids=BAD.keys())
def test_bad_configs_are_rejected_by_both_and_name_the_key(tmp_path, text, key):
    assert schema_errors(text), "the schema accepts it"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and key in str(err.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [("[evaluation]\nsample = 0.1\n", "'evaluation.sample'"), ("[evaluation.judge]\nkey = 'sk-123'\n", "'evaluation.judge.key'")],
)
def test_unknown_keys_fail_the_schema_and_are_warnings_for_the_console(tmp_path, text, key):
    assert schema_errors(text), "the schema accepts it"
    path = write(tmp_path, text)
    (warning,) = load_settings(path).warnings
    assert str(path) in warning and f"unknown key {key} ignored" in warning


def test_the_full_example_loads(tmp_path):
    settings = load_settings(write(tmp_path, GOOD["everything"]))
    evaluation = settings.evaluation
    assert evaluation.sample_rate == 0.25 and evaluation.max_output_tokens == 1500
    assert evaluation.judge.enabled and evaluation.judge.api_key_env == "JUDGE_KEY"
    assert evaluation.reasons == ["wrong", "slow"]


def test_defaults():
    evaluation = EvaluationSettings()
    assert evaluation.sample_rate == 0.1 and not evaluation.judge.enabled
    assert evaluation.reasons == ["wrong answer", "hallucination", "unsafe", "format", "tone", "too slow", "refusal", "truncated", "other"]
