"""The `pbx-bridge` subcommands, one module per capability; `pbx_bridge.cli` gathers them."""
