"""llmops.toml's [otel] reaches every reader of OTLP files: `ingest`, `ingest --follow`,
`report FILES`, `init --from-logs` and the live console (they used the defaults)."""

from __future__ import annotations

import threading

from typer.testing import CliRunner

from conftest import wait_until
from console.cli import app
from console.commands.config_access import load_config
from console.store import Store
from console.ui.app import ConsoleApp

from test_otlp import chat_span, traces

runner = CliRunner()
CONFIG = """
[otel]
user_keys = ["acme.customer"]
prompt_id_keys = ["acme.flow"]
prompt_version_keys = ["acme.flow_rev"]
"""


def write_trace(tmp_path):
    config = tmp_path / "llmops.toml"
    config.write_text(CONFIG)
    log = tmp_path / "traces.otlp.jsonl"
    span = chat_span(**{"acme.customer": "cust-42", "acme.flow": "refunds", "acme.flow_rev": "r3",
                        "user.id": "default-key-user"})  # fmt: skip
    log.write_text(traces(span) + "\n")
    return config, log


def stored(store_url):
    with Store(store_url) as opened:
        (record,) = opened.recent(5)
        return record.user_id, record.prompt_id, record.prompt_version


def test_ingest_reads_the_attribute_names_llmops_toml_gives(tmp_path):
    config, log = write_trace(tmp_path)
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["ingest", str(log), "--store", store, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert stored(store) == ("cust-42", "refunds", "r3")


def test_without_the_config_the_defaults_apply(tmp_path):
    _, log = write_trace(tmp_path)
    (tmp_path / "empty.toml").write_text("")
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert runner.invoke(app, ["ingest", str(log), "--store", store, "--config", str(tmp_path / "empty.toml")]).exit_code == 0
    assert stored(store)[0] == "default-key-user"


def test_report_with_files_reads_them_with_the_config(tmp_path):
    config, log = write_trace(tmp_path)
    store = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(app, ["report", str(log), "--store", store, "--config", str(config), "--since", "all"])
    assert result.exit_code == 0, result.output
    assert stored(store) == ("cust-42", "refunds", "r3")


def test_following_reads_them_with_the_options(tmp_path):
    from console.ingest import follow_files
    from console.sources.otlp import OtlpOptions

    config, log = write_trace(tmp_path)
    store_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    options = OtlpOptions.from_settings(load_config(config).otel)
    done = threading.Event()
    with Store(store_url) as opened:
        follow_files(opened, [str(log)], done.is_set, lambda batch, result: done.set(), otlp_options=options)
    assert stored(store_url) == ("cust-42", "refunds", "r3")


def test_init_from_logs_registers_the_configured_prompt(tmp_path):
    config, log = write_trace(tmp_path)
    result = runner.invoke(app, ["init", str(tmp_path), "--from-logs", str(log)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prompts" / "refunds").is_dir(), result.output


async def test_the_live_console_reads_them_with_the_config(tmp_path):
    config, log = write_trace(tmp_path)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    console = ConsoleApp(sources=[str(log)], store_url=store_url, settings=load_config(config))
    async with console.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: len(console.requests_view.rows) == 1)
        assert console.requests_view.rows[0].prompt_ref == "refunds@r3"
    assert stored(store_url) == ("cust-42", "refunds", "r3")
