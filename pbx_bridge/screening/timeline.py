"""The timeline's vocabulary: the kinds of TimelineEntry (the detail is noted where it means
something).

The machine and the queue tracking write these kinds, the reconciler writes them from the CDR,
and `policy.classify` reads them; the timeline is stored with the record, so `pbx-bridge retag`
can recompute every tag when the thresholds change.
"""

from __future__ import annotations

ARRIVED = "arrived"
ADOPTED = "adopted"  # found in our Stasis app after a restart, already answered, state lost
ANSWERED = "answered"
SPEECH = "speech"  # TALK_DETECT heard the caller
DTMF = "dtmf"  # detail: the digit
PRESSED_55 = "pressed_55"  # the caller cannot speak and pressed 5 twice
GREETING_FINISHED = "greeting_finished"
PROMPTED_55 = "prompted_55"  # no speech after the greeting: "if you cannot speak, press 5 twice"
SILENT = "silent"  # no speech and no 55 when screening timed out
CLOSING = "closing"  # the closing message plays before our hang-up (SilentPolicy.HANGUP)
QUEUED = "queued"  # detail: "<reason> prio=<n>", or "dialplan" when Stasis ended by itself
LEFT_STASIS = "left_stasis"
QUEUE_JOINED = "queue_joined"  # detail: "<queue> position=<n>"
AGENT_CONNECTED = "agent_connected"  # detail: the call taker
AGENT_COMPLETED = "agent_completed"  # detail: "<call taker> ended_by=<caller|agent|transfer>"
QUEUE_ABANDONED = "queue_abandoned"  # detail: the queue
COMMAND_FAILED = "command_failed"  # detail: "<command>: <reason>"
HANGUP_REQUESTED = "hangup_requested"  # detail: the cause, "" when not given yet
HANGUP_SENT = "hangup_sent"  # we hung up (only ever a silent call under SilentPolicy.HANGUP)
HUNG_UP = "hung_up"  # detail: the final cause code
RECONCILED = "reconciled"  # the record was made from Asterisk's CDR, not from live events

KINDS = frozenset(
    {
        ARRIVED,
        ADOPTED,
        ANSWERED,
        SPEECH,
        DTMF,
        PRESSED_55,
        GREETING_FINISHED,
        PROMPTED_55,
        SILENT,
        CLOSING,
        QUEUED,
        LEFT_STASIS,
        QUEUE_JOINED,
        AGENT_CONNECTED,
        AGENT_COMPLETED,
        QUEUE_ABANDONED,
        COMMAND_FAILED,
        HANGUP_REQUESTED,
        HANGUP_SENT,
        HUNG_UP,
        RECONCILED,
    }
)
