"""Ground truth against the store: per category, expected vs recorded, and every mismatch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pbx_bridge.logging import mask_number
from pbx_bridge.replay.plan import PlannedCall


@dataclass(frozen=True)
class Recorded:
    """What the store says of one call."""

    disposition: str
    validity: str
    incidents: tuple[str, ...] = ()  # categories of the incidents the call is attached to


@dataclass(frozen=True)
class Mismatch:
    call: PlannedCall
    recorded: Recorded | None  # None: no record at all

    def describe(self) -> str:
        call = self.call
        want = f"{call.disposition}/{call.validity}" + (
            f" + {call.emergency} incident" if call.emergency else ""
        )
        if self.recorded is None:
            got = "no record"
        else:
            got = f"{self.recorded.disposition}/{self.recorded.validity}"
            if self.recorded.incidents:
                got += f" + {','.join(self.recorded.incidents)} incident"
        return (
            f"call {call.index} ({call.category}, caller {mask_number(call.caller)}, "
            f"at {call.arrive_ms / 1000:.1f} s): expected {want}, recorded {got}"
        )


@dataclass(frozen=True)
class Row:
    category: str
    expected: int
    recorded: int  # calls of this category recorded as expected
    outcome: str  # the expected disposition/validity


@dataclass(frozen=True)
class Reconciliation:
    rows: list[Row]
    emergencies_expected: Mapping[str, int]
    emergencies_recorded: Mapping[str, int]
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def table(self) -> str:
        width = max([len("category"), *(len(row.category) for row in self.rows)])
        lines = [f"{'category':<{width}}  expected  recorded  as"]
        lines += [
            f"{row.category:<{width}}  {row.expected:>8}  {row.recorded:>8}  {row.outcome}"
            for row in self.rows
        ]
        kinds = sorted(set(self.emergencies_expected) | set(self.emergencies_recorded))
        lines += [
            f"{'emergency ' + kind:<{width}}  {self.emergencies_expected.get(kind, 0):>8}  "
            f"{self.emergencies_recorded.get(kind, 0):>8}  verified incident"
            for kind in kinds
        ]
        return "\n".join(lines)


def _matches(call: PlannedCall, recorded: Recorded | None) -> bool:
    return (
        recorded is not None
        and recorded.disposition == call.disposition
        and recorded.validity == call.validity
        and recorded.incidents == ((call.emergency,) if call.emergency else ())
    )


def reconcile(calls: Sequence[PlannedCall], store: Mapping[str, Recorded]) -> Reconciliation:
    """`store` maps caller number to its record (each planned caller calls once)."""
    expected: Counter[str] = Counter()
    recorded: Counter[str] = Counter()
    outcomes: dict[str, str] = {}
    mismatches = []
    for call in calls:
        expected[call.category] += 1
        outcomes[call.category] = f"{call.disposition}/{call.validity}"
        found = store.get(call.caller)
        if _matches(call, found):
            recorded[call.category] += 1
        else:
            mismatches.append(Mismatch(call, found))
    rows = [Row(name, expected[name], recorded[name], outcomes[name]) for name in expected]
    return Reconciliation(
        rows=rows,
        emergencies_expected=Counter(c.emergency for c in calls if c.emergency),
        emergencies_recorded=Counter(
            kind for c in calls for kind in (store[c.caller].incidents if c.caller in store else ())
        ),
        mismatches=mismatches,
    )
