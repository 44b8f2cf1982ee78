#!/usr/bin/env python3
"""Write the sample logs of the made-up Acme Helpdesk app (see README.md beside this file).

    python sample_logs/generate.py                                  # the committed files
    python sample_logs/generate.py --records 1000000 --out /tmp/big # a large log

Same arguments, same bytes: the output is committed, so it must be reproducible.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing the package

from console.demo.story import DEFAULT_END, dumps, format_ts, generate_history  # noqa: E402

CURRENT, ROTATED, MALFORMED = "support-chat.jsonl", "support-chat.1.jsonl", "malformed.jsonl"
# Records average ~490 bytes: 10,000 of them keep the committed samples under 5 MB.
DEFAULT_RECORDS = 10_000
CORE_FIELDS = ("ts", "request_id", "model", "prompt_id", "prompt_version", "input_tokens",
               "output_tokens", "latency_ms", "status", "cost_usd")
_DROP = object()  # marks a field to remove from a record


def rotation_point(end: datetime, days: float) -> datetime:
    """The app's logger rotates at midnight UTC; cut at the midnight before the middle of the span."""
    middle = end - timedelta(days=days / 2)
    midnight = middle.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight > end - timedelta(days=days) else middle


def write_history(out: Path, records: int, seed: int, days: float) -> dict[str, int]:
    """support-chat.1.jsonl holds the part before rotation, support-chat.jsonl the rest."""
    cut = format_ts(round(rotation_point(DEFAULT_END, days).timestamp() * 1000))
    counts = {ROTATED: 0, CURRENT: 0}
    with open(out / ROTATED, "w", encoding="utf-8", newline="\n") as old, \
            open(out / CURRENT, "w", encoding="utf-8", newline="\n") as new:
        for record in generate_history(records, seed=seed, days=days):
            name, file = (ROTATED, old) if record["ts"] < cut else (CURRENT, new)
            file.write(dumps(record) + "\n")
            counts[name] += 1
    return counts


def malformed_lines(seed: int) -> list[bytes]:
    """Good lines mixed with the ways a real log goes wrong; README.md lists each line's verdict."""
    records = generate_history(30, seed=seed, days=0.002)  # the last three minutes before DEFAULT_END

    def ok() -> bytes:
        return dumps(next(records)).encode()

    def bad(**changes) -> bytes:
        record = next(records)
        for key, value in changes.items():
            if value is _DROP:
                record.pop(key)
            else:
                record[key] = value
        return dumps(record).encode()

    lines = [ok(), ok()]
    lines.append(json.dumps(next(records), ensure_ascii=False).replace(', "model"', ' "model"', 1).encode())  # 3
    lines += [ok(), bad(model=_DROP), ok(), bad(input_tokens="12"), ok(), bad(latency_ms=-35.2), ok(),
              bad(status="maybe"), ok()[:137], ok(), b"", epoch(next(records), 1000), b"[1, 2, 3]",
              epoch(next(records), 1), bad(ts="yesterday at noon")]  # 4-18
    duplicate = ok()
    lines += [duplicate, bad(output_tokens=None), duplicate,
              b"\xff\xfe\xfd garbage from a crashed writer \xc3\x28", bad(prompt_version=_DROP), ok(),
              ok() + b' {"ts":']  # 19-25
    minimal = {k: v for k, v in next(records).items() if k in CORE_FIELDS}
    minimal["build_sha"] = "9c1d2e7"  # an unknown key: kept in metadata
    lines += [dumps(minimal).encode(), bad(cost_usd="0.0042"), ok(), ok(), ok()]  # 26-30
    return lines


def epoch(record: dict, per_second: int) -> bytes:
    ts = datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp()
    record["ts"] = round(ts * per_second) if per_second > 1 else round(ts, 3)
    return dumps(record).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Acme Helpdesk sample logs.")
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS,
                        help=f"records in the history (default: {DEFAULT_RECORDS})")
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: sample_logs/)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument("--days", type=float, default=4.0, help="days of history ending 2026-11-20T12:00Z")
    args = parser.parse_args(argv)
    if args.records < 0 or args.days <= 0:
        parser.error("--records must be >= 0 and --days > 0")
    args.out.mkdir(parents=True, exist_ok=True)
    counts = write_history(args.out, args.records, args.seed, args.days)
    lines = malformed_lines(seed=args.seed + 1000)
    (args.out / MALFORMED).write_bytes(b"".join(line + b"\n" for line in lines))
    counts[MALFORMED] = len(lines)
    for name, count in counts.items():
        path = args.out / name
        print(f"{path}: {count} lines, {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
