"""Voice prompts: Indonesian text spoken by espeak-ng, converted by sox to Asterisk's format."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.paths import asterisk_config_dir

SOUND_FOLDER = "pbx-bridge"  # prompts are played as sound:pbx-bridge/<name>
LANGUAGE = "id"  # the callers' language: Asterisk's own sounds come from sounds/id/


@dataclass(frozen=True)
class Prompt:
    name: str
    indonesian: str
    english: str


class PromptError(RuntimeError):
    pass


def load_prompts(path: Path | None = None) -> list[Prompt]:
    source = path or asterisk_config_dir() / "prompts.toml"
    with source.open("rb") as handle:
        table = tomllib.load(handle)
    return [
        Prompt(name, texts["id"], texts.get("en", ""))
        for name, texts in table.items()
        if name != CORE_TABLE
    ]


CORE_TABLE = "core"
_UNITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def indonesian_number(n: int) -> str:
    """0..99 in words, as app_queue's position announcement needs them."""
    if n < 10:
        return _UNITS[n]
    if n == 10:
        return "sepuluh"
    if n == 11:
        return "sebelas"
    if n < 20:
        return f"{_UNITS[n - 10]} belas"
    tens, units = divmod(n, 10)
    words = "sepuluh" if tens == 1 else f"{_UNITS[tens]} puluh"
    return words if units == 0 else f"{words} {_UNITS[units]}"


def load_core_sounds(path: Path | None = None) -> list[Prompt]:
    """Asterisk's standard sound names the queue uses, with their Indonesian text."""
    source = path or asterisk_config_dir() / "prompts.toml"
    with source.open("rb") as handle:
        table = tomllib.load(handle).get(CORE_TABLE, {})
    core = [Prompt(name, text, "") for name, text in table.items()]
    numbers = [*range(21), *range(30, 100, 10)]
    return core + [Prompt(f"digits/{n}", indonesian_number(n), str(n)) for n in numbers]


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise PromptError(f"{tool} is not installed: run `make deps` (apt-get install {tool})")
    return found


def build_prompts(out_dir: Path, prompts: list[Prompt] | None = None) -> list[Path]:
    """Write <name>.wav (8 kHz mono 16-bit) for each prompt; unchanged texts are not redone."""
    out_dir.mkdir(parents=True, exist_ok=True)
    recorded = asterisk_config_dir() / "recorded"
    written: list[Path] = []
    for prompt in prompts or load_prompts():
        target = out_dir / f"{prompt.name}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        recording = recorded / f"{prompt.name}.wav"
        if recording.is_file():
            shutil.copyfile(recording, target)
            written.append(target)
            continue
        stamp = target.with_name(f".{target.stem}.sha256")
        digest = hashlib.sha256(prompt.indonesian.encode()).hexdigest()
        if target.is_file() and stamp.is_file() and stamp.read_text() == digest:
            written.append(target)
            continue
        _speak(prompt.indonesian, target)
        stamp.write_text(digest)
        written.append(target)
    return written


def _speak(text: str, target: Path) -> None:
    espeak, sox = _require("espeak-ng"), _require("sox")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        subprocess.run([espeak, "-v", "id", "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(
            [
                sox,
                str(raw),
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(target),
            ],
            check=True,
        )
