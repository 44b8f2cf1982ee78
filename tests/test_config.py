"""llmops.toml: typed settings whose errors name the file and the key; keys remap bindings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from console.cli import app as cli
from console.config import ConfigError, load_settings

runner = CliRunner()


def write(tmp_path, text: str):
    path = tmp_path / "llmops.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    settings = load_settings()
    assert settings.ui.ring_size == 5000 and settings.ui.window_max_rows == 1_000_000 and settings.keys == {}


def test_the_working_directory_file_is_found(tmp_path, monkeypatch):
    write(tmp_path, '[keys]\n"dashboard.pause" = "p"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings().keys == {"dashboard.pause": "p"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[ui]\nring_size = "many"\n', "key 'ui.ring_size': Expected int, got str (\"many\")"),
        ('[keys]\n"dashboard.pause" = 5\n', "key 'keys.dashboard.pause': Expected str, got int (5)"),
        ("[ui]\nring_size = 5\n", "key 'ui.ring_size': Expected an int between 100 and 1000000, got 5"),
        ("[ui]\nwindow_max_rows = 50\n", "key 'ui.window_max_rows': Expected an int between 10000 and 10000000, got 50"),
        ("[ui\n", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_cli_exits_2_on_a_bad_config(tmp_path):
    path = write(tmp_path, "[ui]\nring_size = 10\n")
    result = runner.invoke(cli, ["--config", str(path), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 2
    assert "ui.ring_size" in result.output and "got 10" in result.output


def test_unknown_binding_ids_are_warnings_with_a_suggestion(tmp_path):
    from console.ui.launch import tui_settings as _settings

    path = write(tmp_path, '[keys]\n"dashboard.paws" = "p"\n"dashboard.pause" = "x"\n')
    settings = _settings(path)
    assert settings.keys == {"dashboard.pause": "x"}, "the unknown id is dropped, the known one kept"
    (warning,) = settings.warnings
    assert str(path) in warning and "'keys.dashboard.paws'" in warning and "'dashboard.pause'" in warning


async def test_a_remapped_key_drives_the_binding(tmp_path):
    from console.ui.app import ConsoleApp

    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), keymap={"dashboard.pause": "p"})
    async with app.run_test() as pilot:
        await pilot.press("p")
        assert app.status_header.paused
        await pilot.press("space")
        assert app.status_header.paused, "space no longer pauses once remapped"


def test_opening_the_console_on_a_bad_store_url_exits_2():
    result = runner.invoke(cli, ["--store", "nosuchdb://x"])
    assert result.exit_code == 2
    assert "nosuchdb" in result.output


def test_the_readme_example_is_a_valid_config(tmp_path):
    from conftest import REPO
    from console.ui.app import ConsoleApp

    readme = (REPO / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    settings = load_settings(write(tmp_path, example))
    assert set(settings.keys) <= ConsoleApp.binding_ids()


def test_the_window_bound_reaches_the_console(tmp_path):
    from console.config import Settings, UiSettings
    from console.ui.app import ConsoleApp

    settings = Settings(ui=UiSettings(window_max_rows=20_000))
    app = ConsoleApp(sources=[], store_url=f"sqlite:///{tmp_path / 'store.db'}", settings=settings)
    assert app.feed.max_rows == 20_000
