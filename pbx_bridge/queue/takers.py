"""Call takers and supervisors from configuration, and the PJSIP accounts made from them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pbx_bridge.paths import asterisk_config_dir

MAIN_QUEUE = "emergency-112"


class Group(StrEnum):
    TAKER = "taker"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Taker:
    id: str  # the SIP username, e.g. ct-01
    name: str
    group: Group

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.id}"

    @property
    def penalty(self) -> int:
        # Supervisors are rung only once a caller has overflowed (queuerules.conf).
        return 0 if self.group is Group.TAKER else 1


class TakerConfigError(ValueError):
    pass


def _valid_id(source: Path, group: Group, entry: dict[str, object]) -> str:
    taker_id = str(entry.get("id", ""))
    # All-digit ids could be taken for a caller's number on the trunk.
    if not taker_id or not taker_id.replace("-", "").isalnum() or taker_id.isdigit():
        raise TakerConfigError(f"{source}: {group.value} id {taker_id!r} must be like ct-01")
    return taker_id


def load_takers(path: Path | None = None) -> list[Taker]:
    source = path or asterisk_config_dir() / "call-takers.toml"
    with source.open("rb") as handle:
        table = tomllib.load(handle)
    takers = []
    for group in Group:
        for entry in table.get(group.value, []):
            taker_id = str(entry.get("id", ""))
            if not taker_id or not taker_id.replace("-", "").isalnum() or taker_id.isdigit():
                # All-digit ids could collide with a caller's number on the trunk.
                raise TakerConfigError(
                    f"{source}: {group.value} id {taker_id!r} must be like ct-01"
                )
            takers.append(Taker(taker_id, str(entry.get("name", taker_id)), group))
    ids = [t.id for t in takers]
    if len(ids) != len(set(ids)):
        raise TakerConfigError(f"{source}: duplicate ids")
    return takers


def sip_password(secret: str, taker_id: str) -> str:
    """Derived, not stored: the same secret and id always give the same password."""
    digest = hmac.new(secret.encode(), taker_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:24]


def load_taker(number: int) -> Taker:
    """One of the sandbox's load call takers, answered by SIPp in `pbx-bridge replay`."""
    return Taker(f"load-{number:03d}", f"Load {number}", Group.TAKER)
