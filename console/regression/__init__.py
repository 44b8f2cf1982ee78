"""Regression cases, assertions, targets, the runner and baseline comparison. Nothing here imports Textual.

    suite.load_suite(path)                    cases, and malformed lines with file, line, reason
    assertions.evaluate(case, output, judge)  a case's status, score and each assertion's verdict
    targets.build_target(name, spec)          command | python | http | replay
    runner.Runner(target, cases, options)     concurrent, timeouts, retries, repeats, cancel, events
    plan.make_plan(settings, ...)             llmops.toml + command line -> RunPlan (PlanError: exit 2)
    execute.execute(plan, store)              a whole run: stored, compared with the baseline, gated
    baseline.compare / gate.judge_gate        classes, Wilson intervals, McNemar; the gate
    history                                   regression_runs / regression_results, baselines
    session.RunSession                        a run as the UI follows it from another thread
"""
