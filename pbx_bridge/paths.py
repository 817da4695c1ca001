"""Where the project's non-Python files are (Asterisk configs, dialplans, SIPp scenarios)."""

from __future__ import annotations

import os
from pathlib import Path


def project_dir() -> Path:
    """The checkout holding asterisk-config/, dialplans/ and sipp-scenarios/."""
    override = os.environ.get("PBX_BRIDGE_PROJECT_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1]


def asterisk_config_dir() -> Path:
    return project_dir() / "asterisk-config"


def dialplans_dir() -> Path:
    return project_dir() / "dialplans"


def sipp_scenarios_dir() -> Path:
    return project_dir() / "sipp-scenarios"
