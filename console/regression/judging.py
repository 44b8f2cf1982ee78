"""llm-rubric assertions graded by the evaluation judge (console.judge), which
grades a request record against a rubric from config: here each assertion brings its own
rubric, and the case and the target's output stand in for the record."""

from __future__ import annotations

import threading
import time

import msgspec

from console.cases.format import RegressionCase
from console.config import JudgeSettings
from console.judge import Judge
from console.records import RequestRecord


class RubricJudge:
    def __init__(self, settings: JudgeSettings) -> None:
        self.settings = settings
        self._judges: dict[str, Judge] = {}
        self._lock = threading.Lock()

    def _judge_for(self, rubric: str) -> Judge:
        with self._lock:
            judge = self._judges.get(rubric)
            if judge is None:
                judge = self._judges[rubric] = Judge(msgspec.structs.replace(self.settings, rubric=rubric))
            return judge

    def __call__(self, rubric: str, output: str, case: RegressionCase) -> dict:
        given = case.input
        if given.messages:
            question = [msgspec.to_builtins(m) for m in given.messages]
        elif given.text is not None:
            question = given.text
        else:
            question = given.vars or {}
        source = case.source
        record = RequestRecord(
            ts=time.time(), request_id=f"regression-{case.id}", model=(source and source.model) or "unknown",
            prompt_id=(source and source.prompt_id) or "regression-case",
            prompt_version=(source and source.prompt_version) or "-", input_tokens=0, output_tokens=0,
            latency_ms=0.0, status="ok", input=question, output=output,
        )  # fmt: skip
        return self._judge_for(rubric).grade(record)
