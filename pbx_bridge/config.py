"""One typed configuration: safe defaults, overridden by env files and the environment.

Precedence (highest first): environment variables `PBX_BRIDGE_*`, the operator's env file
(`PBX_BRIDGE_CONFIG`, default `pbx-bridge.env`), the sandbox's generated secrets
(`~/.cache/pbx-bridge/sandbox.env`), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "PBX_BRIDGE_"
# The admin token (api_token) is compared, not looked up: only its length keeps it unguessable.
MIN_API_TOKEN_LENGTH = 32


def default_state_dir() -> Path:
    return Path(os.environ.get(ENV_PREFIX + "STATE_DIR", ".pbx-bridge"))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pbx-bridge"


class Settings(BaseSettings):
    """Everything pbx_bridge can be told. Field names are the env names without the prefix."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    state_dir: Path = Field(default_factory=default_state_dir)

    # Asterisk REST Interface: loopback only by default; the password has no default on purpose.
    ari_url: str = "http://127.0.0.1:8088"
    ari_username: str = "pbx-bridge"
    ari_password: SecretStr | None = None
    ari_app: str = "pbx-bridge"

    # Asterisk Manager Interface (app_queue is driven through it).
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "pbx-bridge"
    ami_password: SecretStr | None = None

    # Call takers: accounts from call-takers.toml, SIP passwords derived from this secret.
    call_takers_file: Path | None = None
    sip_secret: SecretStr | None = None
    overflow_seconds: int = 60  # a caller waiting this long also rings the supervisors
    wrapup_seconds: int = 10  # after each call, before a call taker is rung again
    ring_seconds: int = 15  # how long one call taker is rung before the next is tried
    callback_ring_seconds: int = 30  # how long a caller is rung on a callback
    # Where callbacks leave the trunk: the carrier's SIP address (the sandbox: a test carrier).
    trunk_contact: str = "sip:127.0.0.1:5070"

    # The store. SQLite next to the state by default; PostgreSQL by URL.
    database_url: str = ""
    # Records the database refused wait in <state_dir>/spool/ and are retried this often.
    spool_retry_seconds: float = 2.0

    # Reports and answer-time statistics count local days and hours in this zone (IANA name).
    report_timezone: str = "Asia/Jakarta"

    # The web API (health, metrics, call records).
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    api_token: SecretStr | None = None  # the admin token: at least MIN_API_TOKEN_LENGTH long
    # TLS for the API (PEM files); both set: HTTPS. Needed whenever api_host is not loopback.
    api_tls_cert: Path | None = None
    api_tls_key: Path | None = None

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # Validity (Kendari's centre: a call is valid when the caller stayed more than 10 s).
    valid_min_seconds: float = 10.0
    hung_up_immediately_seconds: float = 5.0

    # Screening: greeting, then listen for speech, then "press 5 twice", then the silent policy.
    greeting_prompt: str = "pbx-bridge/greeting"
    press_55_prompt: str = "pbx-bridge/press-55"
    closing_prompt: str = "pbx-bridge/closing"
    listen_seconds: float = 5.0
    await_55_seconds: float = 10.0
    silent_policy: Literal["queue", "hangup"] = "queue"
    talk_silence_ms: int = 1200
    talk_threshold: int = 128
    priority_55: int = 10
    priority_speech: int = 5
    priority_silent: int = 1
    queue_context: str = "queue-112"
    # How often app_queue's status is read: queue gauges, the "no call taker ready" alert, and
    # call takers put back if app_queue comes back without its members.
    queue_watch_seconds: float = Field(default=5.0, gt=0)

    # The guard (`pbx-bridge guard`): a process beside the controller that moves the calls in
    # our Stasis app to the queue when the controller stops answering (killed, frozen, stuck),
    # and any call held longer than a screening can take. Its own ARI user (ari.conf).
    guard_ari_username: str = "pbx-bridge-guard"
    guard_ari_password: SecretStr | None = None
    guard_with_serve: bool = True  # `serve` starts (or reuses) the guard and stops it on exit
    guard_check_seconds: float = Field(default=1.0, gt=0)  # liveness checked this often
    guard_misses_to_fail: int = Field(default=3, ge=1)  # unanswered checks in a row: failed
    # The guard's own /metrics (moves, checks, failed), on api_host; 0: not served.
    guard_metrics_port: int = Field(default=8082, ge=0, le=65535)
    # The greeting, the 55 prompt and the closing message together (the sandbox's: 7.5 + 9.9 +
    # 7.8 s) with a margin: a call held longer than listen + await_55 + this is moved even from
    # a healthy controller (a stuck call task).
    guard_prompts_seconds: float = Field(default=40.0, gt=0)

    # Asterisk's CDR file (cdr_custom.conf) for reconciliation; empty = the sandbox's.
    cdr_file: Path | None = None
    reconcile_interval_seconds: float = 30.0

    # Dispatch: which agency takes which category (TOML; empty = the shipped default), and how
    # long an agency, then the supervisor, has to acknowledge a handoff before it escalates.
    agencies_file: Path | None = None
    handoff_ack_timeout_seconds: float = Field(default=180.0, gt=0)
    handoff_supervisor_timeout_seconds: float = Field(default=180.0, gt=0)
    escalation_interval_seconds: float = Field(default=10.0, gt=0)

    # Privacy: callers' numbers are blanked this many days after the call.
    number_retention_days: int = Field(default=90, ge=1)

    # Live events (/api/events): a subscriber this many events behind is dropped.
    events_queue_size: int = Field(default=100, ge=1)

    # The embedded Asterisk sandbox.
    sandbox_cache_dir: Path = Field(default_factory=default_cache_dir)
    sandbox_sip_port: int = 5060
    sandbox_rtp_start: int = 10000
    sandbox_rtp_end: int = 20000
    # Load call takers for `pbx-bridge replay` (sandbox only): accounts load-001.. whose phone
    # is one SIPp process at this port on 127.0.0.1.
    sandbox_load_takers: int = Field(default=150, ge=0, le=999)
    sandbox_load_taker_port: int = 5090

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.state_dir / 'pbx-bridge.db').resolve()}"

    def spool_file(self) -> Path:
        return self.state_dir / "spool" / "calls.jsonl"


def sandbox_env_file() -> Path:
    """Credentials the sandbox generated: shared by every checkout that uses the same sandbox."""
    return default_cache_dir() / "sandbox.env"


def load_settings() -> Settings:
    """Read settings from the environment and the env files, the operator's winning."""
    operator_file = Path(os.environ.get(ENV_PREFIX + "CONFIG", "pbx-bridge.env"))
    env_files = [p for p in (sandbox_env_file(), operator_file) if p.is_file()]
    return Settings(_env_file=env_files or None)
