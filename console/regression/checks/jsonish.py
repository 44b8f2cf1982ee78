"""is-json and contains-json: JSON as JSON.parse reads it (no NaN, no Infinity), checked
against a JSON Schema given as an object, a YAML/JSON string or a file:// reference; `format`
(date, email, …) is enforced, as promptfoo's ajv-formats does."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema
import yaml

from console.regression.checks.base import Broken, Check, Given, check
from console.regression.checks.text import strict_json
from console.regression.checks.values import FILE_PREFIX, load_file_value


def _schema(value: Any) -> Any:
    """The schema the value names, or None for no schema."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value.startswith(FILE_PREFIX):
            value = load_file_value(value)
            if isinstance(value, str):  # a .txt file holding YAML
                value = yaml.safe_load(value)
        else:
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as exc:
                raise Broken(f"the schema is neither YAML nor JSON: {exc}") from None
    if not isinstance(value, (dict, bool)):
        raise Broken("the value of is-json/contains-json must be a JSON Schema (an object)")
    return value


@lru_cache(maxsize=128)
def _validator(schema_json: str):
    schema = json.loads(schema_json)
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise Broken(f"not a valid JSON Schema: {exc.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _problem(value: Any, schema: Any) -> str | None:
    if schema is None or schema is True:
        return None
    error = next(iter(_validator(json.dumps(schema, sort_keys=True)).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return error.message + (f" at {where}" if where else "")


def is_json(value: Any, given: Given) -> Check:
    schema = _schema(value)
    try:
        parsed = strict_json(given.out.output)
    except ValueError as exc:
        return check(False, f"not JSON: {exc}")
    problem = _problem(parsed, schema)
    if problem is None:
        return check(True, "valid JSON" + (" matching the schema" if schema else ""))
    return check(False, f"JSON, but {problem}")


def json_objects(text: str) -> list[tuple[int, Any]]:
    """Each JSON object in the text, with where it starts (objects only, as promptfoo finds them)."""
    decoder, found, start = json.JSONDecoder(parse_constant=lambda name: strict_json(name)), [], 0
    while (start := text.find("{", start)) >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start += 1
            continue
        found.append((start, value))
        start = end
    return found


def contains_json(value: Any, given: Given) -> Check:
    schema = _schema(value)
    objects = json_objects(given.out.output)
    if not objects:
        return check(False, "no JSON object in the output")
    first_problem = None
    for start, obj in objects:
        problem = _problem(obj, schema)
        if problem is None:
            return check(True, f"JSON found at character {start}")
        first_problem = first_problem or problem
    return check(False, f"JSON found, but {first_problem}")
