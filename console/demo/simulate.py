"""Run the demo's simulated app: append Acme Helpdesk request logs to a JSONL file, live.

    python -m console.demo.simulate /tmp/acme.jsonl --rate 20

The incidents of the story repeat every three minutes (see console.demo.story.LiveStory).
"""

from __future__ import annotations

import argparse
import threading

from console.demo.story import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.demo.simulate",
                                     description="Append simulated LLM request logs to a JSONL file.")
    parser.add_argument("path", help="JSONL file to append to (created if missing)")
    parser.add_argument("--rate", type=float, default=20.0, help="records per second (default: 20)")
    parser.add_argument("--seed", type=int, default=11, help="random seed (default: 11)")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many seconds (default: run until Ctrl+C)")
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be positive")
    stop = threading.Event()
    timer = threading.Timer(args.duration, stop.set) if args.duration else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        simulate(args.path, rate=args.rate, stop=stop, seed=args.seed)
    except KeyboardInterrupt:
        pass  # Ctrl+C is how the demo app is stopped
    finally:
        if timer:
            timer.cancel()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
