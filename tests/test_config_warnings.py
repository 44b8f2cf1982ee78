"""Unknown keys in llmops.toml are warnings that reach the user: on stderr for headless
commands (tests/test_cli_options.py) and as notifications in the console."""

from __future__ import annotations

import pytest

from conftest import wait_until
from console.config import load_settings

pytestmark = pytest.mark.resilience


async def test_the_console_shows_config_warnings_at_start(tmp_path):
    from console.ui.app import ConsoleApp

    config = tmp_path / "llmops ✓.toml"
    config.write_text(
        '[ui]\nring_size = 1000\nringsize = 10\n[[budgets]]\nname = "b"\nperiod = "day"\namount_usd = 5\nmodel = "x"\n'
        '[evaluation]\nsample_rte = 0.5\n'
    )
    settings = load_settings(config)
    assert settings.ui.ring_size == 1000 and settings.budgets[0].model == "x", "the rest of the file loads"
    app = ConsoleApp(sources=[], store_url=str(tmp_path / "s.db"), settings=settings)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: len(app._notifications) >= 2)
        shown = [n.message for n in app._notifications]
    assert any("unknown key 'ui.ringsize' ignored (did you mean 'ui.ring_size'?)" in m and str(config) in m for m in shown)
    assert any("'evaluation.sample_rte'" in m and "'evaluation.sample_rate'" in m for m in shown)


def test_a_bom_at_the_start_of_llmops_toml_is_accepted(tmp_path):
    config = tmp_path / "llmops.toml"
    config.write_bytes(b"\xef\xbb\xbf[ui]\nring_size = 200\n")
    assert load_settings(config).ui.ring_size == 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[evaluation]\nsample_rate = 2\n', "key 'evaluation.sample_rate': Expected float <= 1.0, got 2"),
        ('[evaluation]\nreasons = []\n', "key 'evaluation.reasons': Expected array of length >= 1, got []"),
        ('[evaluation]\nscorers = ["nope"]\n', "key 'evaluation.scorers[0]': Expected a 'module:function' reference, got \"nope\""),
        ('[evaluation.judge]\nenabled = "yes"\n', "key 'evaluation.judge.enabled': Expected bool, got str (\"yes\")"),
        ('[evaluation.judge]\ntimeout_s = 0\n', "key 'evaluation.judge.timeout_s': Expected float > 0.0, got 0"),
        ('[prompts]\npath = 3\n', "key 'prompts.path': Expected str, got int (3)"),
        ('[regression]\nconcurrency = 0\n', "key 'regression.concurrency': Expected int >= 1, got 0"),
        ('[regression]\nmin_pass_rate = 1.5\n', "key 'regression.min_pass_rate': Expected float <= 1.0, got 1.5"),
        ('[regression]\ndefault_target = "x"\n', "key 'regression.default_target': Expected the name of a target in"),
        ('[regression.targets.a]\ntype = "python"\n', "key 'regression.targets.a.function': Expected a value (a python target needs 'function'), got nothing"),
        ('[regression.targets.a]\ntype = "ftp"\n', "key 'regression.targets.a.type': Expected one of 'command', 'python', 'http', 'replay', got \"ftp\""),
        ('[regression.targets.a]\ntype = "python"\nfunction = "x"\n', "key 'regression.targets.a.function': Expected a 'module:function' reference, got \"x\""),
        ('[regression.targets.a]\ntype = "command"\nargv = []\n', "key 'regression.targets.a.argv': Expected array of length >= 1, got []"),
        ('[regression.targets.a]\ntype = "command"\nargv = ["x"]\nenv = {A = 1}\n', "key 'regression.targets.a.env.A': Expected str, got int (1)"),
        ('[[budgets]]\nperiod = "day"\namount_usd = 1\n', "key 'budgets[0].name': Expected str, got nothing (the key is required)"),
        ('[burn]\npage = {threshold = 1, long = "1w", short = "5m"}\n', "key 'burn.page.long': Expected a duration such as 90s, 5m, 1h or 1.5d (s, m, h or d), got \"1w\""),
        ("[prices]\nm = 3\n", "key 'prices.m': Expected a table, got int (3)"),
        ('[keys]\n"app.quit" = 1\n', "key 'keys.app.quit': Expected str, got int (1)"),
    ],
)
def test_every_section_reports_the_key_the_expected_and_the_found_value(tmp_path, text, message):
    from console.config import ConfigError

    path = tmp_path / "llmops.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)


def test_a_required_key_spelled_wrong_names_the_key_written_too(tmp_path):
    """Found in the live-tail user trial: 'amount = 20' in a [[budgets]] table stopped the
    command with "key 'budgets[0].amount_usd': Expected float, got nothing (the key is
    required)" and no word of the 'amount' the file has: the warning that would say 'did you
    mean' is only given when the file loads. The error now carries the unknown keys (in a
    budget an unknown key is an error of its own: tests/test_config_figure_keys.py)."""
    from console.config import ConfigError

    path = tmp_path / "llmops.toml"
    path.write_text('[[budgets]]\nname = "b"\nperiod = "day"\namount = 20\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert message.startswith(f"{path}: key 'budgets[0].amount_usd': Expected float, got nothing"), message
    assert "key 'budgets[0].amount' (the budget named 'b'): unknown key (did you mean 'amount_usd'?)" in message, message
