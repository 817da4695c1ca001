"""The replay's ground truth: every call, when it arrives, what it does, what it must become.

Pure and seeded: the same mix, scale and seed give the same plan (caller numbers aside, which
carry a run tag so that two replays into one store never share a number).
"""

from __future__ import annotations

import csv
import random
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pbx_bridge.replay.mix import Behaviour, CallGroup, Mix, Timing
from pbx_bridge.screening.model import Disposition, Validity

STAYS_MS = 3_600_000  # a caller who waits for the call taker hangs up only after them


@dataclass(frozen=True)
class PlannedCall:
    index: int
    category: str
    behaviour: Behaviour
    caller: str
    arrive_ms: int  # from the replay's start
    hangup_ms: int  # after our answer (STAYS_MS: the call taker ends the call)
    press_55_ms: int  # after our answer, press55 callers only
    emergency: str  # the incident category a call taker files, "" for none
    disposition: Disposition  # what the store must say
    validity: Validity


def scaled(count: int, scale: float) -> int:
    return 0 if count == 0 else max(1, round(count * scale))


def expected(behaviour: Behaviour, hangup_ms: int, timing: Timing) -> tuple[Disposition, Validity]:
    """What the controller must record for a caller who behaves like this."""
    if behaviour is Behaviour.TALK:
        return Disposition.ANSWERED, Validity.VALID
    if behaviour is Behaviour.PRESS55:
        return Disposition.SILENT_55, Validity.VALID
    if behaviour is Behaviour.HANGUP:
        return Disposition.HUNG_UP_IMMEDIATELY, Validity.INVALID
    if behaviour is Behaviour.SILENT:
        return Disposition.HUNG_UP_IN_SCREENING, Validity.INVALID
    stayed_long = hangup_ms / 1000 > timing.valid_min_seconds
    return Disposition.ABANDONED_IN_QUEUE, Validity.VALID if stayed_long else Validity.INVALID


def arrival_seconds(mix: Mix, count: int, seconds: float, rng: random.Random) -> list[float]:
    """Arrival times over `seconds`, shaped by the mix's daily curve when it has one."""
    curve = mix.arrivals.curve
    if curve is None:
        return sorted(rng.uniform(0, seconds) for _ in range(count))
    days = mix.arrivals.days
    hours = rng.choices(range(24), weights=curve, k=count)
    period = days * 24
    return sorted(
        (rng.uniform(0, days) // 1 * 24 + hour + rng.random()) / period * seconds for hour in hours
    )


def _ms(pair: tuple[float, float] | None, rng: random.Random) -> int:
    return 0 if pair is None else round(rng.uniform(*pair) * 1000)


def plan(
    mix: Mix, timing: Timing, *, scale: float = 1.0, seed: int = 112, run_tag: int = 0
) -> list[PlannedCall]:
    rng = random.Random(seed)  # noqa: S311 - a load plan, not a secret
    groups: list[CallGroup] = []
    for group in mix.calls:
        groups += [group] * scaled(group.count, scale)
    rng.shuffle(groups)
    arrivals = arrival_seconds(mix, len(groups), mix.arrivals.seconds * scale, rng)
    emergencies = _emergency_slots(mix, scale, groups, rng)
    calls = []
    for index, (group, at) in enumerate(zip(groups, arrivals, strict=True)):
        waits = group.behaviour in (Behaviour.TALK, Behaviour.PRESS55)
        hangup_ms = STAYS_MS if waits else _ms(group.hangup_after, rng)
        disposition, validity = expected(group.behaviour, hangup_ms, timing)
        calls.append(
            PlannedCall(
                index=index,
                category=group.category,
                behaviour=group.behaviour,
                caller=f"0899{run_tag % 1000:03d}{index:06d}",
                arrive_ms=round(at * 1000),
                hangup_ms=hangup_ms,
                press_55_ms=_ms(group.press_55_at, rng),
                emergency=emergencies.get(index, ""),
                disposition=disposition,
                validity=validity,
            )
        )
    return calls


def _emergency_slots(
    mix: Mix, scale: float, groups: list[CallGroup], rng: random.Random
) -> dict[int, str]:
    """Which planned calls the call takers turn into incidents, and of what category."""
    slots: dict[int, str] = {}
    for group in mix.calls:
        indexes = [i for i, g in enumerate(groups) if g.category == group.category]
        wanted = [
            str(kind)
            for kind, count in group.emergencies.items()
            for _ in range(scaled(count, scale))
        ][: len(indexes)]
        slots.update(zip(rng.sample(indexes, len(wanted)), wanted, strict=True))
    return slots


def write_truth(calls: list[PlannedCall], path: Path) -> None:
    """The ground truth, one row per call (the numbers are synthetic test numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, [f.name for f in fields(PlannedCall)])
        writer.writeheader()
        writer.writerows(asdict(call) for call in calls)
