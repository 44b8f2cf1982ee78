"""The live console's long-running threads: the tail into the store (or the store followed),
the analytics window, the requests pager and the scoring thread.

They post plain events (console.live.events) through a `post` callable; console.ui wraps them
in Textual messages. Nothing here imports Textual or console.ui.
"""
