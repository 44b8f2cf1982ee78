"""`llmops-console init`: a starter set-up in an existing app's repository.

Writes llmops.toml (commented), prompts/ with one example prompt and its labels, and an
empty regression/cases.jsonl. It never overwrites: a file that already exists is kept as it
is, the others are created, and the CLI says which it kept.
"""

from __future__ import annotations

from pathlib import Path

STARTER_CONFIG = '''\
# llmops-console configuration; every key is documented in
# schemas/llmops-config.schema.json and the README. Every table is optional.

[ui]
ring_size = 5000            # rows kept in the live requests table (older ones stay in the store)

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

LOGGER_SNIPPET = '''\
Log every request of your app (three lines; the logger is standard library only):

    from console.emit import RequestLogger
    log = RequestLogger("logs/requests.jsonl", prompts="prompts")
    client = log.instrument_openai(OpenAI(), prompt_id="support-answer", prompt_version="v1")

Then watch it: llmops-console logs/requests.jsonl
'''

FILES = {
    "llmops.toml": STARTER_CONFIG,
    "prompts/support-answer/v1.md": EXAMPLE_PROMPT,
    "prompts/support-answer/labels.toml": EXAMPLE_LABELS,
    "regression/cases.jsonl": "",
}


def init_project(directory: Path) -> tuple[list[Path], list[Path]]:
    """Write the starter files that do not exist yet under directory.

    Returns (created, kept): an existing file (or symlink) is never touched."""
    created: list[Path] = []
    kept: list[Path] = []
    for name, text in FILES.items():
        path = directory / name
        if path.exists() or path.is_symlink():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as handle:  # "x": never clobber, even in a race
                handle.write(text)
        except FileExistsError:
            kept.append(path)
            continue
        created.append(path)
    return created, kept
