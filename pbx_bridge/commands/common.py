"""What every pbx-bridge subcommand shares: its settings, progress lines and clear failures."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from pbx_bridge.config import Settings, load_settings


def cli_settings() -> Settings:
    return load_settings()


def say(message: str) -> None:
    """Progress and notes go to stderr, so stdout stays the command's answer (JSON, a token)."""
    click.echo(message, err=True)


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"pbx-bridge: {message}", err=True)
    sys.exit(code)
