"""Every Asterisk config renders with no placeholder left; the sandbox's secrets stay secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from pbx_bridge.config import Settings
from pbx_bridge.errors import StartupError
from pbx_bridge.paths import asterisk_config_dir, dialplans_dir
from pbx_bridge.pbxconfig.render import PbxConfigError, render_text
from pbx_bridge.sandbox import SandboxError, placeholders


def fake_root(tmp_path: Path) -> Path:
    (tmp_path / "usr/lib/x86_64-linux-gnu/asterisk/modules").mkdir(parents=True)
    return tmp_path


def test_all_templates_render_completely(tmp_path: Path) -> None:
    settings = Settings(ari_password=SecretStr("a-secret"), ami_password=SecretStr("b-secret"))
    values = placeholders(settings, fake_root(tmp_path))
    sources = [*asterisk_config_dir().glob("*.conf"), *dialplans_dir().glob("*.conf")]
    assert {p.name for p in sources} >= {
        "pjsip.conf",
        "ari.conf",
        "manager.conf",
        "extensions.conf",
        "modules.conf",
    }
    rendered = {p.name: render_text(p.read_text(), values, p.name) for p in sources}
    assert "password = a-secret" in rendered["ari.conf"]
    assert "secret = b-secret" in rendered["manager.conf"]
    assert "bindaddr = 127.0.0.1" in rendered["http.conf"]
    assert "Stasis(pbx-bridge)" in rendered["extensions.conf"]


def test_an_unknown_placeholder_is_an_error_not_a_silent_gap() -> None:
    with pytest.raises(PbxConfigError, match="@@NOPE@@"):
        render_text("x = @@NOPE@@\n", {}, "x.conf")


def test_rendering_without_passwords_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="PBX_BRIDGE_ARI_PASSWORD"):
        placeholders(Settings(), fake_root(tmp_path))


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBX_BRIDGE_API_PORT", "9191")
    monkeypatch.setenv("PBX_BRIDGE_VALID_MIN_SECONDS", "12.5")
    settings = Settings()
    assert settings.api_port == 9191
    assert settings.valid_min_seconds == 12.5


def test_startup_error_names_the_setting_and_its_variable() -> None:
    text = str(StartupError("ari_password", "ARI refused user 'x'"))
    assert text == "setting ari_password (PBX_BRIDGE_ARI_PASSWORD): ARI refused user 'x'"
