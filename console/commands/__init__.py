"""The commands' bodies, one module per command (init, prompts and the store access have
helpers beside them); console/cli.py declares the options and imports these lazily.

A mistake the user can fix raises errors.UsageError; every command opens the store with
store_access.open_store and reads llmops.toml with config_access.load_config. Nothing here
imports console.ui: the console itself is started by cli.py.
"""
