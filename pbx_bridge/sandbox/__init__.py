"""The embedded Asterisk for running and testing: a cached Debian sid root (root.py), the
project's configuration written into it (setup.py), Asterisk started and stopped in it (run.py).

What the commands, tools and tests use is named here.
"""

from pbx_bridge.sandbox.root import INSTANCE, SandboxError, instance_dir, root_dir
from pbx_bridge.sandbox.run import (
    SandboxStatus,
    ari_answers,
    asterisk_cli,
    asterisk_pid,
    down,
    processes_in_root,
    status,
    stderr_progress,
    up,
)
from pbx_bridge.sandbox.setup import ensure_credentials, placeholders, render

__all__ = [
    "INSTANCE",
    "SandboxError",
    "SandboxStatus",
    "ari_answers",
    "asterisk_cli",
    "asterisk_pid",
    "down",
    "ensure_credentials",
    "instance_dir",
    "placeholders",
    "processes_in_root",
    "render",
    "root_dir",
    "status",
    "stderr_progress",
    "up",
]
