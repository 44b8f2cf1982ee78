"""labels export over a store that does not exist: an error naming it, exit 2, nothing created.

Found in the team-store trial: a mistyped --store path made a new empty store (and its
directory) and exported nothing with exit 0, which a cron job filing tickets reads as
'no bad label today'. report and check already refuse a missing store."""

from __future__ import annotations

from typer.testing import CliRunner

from console.cli import app as cli


def test_a_missing_sqlite_store_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "typo" / "console.db"
    for store in (str(missing), f"sqlite:///{missing}"):
        result = CliRunner().invoke(cli, ["labels", "export", "--store", store])
        assert result.exit_code == 2, result.output
        assert "no store at" in result.output and "console.db" in result.output
        assert "Traceback" not in result.output
        assert not missing.exists() and not missing.parent.exists()
