"""The configuration a real PBX gets: the trunk by address only, least AMI rights, no sandbox
or benchmark entry, and every file holding a secret created with its final mode."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from pbx_bridge.cli import main
from pbx_bridge.config import Settings
from pbx_bridge.pbxconfig.render import write_configs
from pbx_bridge.private_files import private_dir, write_private
from pbx_bridge.sandbox import placeholders


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """`pbx-bridge pbx-config` run as an operator would: {file name: rendered text}."""
    for name, value in {
        "ARI_PASSWORD": "ari-s",
        "AMI_PASSWORD": "ami-s",
        "SIP_SECRET": "sip-s",
    }.items():
        monkeypatch.setenv(f"PBX_BRIDGE_{name}", value)
    out = tmp_path / "pbx"
    result = CliRunner().invoke(
        main,
        ["pbx-config", "--out", str(out), "--sip-bind", "10.1.1.5",
         "--trunk", "10.1.1.1,10.1.1.2", "--lan", "10.1.2.0/24"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o037 == 0, path.name  # 0640 at most
    return {path.name: path.read_text() for path in files}


def test_a_real_pbx_gets_no_benchmark_or_sandbox_entry(production: dict[str, str]) -> None:
    assert "bench.conf" not in production
    assert "asterisk.conf" not in production
    assert "pjsip_load_takers.conf" not in production
    for name, text in production.items():
        lines = [line for line in text.lower().splitlines() if not line.startswith(";")]
        banned = ("bench", "load_takers", "load-", "#tryinclude", "include =>")
        assert not [line for line in lines if any(word in line for word in banned)], name


def _section(text: str, name: str, kind: str) -> str:
    for match in re.finditer(
        rf"^\[{re.escape(name)}\]\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL
    ):
        if f"type = {kind}" in match.group(1):
            return match.group(1)
    raise AssertionError(f"no [{name}] of type {kind}")


def test_the_trunk_is_identified_by_the_carriers_address_only(
    production: dict[str, str],
) -> None:
    pjsip = production["pjsip.conf"]
    assert "endpoint_identifier_order = username,ip\n" in pjsip  # no anonymous
    assert "identify_by = ip" in _section(pjsip, "trunk-112", "endpoint")
    assert "match = 10.1.1.1,10.1.1.2" in _section(pjsip, "trunk-112", "identify")
    acl = _section(pjsip, "sip-acl", "acl")
    assert acl.index("deny = 0.0.0.0/0.0.0.0") < acl.index("permit = 10.1.1.1,10.1.1.2")
    assert "permit = 10.1.2.0/24" in acl
    takers = production["pjsip_call_takers.conf"]
    ct01 = _section(takers, "ct-01", "endpoint")
    assert "identify_by = username" in ct01
    assert "auth = ct-01-auth" in ct01
    assert "auth_type = digest" in _section(takers, "ct-01-auth", "auth")


def test_the_ami_user_has_only_the_classes_the_controller_uses(
    production: dict[str, str],
) -> None:
    manager = production["manager.conf"]
    (read,) = re.findall(r"^read = (.*)$", manager, re.MULTILINE)
    (write,) = re.findall(r"^write = (.*)$", manager, re.MULTILINE)
    assert set(read.split(",")) == {"agent", "user", "security"}
    assert set(write.split(",")) == {"agent", "originate", "reporting"}
    assert "permit = 127.0.0.1/255.255.255.255" in manager
    assert "displayconnects = no" in manager


def test_the_callback_dialplan_filters_the_number_before_dialling(
    production: dict[str, str],
) -> None:
    callback = production["extensions.conf"].split("[callback]", 1)[1].split("\n[", 1)[0]
    assert "FILTER(+0123456789,${PBX_BRIDGE_CALLBACK_NUMBER})" in callback
    assert "Dial(PJSIP/${CALLBACK_NUMBER}@trunk-112" in callback
    assert "Dial(PJSIP/${PBX_BRIDGE_CALLBACK_NUMBER}" not in callback


def test_the_sandbox_keeps_its_benchmark_and_load_takers(tmp_path: Path) -> None:
    settings = Settings(
        ari_password=SecretStr("a"), ami_password=SecretStr("b"), sip_secret=SecretStr("c")
    )
    (tmp_path / "root/usr/lib/x86_64-linux-gnu/asterisk/modules").mkdir(parents=True)
    values = placeholders(settings, tmp_path / "root")
    written = write_configs(tmp_path / "etc", values, settings, load_taker_count=2)
    names = {path.name for path in written}
    assert {"bench.conf", "pjsip_load_takers.conf"} <= names
    assert "#tryinclude bench.conf" in (tmp_path / "etc/extensions.conf").read_text()
    pjsip = (tmp_path / "etc/pjsip.conf").read_text()
    assert "#tryinclude pjsip_load_takers.conf" in pjsip
    assert "permit = 127.0.0.0/8" in pjsip


def test_a_private_file_never_exists_with_a_laxer_mode(tmp_path: Path) -> None:
    """Even over an existing world-readable file, the secret lands 0600 (no chmod afterwards)."""
    path = tmp_path / "sandbox.env"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "PBX_BRIDGE_API_TOKEN=x\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "PBX_BRIDGE_API_TOKEN=x\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sandbox.env"]  # no staging file left


def test_the_state_folder_is_made_0700(tmp_path: Path) -> None:
    folder = private_dir(tmp_path / "state" / "spool")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
