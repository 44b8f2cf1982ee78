"""Prompt versions: the per-version table, drift, and change points.

One row per (prompt_id, prompt_version) with requests in the window: errors and error rate,
bad responses (a bad label; unlabelled, negative feedback), rated responses (a label; unlabelled,
any feedback) and bad rate over the rated ones (None when none is: no rating is not 0% bad), p50/p95
latency, mean tokens in/out, cost per request over the priced requests, first and last seen.

- first_seen is the first time the version appears in everything the columns were loaded
  with (`Columns.first_seen`, kept across evictions), last_seen the newest row in the window;
- drifted: the version's rows in the window carry more than one non-empty prompt_hash
  (the same version label on a changed template);
- is_new: first seen inside the window, i.e. a change point the window covers.

Change points are the first appearances of every model and prompt version, newest first.
"""

from __future__ import annotations

import numpy as np

from console.analytics.aggregates import WindowAggregates
from console.analytics.columns import NO_VALUE, Columns
from console.analytics.quantiles import percentiles_of_sorted
from console.analytics.report_types import ChangePoint, VersionRow
from console.analytics.spend import usd
from console.formatting import rfc3339


def prompt_hashes(cols: Columns, aggregates: WindowAggregates) -> dict[int, list[str]]:
    """Version code -> its non-empty prompt hashes in the window, most frequent first."""
    names = cols.names("prompt_hash")
    found: dict[int, list[tuple[int, str]]] = {}
    for (prompt, hash_code), count in aggregates.hash_pairs.items():
        name = names[hash_code]
        if name != NO_VALUE:
            found.setdefault(prompt, []).append((-count, name))
    return {prompt: [name for _, name in sorted(pairs)] for prompt, pairs in found.items()}


def version_rows(cols: Columns, aggregates: WindowAggregates, start: float | None, now: float) -> list[VersionRow]:
    """The per-version table, by prompt id, then newest version first."""
    counts = aggregates.prompts
    requests = counts["requests"]
    keys, ids = cols.names("prompt"), cols.names("prompt_id")
    first_seen = cols.first_seen["prompt"]
    hashes = prompt_hashes(cols, aggregates)
    rows = []
    for code in np.flatnonzero(requests > 0).tolist():
        key = keys[code]
        prompt_id = ids[int(aggregates.prompt_id_of[code])]
        n = int(requests[code])
        errors, bad, priced = int(counts["errors"][code]), int(counts["bad"][code]), int(counts["priced"][code])
        rated = int(counts["rated"][code])
        p50, p95 = percentiles_of_sorted(aggregates.latency_by_prompt.get(code), (50.0, 95.0))
        first = first_seen.get(key, float(aggregates.prompt_last_seen[code]))
        seen = hashes.get(code, [])
        rows.append(
            VersionRow(
                prompt_id=prompt_id,
                prompt_version=key[len(prompt_id) + 1 :],
                requests=n,
                errors=errors,
                error_rate=errors / n,
                bad=bad,
                rated=rated,
                bad_rate=bad / rated if rated else None,
                p50_ms=float(p50),
                p95_ms=float(p95),
                mean_input_tokens=int(counts["input_tokens"][code]) / n,
                mean_output_tokens=int(counts["output_tokens"][code]) / n,
                cost_per_request_usd=usd(counts["cost"][code]) / priced if priced else None,
                first_seen=rfc3339(first),
                last_seen=rfc3339(float(aggregates.prompt_last_seen[code])),
                drifted=len(seen) > 1,
                prompt_hashes=seen,
                is_new=(start is None or first >= start) and first <= now,
            )
        )
    rows.sort(key=lambda row: (row.prompt_id, -first_seen.get(f"{row.prompt_id}@{row.prompt_version}", 0.0)))
    return rows


def change_points(cols: Columns, now: float) -> list[ChangePoint]:
    """First appearances of models and prompt versions up to `now`, newest first."""
    points = [
        (ts, kind, name)
        for kind, table in (("model", cols.first_seen["model"]), ("prompt_version", cols.first_seen["prompt"]))
        for name, ts in table.items()
        if ts <= now
    ]
    points.sort(key=lambda point: (-point[0], point[1], point[2]))
    return [ChangePoint(kind=kind, name=name, first_seen=rfc3339(ts)) for ts, kind, name in points]
