"""The error every command raises for a mistake the user can fix: a bad option, a missing
file, a config or store that cannot be used. console/cli.py catches it in one place and
prints `error: <message>` on stderr (escaped: the message may quote log text), exit 2.
"""


class UsageError(Exception):
    """A mistake the user can fix; the message is plain text, meant for them."""
