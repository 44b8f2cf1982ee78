"""Regression runner overhead against a bare loop calling the same target, in the same run.

    python bench/regress.py [--cases 2000] [--concurrency 4] [--command-cases 500]

For each target, (a) a bare loop: for each case, call the target and evaluate the case's
assertions, one after the other, nothing else; (b) the Runner at concurrency 1 (the same
sequential work plus timeouts, retries bookkeeping, repeats, events); (c) the Runner at the
configured concurrency; (d) a whole `execute()` as `llmops-console regress` runs it: suite
loading, the run stored in a fresh SQLite store result by result, the comparison, the gate.

Targets: replay (recorded outputs, answers at once) and command (`cat`: a process per case
that answers as soon as it has read the case). The runner's overhead per case is
((b) - (a)) / cases; the target for replay is under 1 ms. Figures are best of --rounds (5), the measurements interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console.config import RegressionTarget, Settings  # noqa: E402
from console.regression.assertions import evaluate  # noqa: E402
from console.regression.execute import execute  # noqa: E402
from console.regression.plan import make_plan  # noqa: E402
from console.regression.runner import Runner, RunOptions  # noqa: E402
from console.regression.suite import load_suite  # noqa: E402
from console.regression.targets import build_target, case_payload  # noqa: E402


def write_suite(directory: Path, count: int) -> tuple[Path, Path]:
    suite, recorded = directory / "cases.jsonl", directory / "recorded.jsonl"
    with suite.open("w") as cases, recorded.open("w") as outputs:
        for i in range(count):
            answer = f"Open Settings, then Billing, then Invoice INV-{i:05d}. Anything else?"
            cases.write(json.dumps({
                "id": f"case-{i:05d}", "input": {"vars": {"question": f"Where is invoice INV-{i:05d}?"}},
                "assert": [{"type": "contains", "value": f"INV-{i:05d}"}, {"type": "not-equals", "value": "I can't help."},
                           {"type": "regex", "value": r"Settings.*Billing"}, {"type": "latency", "value": 5000}],
                "tags": ["billing"] + (["critical"] if i % 50 == 0 else []),
            }) + "\n")  # fmt: skip
            outputs.write(json.dumps({"id": f"case-{i:05d}", "output": answer, "latency_ms": 850.0}) + "\n")
    return suite, recorded


async def bare_loop(target, cases) -> float:
    started = time.perf_counter()
    for case in cases:
        payload = case_payload(case, {"attempt": 1})
        out = await target.run(payload, case)
        evaluate(case, out)
    return time.perf_counter() - started


def bench_target(name: str, spec: RegressionTarget, suite_path: Path, count: int, concurrency: int, workdir: Path,
                 rounds: int) -> dict:
    """Best of `rounds`, the four measurements interleaved in each round (process start-up
    times drift, and interleaving keeps the drift out of the ratios)."""
    from console.store import Store

    subset = workdir / f"subset-{name}.jsonl"
    subset.write_text("".join(suite_path.read_text().splitlines(keepends=True)[:count]))
    cases = load_suite(subset).cases
    target = build_target(name, spec, base_dir=workdir)
    settings = Settings()
    settings.regression.targets[name] = spec

    def runner_time(conc: int) -> float:
        runner = Runner(target, cases, RunOptions(concurrency=conc))
        started = time.perf_counter()
        outcome = runner.run_blocking()
        assert outcome.counts.passed == len(cases), outcome.counts
        return time.perf_counter() - started

    def full_run(round_no: int) -> float:
        plan = make_plan(settings, suite=subset, target=name, concurrency=concurrency)
        with Store(f"sqlite:///{workdir / f'bench-{name}-{round_no}.db'}") as store:
            started = time.perf_counter()
            report = execute(plan, store)
            elapsed = time.perf_counter() - started
        assert report.counts.passed == len(cases) and report.gate.passed
        return elapsed

    times: dict[str, list[float]] = {"bare": [], "runner1": [], "runner": [], "execute": []}
    for round_no in range(rounds):
        times["bare"].append(asyncio.run(bare_loop(target, cases)))
        times["runner1"].append(runner_time(1))
        times["runner"].append(runner_time(concurrency))
        times["execute"].append(full_run(round_no))
    bare, sequential, concurrent, full = (min(times[k]) for k in ("bare", "runner1", "runner", "execute"))
    n = len(cases)
    return {
        "target": name, "cases": n, "bare_s": bare, "runner1_s": sequential, "runner_s": concurrent, "execute_s": full,
        "overhead_ms": (sequential - bare) / n * 1000, "execute_overhead_ms": (full - bare) / n * 1000,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--command-cases", type=int, default=None, help="cases for the command target (default: --cases)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="best of N rounds")
    args = parser.parse_args()
    cat = shutil.which("cat")
    with tempfile.TemporaryDirectory(prefix="bench-regress-") as tmp:
        workdir = Path(tmp)
        suite, recorded = write_suite(workdir, args.cases)
        rows = [bench_target("replay", RegressionTarget(type="replay", path=str(recorded)), suite, args.cases,
                             args.concurrency, workdir, args.rounds)]  # fmt: skip
        if cat:
            rows.append(bench_target("command", RegressionTarget(type="command", argv=[cat]), suite,
                                     args.command_cases or args.cases, args.concurrency, workdir, args.rounds))  # fmt: skip
    print(f"{'target':8} {'cases':>6} {'bare loop':>12} {'runner c=1':>12} {'runner c=' + str(args.concurrency):>12} "
          f"{'execute()':>12} {'overhead/case':>14} {'with storage':>13}")  # fmt: skip
    for r in rows:
        rate = lambda s: f"{r['cases'] / s:,.0f}/s"  # noqa: E731
        print(f"{r['target']:8} {r['cases']:>6} {rate(r['bare_s']):>12} {rate(r['runner1_s']):>12} {rate(r['runner_s']):>12} "
              f"{rate(r['execute_s']):>12} {r['overhead_ms']:>11.3f} ms {r['execute_overhead_ms']:>10.3f} ms")  # fmt: skip
    replay = rows[0]
    verdict = "OK" if replay["overhead_ms"] < 1.0 else "OVER"
    print(f"replay: runner overhead {replay['overhead_ms']:.3f} ms per case (target < 1 ms): {verdict}")


if __name__ == "__main__":
    main()
