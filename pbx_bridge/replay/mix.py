"""A load mix: which callers arrive, how many, when, and who answers them.

A mix is a TOML file (see mixes/kendari.toml). Each caller behaviour has a known outcome, so a
replay's store can be checked call by call. The timing rules below keep each behaviour on one
side of the screening and queue boundaries, with a margin: a mix that breaks them is refused.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pbx_bridge.dispatch.model import Category

# Timing margins, seconds: room for the screening and queue hops between a caller's plan and
# what Asterisk and the controller do (a loaded run moves each by tens of milliseconds).
MARGIN = 1.0
# A talking caller is in the queue this soon after our answer (speech heard, Stasis left).
REACHES_QUEUE = 1.5


class Behaviour(StrEnum):
    TALK = "talk"  # speaks, waits in the queue until a call taker answers and hangs up
    ABANDON = "abandon"  # speaks, gives up in the queue before a call taker answers
    SILENT = "silent"  # says nothing and hangs up during screening
    HANGUP = "hangup"  # hangs up right after our answer
    PRESS55 = "press55"  # cannot speak: presses 5 twice, then waits for a call taker


Seconds = Annotated[float, Field(ge=0)]


class CallGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str = Field(min_length=1)
    behaviour: Behaviour
    count: int = Field(ge=0)
    # Seconds after our answer: when an abandoning or silent caller hangs up.
    hangup_after: tuple[Seconds, Seconds] | None = None
    # Seconds after our answer: when a caller who cannot speak presses 55.
    press_55_at: tuple[Seconds, Seconds] | None = None
    # How many of these calls the call takers turn into verified incidents, by category.
    emergencies: dict[Category, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _needs(self) -> CallGroup:
        needs_hangup = self.behaviour in (Behaviour.ABANDON, Behaviour.SILENT)
        if needs_hangup and self.hangup_after is None:
            raise ValueError(f"{self.category}: a {self.behaviour} caller needs hangup_after")
        if self.behaviour is Behaviour.PRESS55 and self.press_55_at is None:
            raise ValueError(f"{self.category}: a press55 caller needs press_55_at")
        for pair in (self.hangup_after, self.press_55_at):
            if pair is not None and pair[0] > pair[1]:
                raise ValueError(f"{self.category}: range {list(pair)} runs backwards")
        answered = self.behaviour in (Behaviour.TALK, Behaviour.PRESS55)
        if self.emergencies and not answered:
            raise ValueError(f"{self.category}: only answered calls become emergencies")
        if sum(self.emergencies.values()) > self.count:
            raise ValueError(f"{self.category}: more emergencies than calls")
        return self


class Arrivals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: float = Field(gt=0)  # the period the calls came in
    seconds: float = Field(gt=0)  # replayed in this many seconds
    # Share of each day's calls by hour (24 weights); none: calls come evenly.
    curve: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _curve(self) -> Arrivals:
        if self.curve is not None and (
            len(self.curve) != 24 or min(self.curve) < 0 or sum(self.curve) <= 0
        ):
            raise ValueError("arrivals.curve needs 24 hourly weights, not negative, not all 0")
        return self


class Takers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=1)
    answer_after: float = Field(gt=0)  # rings this long before answering
    talk_seconds: float = Field(gt=0)  # then talks this long and hangs up


class Mix(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str = ""
    arrivals: Arrivals
    takers: Takers
    calls: tuple[CallGroup, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Mix:
        names = [group.category for group in self.calls]
        if len(names) != len(set(names)):
            raise ValueError("each [[calls]] category must be named once")
        return self

    @property
    def total(self) -> int:
        return sum(group.count for group in self.calls)


class MixError(ValueError):
    pass


@dataclass(frozen=True)
class Timing:
    """The controller's and the queue's timing that a mix must respect (from Settings)."""

    listen_seconds: float
    await_55_seconds: float
    valid_min_seconds: float
    hung_up_immediately_seconds: float
    ring_seconds: float


def shipped() -> list[str]:
    folder = resources.files("pbx_bridge.replay") / "mixes"
    return sorted(item.name.removesuffix(".toml") for item in folder.iterdir() if item.is_file())


def load_mix(name_or_path: str) -> Mix:
    """A shipped mix by name (kendari, sample) or a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise MixError(f"no mix file {path}")
        text, source = path.read_text(), str(path)
    elif name_or_path in shipped():
        item = resources.files("pbx_bridge.replay") / "mixes" / f"{name_or_path}.toml"
        text, source = item.read_text(), f"{name_or_path} (shipped)"
    else:
        raise MixError(f"no mix {name_or_path!r}: give a .toml file or one of {shipped()}")
    try:
        return Mix.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise MixError(f"{source}: not TOML: {error}") from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'mix'}: {e['msg']}" for e in error.errors()
        )
        raise MixError(f"{source}: {problems}") from error


def _takers_problems(takers: Takers, timing: Timing) -> list[str]:
    problems = []
    if takers.answer_after > timing.ring_seconds - MARGIN:
        problems.append(
            f"takers.answer_after {takers.answer_after} s must be under the queue's ring time "
            f"({timing.ring_seconds} s, PBX_BRIDGE_RING_SECONDS) by {MARGIN} s"
        )
    if takers.answer_after + takers.talk_seconds < timing.valid_min_seconds + MARGIN:
        problems.append(
            "takers.answer_after + talk_seconds must exceed the valid call length "
            f"({timing.valid_min_seconds} s) by {MARGIN} s, or answered calls look invalid"
        )
    return problems


def _abandon_problems(where: str, low: float, high: float, takers: Takers) -> list[str]:
    problems = []
    if low < REACHES_QUEUE:
        problems.append(f"{where}: under {REACHES_QUEUE} s the caller is not queued yet")
    if high > takers.answer_after - MARGIN:
        problems.append(
            f"{where}: must end {MARGIN} s before takers.answer_after "
            f"({takers.answer_after} s), or a call taker may answer first"
        )
    return problems


def _silent_problems(where: str, low: float, high: float, timing: Timing) -> list[str]:
    problems = []
    if low < timing.hung_up_immediately_seconds + MARGIN:
        problems.append(
            f"{where}: must start {MARGIN} s after the hung-up-at-once limit "
            f"({timing.hung_up_immediately_seconds} s)"
        )
    if high > _screening_ends(timing) - MARGIN:
        problems.append(
            f"{where}: must end {MARGIN} s before screening can end "
            f"({_screening_ends(timing)} s: listen + await 55)"
        )
    return problems


def _screening_ends(timing: Timing) -> float:
    return timing.listen_seconds + timing.await_55_seconds  # the prompts only add to it


def check_timing(mix: Mix, timing: Timing) -> list[str]:
    """Why this mix's outcomes would not be certain with this timing (empty: they are)."""
    problems = _takers_problems(mix.takers, timing)
    for group in mix.calls:
        low, high = group.hangup_after or (0.0, 0.0)
        where = f"{group.category}.hangup_after {[low, high]}"
        if group.behaviour is Behaviour.ABANDON:
            problems += _abandon_problems(where, low, high, mix.takers)
        if group.behaviour is Behaviour.SILENT:
            problems += _silent_problems(where, low, high, timing)
        if group.press_55_at is not None and group.press_55_at[1] > _screening_ends(timing) - 1:
            problems.append(
                f"{group.category}.press_55_at must end before screening can end "
                f"({_screening_ends(timing)} s)"
            )
    return problems
