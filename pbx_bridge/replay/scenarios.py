"""Replay scenarios: the caller scenarios of sipp-scenarios/, each call's parameters from a CSV.

The replay variant of a scenario is derived, not hand-copied: the -key values become CSV
fields (SIPp -inf, one line per call) and a pause holds each call until its planned arrival.
"""

from __future__ import annotations

from collections.abc import Sequence

from pbx_bridge.replay.mix import Behaviour
from pbx_bridge.replay.plan import PlannedCall

SCENARIO = {
    Behaviour.TALK: "talk",
    Behaviour.ABANDON: "talk",
    Behaviour.SILENT: "silent",
    Behaviour.HANGUP: "hangup",
    Behaviour.PRESS55: "press55",
}

# -key name -> CSV field; the longer name first ([caller_name] before [caller]).
FIELDS = ("caller_name", "caller", "hangup_ms", "dtmf_at_ms", "start_ms")
_FIELD_OF = {"caller": 0, "caller_name": 1, "hangup_ms": 2, "dtmf_at_ms": 3, "start_ms": 4}

_WAIT_FOR_ARRIVAL = """
  <!-- Replay: hold this call until its planned arrival (CSV field 4, in ms). -->
  <nop>
    <action>
      <assignstr assign_to="start_text" value="[field4]"/>
      <todouble assign_to="start_ms" variable="start_text"/>
    </action>
  </nop>
  <pause variable="start_ms"/>
"""


def replay_variant(scenario_xml: str) -> str:
    """The scenario with CSV fields for its keys and a wait for the planned arrival first."""
    text = scenario_xml
    for key in FIELDS:
        text = text.replace(f"[{key}]", f"[field{_FIELD_OF[key]}]")
    first_send = text.index("<send")
    line_start = text.rindex("\n", 0, first_send) + 1
    return text[:line_start] + _WAIT_FOR_ARRIVAL.lstrip("\n") + "\n" + text[line_start:]


def injection_csv(calls: Sequence[PlannedCall], creation_rate: float) -> str:
    """SIPp -inf lines for calls created in this order at `creation_rate` per second: each
    waits from its creation to its arrival."""
    lines = ["SEQUENTIAL"]
    for position, call in enumerate(calls):
        created_ms = position * 1000 / creation_rate
        wait_ms = max(0, round(call.arrive_ms - created_ms))
        lines.append(f"{call.caller};;{call.hangup_ms};{call.press_55_ms};{wait_ms};")
    return "\n".join(lines) + "\n"
