"""The fault table: what each fault cost the callers, against the target, as Markdown."""

from __future__ import annotations

from dataclasses import dataclass

# The target of every row: nobody lost, nobody cut off, nobody left in Stasis (silence) longer
# than this after the fault (or after their own arrival, when they arrived during it).
MAX_STASIS_AFTER_FAULT_SECONDS = 10.0
# After a surge: answer times as calm as before it within this long after it ends.
MAX_BACK_TO_NORMAL_SECONDS = 10.0
NOT_MEASURED = -1.0  # back_to_normal of a fault that is not a surge


@dataclass(frozen=True)
class FaultRow:
    fault: str
    calls: int  # placed by SIPp
    answered: int  # by a call taker, as the records say
    cut_off: int  # SIPp calls that failed: the PBX ended or broke the caller's call
    longest_in_stasis: float  # seconds a caller was left in Stasis by the fault (watch.py)
    recorded: int  # placed calls with a record in the store
    note: str = ""
    # Seconds after a surge until answers were as fast as before it; None: not in the probing.
    back_to_normal: float | None = NOT_MEASURED

    @property
    def lost(self) -> int:
        return self.calls - self.recorded

    @property
    def target_met(self) -> bool:
        return (
            self.lost == 0
            and self.cut_off == 0
            and self.longest_in_stasis <= MAX_STASIS_AFTER_FAULT_SECONDS
            and self._recovered()
        )

    def _recovered(self) -> bool:
        if self.back_to_normal == NOT_MEASURED:
            return True
        return self.back_to_normal is not None and self.back_to_normal <= MAX_BACK_TO_NORMAL_SECONDS

    def back_to_normal_text(self) -> str:
        if self.back_to_normal == NOT_MEASURED:
            return "-"
        if self.back_to_normal is None:
            return "not within the probing"
        return f"{self.back_to_normal:.0f} s"

    def misses(self) -> list[str]:
        missed = []
        if self.lost:
            missed.append(f"{self.lost} lost")
        if self.cut_off:
            missed.append(f"{self.cut_off} cut off")
        if self.longest_in_stasis > MAX_STASIS_AFTER_FAULT_SECONDS:
            missed.append(f"{self.longest_in_stasis:.1f} s in Stasis")
        if not self._recovered():
            missed.append(f"answer times back to normal {self.back_to_normal_text()} after")
        return missed


def markdown(rows: list[FaultRow], command: str, when: str, machine: str) -> str:
    lines = [
        "# Reliability: faults against the real sandbox",
        "",
        f"Made by `{command}` on {when} ({machine}). Each fault runs on a freshly started sandbox",
        "(Asterisk 22) with its own controller, SIPp callers who stay on the line (every other one",
        "silent, held in screening), and SIPp call takers who answer. Measured from outside the",
        "controller: the channels in the Stasis app (ARI, every 0.25 s), SIPp's own record of who",
        "hung up, and the store's records. 'Longest in Stasis' is the longest a caller was left",
        "there by the fault: a talking caller's time there after the fault (or its arrival), a",
        "silent caller's time beyond a healthy screening (greeting, listening, the 55 prompt and",
        "the wait for 55).",
        "",
        (
            f"Target for every row: 0 lost, 0 cut off, nobody in Stasis more than "
            f"{MAX_STASIS_AFTER_FAULT_SECONDS:.0f} s after the fault (or after arriving during it);"
            f" after a surge, answer times as calm as before it within "
            f"{MAX_BACK_TO_NORMAL_SECONDS:.0f} s of its end."
        ),
        "",
        (
            "| fault | calls | answered | cut off | longest in Stasis | recorded | lost "
            "| back to normal | target |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        verdict = "met" if row.target_met else "NOT met: " + ", ".join(row.misses())
        lines.append(
            f"| {row.fault} | {row.calls} | {row.answered} | {row.cut_off} | "
            f"{row.longest_in_stasis:.1f} s | {row.recorded} | {row.lost} | "
            f"{row.back_to_normal_text()} | {verdict} |"
        )
    notes = [f"- **{row.fault}**: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", "## What each fault was", "", *notes]
    return "\n".join(lines) + "\n"
