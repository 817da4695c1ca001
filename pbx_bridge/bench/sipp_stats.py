"""Read SIPp 3.x output files: the -trace_stat statistics CSV and the -trace_rtt response times.

SIPp 3.8 writes both into its working directory, semicolon separated, every line ending in ";"
(the stat file) or not (the rtt file):

- `<scenario>_<pid>_.csv` (-trace_stat, one row per -fd period plus a last row at the end):
  `StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);
  CallRate(C);...;TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);
  FailedCall(P);FailedCall(C);...;Retransmissions(C);...` -- "(P)" periodic, "(C)" cumulative.
  Times are "2026-11-25<TAB>16:16:58.850896<TAB>1795623418.850896" (date, time, epoch seconds);
  ElapsedTime is "HH:MM:SS" (whole seconds), so the elapsed time is taken from the epochs.
- `<scenario>_<pid>_rtt.csv` (-trace_rtt; flushed every -rtt_freq calls, default 200, and at
  exit): `Date_ms;response_time_ms;rtd_no`, one row per call and response-time measure. Only a
  `<recv ... rtd="true"/>` (or `rtd="N"`) ends a measure; the built-in uac has it on its 200.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STAT_COLUMNS = {
    "created": "TotalCallCreated",
    "successful": "SuccessfulCall(C)",
    "failed": "FailedCall(C)",
    "retransmissions": "Retransmissions(C)",
    "timeouts_recv": "FailedTimeoutOnRecv(C)",
    "timeouts_send": "FailedTimeoutOnSend(C)",
    "unexpected": "FailedUnexpectedMessage(C)",
    "max_udp_retrans": "FailedMaxUDPRetrans(C)",
    "current_calls": "CurrentCall",
}


@dataclass(frozen=True)
class SippTotals:
    """Cumulative counts from the last row of a -trace_stat file."""

    created: int
    successful: int
    failed: int
    retransmissions: int
    timeouts: int  # FailedTimeoutOnRecv + FailedTimeoutOnSend
    unexpected: int  # FailedUnexpectedMessage
    max_udp_retrans: int  # FailedMaxUDPRetrans
    elapsed_seconds: float
    current_calls: int


def _rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the SIPp file ({error})") from error
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: empty SIPp file (no header line)")
    return [_fields(line) for line in lines]


def _fields(line: str) -> list[str]:
    fields = line.split(";")
    if fields and fields[-1] == "":  # the stat file ends every line with ";"
        fields.pop()
    return [field.strip() for field in fields]


def _epoch(stamp: str) -> float | None:
    """The epoch seconds in "date<TAB>time<TAB>epoch", or None."""
    parts = stamp.split()
    try:
        return float(parts[-1]) if len(parts) >= 3 else None
    except ValueError:
        return None


def _clock_seconds(value: str) -> float:
    """ "HH:MM:SS" or "HH:MM:SS:micros" (SIPp's durations) in seconds."""
    parts = value.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(value)
    hours, minutes, seconds = (int(part) for part in parts[:3])
    micros = int(parts[3]) if len(parts) == 4 else 0
    return hours * 3600 + minutes * 60 + seconds + micros / 1e6


def read_stat(path: Path) -> SippTotals:
    """The cumulative totals in the last row of a -trace_stat CSV, whatever the column order."""
    rows = _rows(path)
    header, data = rows[0], rows[1:]
    if not data:
        raise ValueError(f"{path}: SIPp statistics file has a header but no rows")
    missing = [name for name in [*STAT_COLUMNS.values(), "ElapsedTime(C)"] if name not in header]
    if missing:
        raise ValueError(f"{path}: not a SIPp -trace_stat file (no column {', '.join(missing)})")
    row = data[-1]
    if len(row) < len(header):
        raise ValueError(
            f"{path}: last row has {len(row)} fields, the header {len(header)} (truncated file?)"
        )
    value = dict(zip(header, row, strict=False))
    try:
        counts = {key: int(value[column]) for key, column in STAT_COLUMNS.items()}
        elapsed = _elapsed(value)
    except ValueError as error:
        raise ValueError(f"{path}: malformed value in the last row ({error})") from error
    return SippTotals(
        created=counts["created"],
        successful=counts["successful"],
        failed=counts["failed"],
        retransmissions=counts["retransmissions"],
        timeouts=counts["timeouts_recv"] + counts["timeouts_send"],
        unexpected=counts["unexpected"],
        max_udp_retrans=counts["max_udp_retrans"],
        elapsed_seconds=elapsed,
        current_calls=counts["current_calls"],
    )


def _elapsed(value: dict[str, str]) -> float:
    start, now = _epoch(value.get("StartTime", "")), _epoch(value.get("CurrentTime", ""))
    if start is not None and now is not None:
        return round(now - start, 6)
    return _clock_seconds(value["ElapsedTime(C)"])


def read_rtt(path: Path, rtd_no: int | None = None) -> list[float]:
    """Every response time (ms) in a -trace_rtt CSV, in file order; only measure `rtd_no` if given.

    A file with only its header (no call reached the rtd message) gives [].
    """
    rows = _rows(path)
    header = rows[0]
    if "response_time_ms" not in header or "rtd_no" not in header:
        raise ValueError(f"{path}: not a SIPp -trace_rtt file (header {';'.join(header)!r})")
    at, number = header.index("response_time_ms"), header.index("rtd_no")
    times: list[float] = []
    for line_no, row in enumerate(rows[1:], start=2):
        try:
            if rtd_no is None or int(row[number]) == rtd_no:
                times.append(float(row[at]))
        except (ValueError, IndexError) as error:
            raise ValueError(f"{path}: line {line_no} is malformed: {';'.join(row)!r}") from error
    return times


def output_files(directory: Path, scenario: str, pid: int | None = None) -> tuple[Path, Path]:
    """(stat file, rtt file) SIPp wrote in `directory` for `scenario` (the -sf file's stem, or
    "uac"/"uas" for -sn). Without `pid` exactly one run's files must be there."""
    pattern = f"{scenario}_{pid if pid is not None else '*'}_"
    stats = sorted(directory.glob(f"{pattern}.csv"))
    rtts = sorted(directory.glob(f"{pattern}rtt.csv"))
    if len(stats) != 1 or len(rtts) != 1:
        raise ValueError(
            f"{directory}: expected one {pattern}.csv and one {pattern}rtt.csv, found "
            f"{[p.name for p in stats]} and {[p.name for p in rtts]}"
        )
    return stats[0], rtts[0]


def read_rtt_rows(path: Path) -> list[tuple[float, float]]:
    """(Date_ms, response_time_ms) per call of a -trace_rtt CSV: Date_ms is when the response
    came, in ms since SIPp started, so Date_ms - response_time_ms is when the call was sent."""
    rows = _rows(path)
    header = rows[0]
    if "Date_ms" not in header or "response_time_ms" not in header:
        raise ValueError(f"{path}: not a SIPp -trace_rtt file (header {';'.join(header)!r})")
    date, took = header.index("Date_ms"), header.index("response_time_ms")
    try:
        return [(float(row[date]), float(row[took])) for row in rows[1:] if len(row) > took]
    except ValueError as error:
        raise ValueError(f"{path}: malformed rtt row ({error})") from error
