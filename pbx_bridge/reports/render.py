"""The reports as a terminal table or CSV (JSON is the records themselves).

No caller number is ever in a report: the rows they are made from hold none.
"""

from __future__ import annotations

import csv
import io
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the JSON, whatever reads it
    return value


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return out.getvalue()


def report_csv(report: dict[str, Any]) -> str:
    """Two columns, measure and value; nested figures get dotted names."""
    return _csv([["measure", "value"], *([k, v] for k, v in _flatten(report).items())])


def stats_csv(stats: dict[str, Any]) -> str:
    """One row per hour or day, then the whole period as `total`."""
    rows = [*stats["buckets"], {"start": "total", **stats["total"]}]
    header = list(rows[0])
    return _csv([header, *([row[name] for name in header] for row in rows)])


def report_table(report: dict[str, Any]) -> str:
    times = report["answer_times"]
    lines = [
        f"112 centre report {report['from']} to {report['to']} ({report['timezone']})",
        "",
        f"{'total calls':42}{report['total_calls']:>8}",
        f"{'unanswered in queue':42}{report['unanswered_in_queue']:>8}",
        f"{'answered, valid':42}{report['answered_valid']:>8}",
        f"{'answered, invalid':42}{report['answered_invalid']:>8}",
        f"{'  silent':42}{report['silent']:>8}",
        f"{'  hung up at once':42}{report['hung_up_at_once']:>8}",
        f"{'pressed 55 (cannot speak)':42}{report['pressed_55']:>8}",
        "",
        "answer time, from arrival to a call taker",
        f"{'  answered by a call taker':42}{times['answered']:>8}",
    ]
    for seconds in (10, 15, 20):
        of_answered = _cell(times[f"within_{seconds}s_pct_of_answered"])
        of_offered = _cell(times[f"within_{seconds}s_pct_of_offered"])
        label = f"  within {seconds} s, % of answered / of offered"
        lines.append(f"{label:42}{of_answered:>8} / {of_offered}")
    lines += [
        f"{f'  p{p}, seconds':42}{_cell(times[f'answer_p{p}_seconds']):>8}" for p in (50, 90, 95)
    ]
    lines += [
        f"{'  longest wait, seconds':42}{_cell(times['longest_wait_seconds']):>8}",
        f"{'  NENA: 90 % within 15 s':42}{_cell(times['nena_90pct_within_15s']):>8}",
        f"{'  NENA: 95 % within 20 s':42}{_cell(times['nena_95pct_within_20s']):>8}",
        "",
    ]
    lines += _dispatch_lines(report["dispatch"])
    return "\n".join(lines)


def _dispatch_lines(dispatch: dict[str, Any] | None) -> list[str]:
    if dispatch is None:
        return ["verified emergencies and handoffs: not available (no incident records)"]
    lines = [f"{'verified emergencies':42}{dispatch['verified_emergencies']:>8}"]
    for title, key in (
        ("category", "emergencies_by_category"),
        ("agency", "emergencies_by_agency"),
    ):
        lines += [f"{f'  {title} {name}':42}{count:>8}" for name, count in dispatch[key].items()]
    lines += [
        f"{'handoffs sent':42}{dispatch['handoffs_sent']:>8}",
        f"{'  acknowledged':42}{dispatch['handoffs_acknowledged']:>8}",
        (
            f"{'  acknowledged in, p50 / p90 / max seconds':42}"
            f"{_cell(dispatch['handoff_ack_p50_seconds']):>8} / "
            f"{_cell(dispatch['handoff_ack_p90_seconds'])} / "
            f"{_cell(dispatch['handoff_ack_longest_seconds'])}"
        ),
    ]
    return lines


STATS_COLUMNS = (
    ("offered", "offered", 8),
    ("answered", "answered", 9),
    ("abandoned_pct_of_offered", "aband%", 7),
    ("within_10s_pct_of_answered", "<=10s%", 7),
    ("within_15s_pct_of_answered", "<=15s%", 7),
    ("within_20s_pct_of_answered", "<=20s%", 7),
    ("answer_p50_seconds", "p50", 6),
    ("answer_p90_seconds", "p90", 6),
    ("answer_p95_seconds", "p95", 6),
    ("longest_wait_seconds", "longest", 8),
    ("nena_90pct_within_15s", "NENA15", 7),
    ("nena_95pct_within_20s", "NENA20", 7),
)


def stats_table(stats: dict[str, Any]) -> str:
    """Shares within N s are of answered calls; NENA columns: 90 % <= 15 s, 95 % <= 20 s."""
    width = 17 if stats["by"] == "hour" else 11
    header = f"{'start':{width}}" + "".join(f"{title:>{w}}" for _key, title, w in STATS_COLUMNS)
    lines = [
        (
            f"answer times {stats['from']} to {stats['to']} ({stats['timezone']}), "
            f"by {stats['by']}; % within N s of answered calls"
        ),
        header,
    ]
    rows = [*stats["buckets"], {**stats["total"], "start": "total"}]
    for row in rows:
        start = row["start"][:16].replace("T", " ") if stats["by"] == "hour" else row["start"][:10]
        cells = "".join(f"{_cell(row[key]):>{w}}" for key, _title, w in STATS_COLUMNS)
        lines.append(f"{start:{width}}{cells}")
    return "\n".join(lines)
