"""Q.850 hang-up causes as Asterisk reports them: one table, so no cause is an `if` anywhere.

`who` says on whose side the cause lies: an end of the call (the caller, us or the call taker),
the network (carrier, trunk, Asterisk's resources), or nobody knows.
"""

from __future__ import annotations

USER = "user"
NETWORK = "network"
UNKNOWN = "unknown"

CAUSES: dict[int, tuple[str, str]] = {
    0: ("unknown", UNKNOWN),
    1: ("unallocated_number", NETWORK),
    2: ("no_route_transit_net", NETWORK),
    3: ("no_route_destination", NETWORK),
    5: ("misdialled_trunk_prefix", NETWORK),
    6: ("channel_unacceptable", NETWORK),
    7: ("call_awarded_delivered", NETWORK),
    8: ("pre_empted", NETWORK),
    14: ("number_ported_not_here", NETWORK),
    16: ("normal_clearing", USER),
    17: ("user_busy", USER),
    18: ("no_user_response", USER),
    19: ("no_answer", USER),
    20: ("subscriber_absent", USER),
    21: ("call_rejected", USER),
    22: ("number_changed", USER),
    23: ("redirected_to_new_destination", USER),
    26: ("answered_elsewhere", USER),
    27: ("destination_out_of_order", NETWORK),
    28: ("invalid_number_format", NETWORK),
    29: ("facility_rejected", NETWORK),
    30: ("response_to_status_enquiry", NETWORK),
    31: ("normal_unspecified", USER),
    34: ("no_circuit_available", NETWORK),
    38: ("network_out_of_order", NETWORK),
    41: ("temporary_failure", NETWORK),
    42: ("switch_congestion", NETWORK),
    43: ("access_info_discarded", NETWORK),
    44: ("requested_channel_unavailable", NETWORK),
    47: ("resource_unavailable", NETWORK),
    50: ("facility_not_subscribed", NETWORK),
    52: ("outgoing_call_barred", NETWORK),
    54: ("incoming_call_barred", NETWORK),
    57: ("bearer_capability_not_authorized", NETWORK),
    58: ("bearer_capability_not_available", NETWORK),
    63: ("service_unavailable", NETWORK),
    65: ("bearer_capability_not_implemented", NETWORK),
    66: ("channel_type_not_implemented", NETWORK),
    69: ("facility_not_implemented", NETWORK),
    79: ("service_not_implemented", NETWORK),
    81: ("invalid_call_reference", NETWORK),
    88: ("incompatible_destination", NETWORK),
    95: ("invalid_message_unspecified", NETWORK),
    96: ("mandatory_ie_missing", NETWORK),
    97: ("message_type_nonexistent", NETWORK),
    98: ("wrong_message", NETWORK),
    99: ("ie_nonexistent", NETWORK),
    100: ("invalid_ie_contents", NETWORK),
    101: ("wrong_call_state", NETWORK),
    102: ("recovery_on_timer_expiry", NETWORK),
    103: ("mandatory_ie_length_error", NETWORK),
    111: ("protocol_error", NETWORK),
    127: ("interworking", NETWORK),
}


def describe(cause: int) -> str:
    """The cause's name, e.g. 16 -> "normal_clearing"; "cause_<n>" for a code not in Q.850."""
    entry = CAUSES.get(cause)
    return entry[0] if entry else f"cause_{cause}"


def who(cause: int) -> str:
    """On whose side the cause lies: USER, NETWORK or UNKNOWN."""
    entry = CAUSES.get(cause)
    return entry[1] if entry else UNKNOWN
