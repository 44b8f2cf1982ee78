"""The starter files `llmops-console init` writes into an existing app's repository.

llmops.toml (commented), prompts/ with one example prompt and its labels, an empty
regression/cases.jsonl and LLMOPS.md (the three-line logger to paste into the app). Nothing
is overwritten: a file that already exists is kept as it is, the others are created, and
console.commands.init says which it kept. With --from-logs (console.commands.init_logs) the
prompts come from an existing request log instead of the example.
"""

from __future__ import annotations

import json
from pathlib import Path

STARTER_CONFIG = '''\
# llmops-console configuration; every key is documented in
# schemas/llmops-config.schema.json and the README. Every table is optional.

[ui]
ring_size = 5000            # rows of the requests table kept in memory (the table pages the rest from the store)
window_max_rows = 1000000   # requests kept in memory at most (~250 bytes each); bigger windows are read from the rollups

# [keys]                    # remap any binding by its id (`?` lists them)
# "dashboard.pause" = "space"

# [[budgets]]               # USD per day or month, for all traffic or one model/prompt/user/environment
# name = "all traffic"
# period = "month"
# amount_usd = 3000

# [[slos]]                  # the percentile of latency_ms must stay at or under max_ms
# percentile = 95
# max_ms = 2500

# [prices."my-finetune"]    # USD per million tokens, for models genai-prices does not know
# input = 3.0
# output = 12.0

[regression]                # `llmops-console regress`, R in the console
suite = "regression/cases.jsonl"   # relative to this file; `b` in triage appends cases here

# [regression.targets.app]  # what the suite runs against: command | python | http | replay
# type = "command"
# argv = ["python3", "my_app/answer.py"]

[evaluation]
sample_rate = 0.1           # the share of requests scored in production (by request_id hash)

[prompts]                   # the prompt registry: prompts/<prompt_id>/<version>.txt|.md, `p` in the console
path = "prompts"            # relative to this file; labels in prompts/<prompt_id>/labels.toml
'''

EXAMPLE_PROMPT = '''\
---
model: gpt-4o-mini
temperature: 0.2
---
You are the support assistant for {{ product }}.
Answer the customer's question in at most three sentences.
If you do not know the answer, say so and offer to open a ticket.

Question: {{ question }}
'''

EXAMPLE_LABELS = '''\
# Which version each environment runs; the console shows these labels beside the versions.
production = "v1"
'''

SNIPPET_FILE = "LLMOPS.md"


def logger_snippet(prompt_id: str = "support-answer", prompt_version: str = "v1",
                   log_path: str = "logs/requests.jsonl") -> str:
    """The README snippet: the three-line logger (console.emit) and how to watch its log."""
    pid, version, log = json.dumps(prompt_id), json.dumps(prompt_version), json.dumps(log_path)
    return f'''\
# Logging this app's LLM requests for llmops-console

Three lines in the app, beside its OpenAI client. The logger is standard library only:
install llmops-console in the app's environment, or copy console/emit.py into the app
(then import it as `from emit import RequestLogger`).

```python
from openai import OpenAI  # the app's client, as before
from console.emit import RequestLogger
log = RequestLogger({log}, prompts="prompts")
client = log.instrument_openai(OpenAI(), prompt_id={pid}, prompt_version={version})
```

Every `client.chat.completions.create(...)` is now one line of {log_path}, with the
prompt_hash of the registry's {prompt_id}@{prompt_version} (prompts/) so the console spots drift.
A call made without the OpenAI client is logged by hand:

```python
with log.track(model="gpt-4o-mini", prompt_id={pid}, prompt_version={version}) as call:
    call.set_usage(input_tokens=812, output_tokens=143)
    call.set_output("the model's reply", finish_reason="stop")
```

Watch it live: `llmops-console {log_path}`. Load it into the store: `llmops-console ingest {log_path}`.
Then `llmops-console report` summarises it (paths relative to the directory the app runs in).
'''


LOGGER_SNIPPET = logger_snippet()

FILES = {
    "llmops.toml": STARTER_CONFIG,
    "prompts/support-answer/v1.md": EXAMPLE_PROMPT,
    "prompts/support-answer/labels.toml": EXAMPLE_LABELS,
    "regression/cases.jsonl": "",
    SNIPPET_FILE: LOGGER_SNIPPET,
}
EXAMPLE_FILES = ("prompts/support-answer/v1.md", "prompts/support-answer/labels.toml")


def write_new(path: Path, text: str) -> bool:
    """Create path with text; False (and nothing written) when it exists, even in a race."""
    if path.exists() or path.is_symlink():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:  # "x": never clobber
            handle.write(text)
    except FileExistsError:
        return False
    return True


def init_project(directory: Path, *, example: bool = True, snippet: str | None = None) -> tuple[list[Path], list[Path]]:
    """Write the starter files that do not exist yet under directory.

    example=False leaves out the example prompt (init --from-logs registers the logged ones
    instead); snippet replaces the default logger snippet of LLMOPS.md.
    Returns (created, kept): an existing file (or symlink) is never touched."""
    created: list[Path] = []
    kept: list[Path] = []
    for name, text in FILES.items():
        if not example and name in EXAMPLE_FILES:
            continue
        if name == SNIPPET_FILE and snippet is not None:
            text = snippet
        path = directory / name
        (created if write_new(path, text) else kept).append(path)
    return created, kept
