"""Answer-time statistics and the centre's report: hand-made rows with known answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx_bridge.reports.model import CallRow, Period
from pbx_bridge.reports.stats import answer_stats, bucketed, percentile, stats_fields
from pbx_bridge.reports.summary import DispatchFigures, centre_report

JAKARTA = ZoneInfo("Asia/Jakarta")  # UTC+7, no daylight saving
DAY = Period(date(2026, 11, 25), date(2026, 11, 25), JAKARTA)
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 08:00 in Jakarta


def answered(after: float, *, at: datetime = T0, validity: str = "valid") -> CallRow:
    return CallRow(
        at, at + timedelta(seconds=after), at + timedelta(seconds=after + 60), validity, "answered"
    )


def gone(
    disposition: str, *, waited: float = 30, validity: str = "invalid", at: datetime = T0
) -> CallRow:
    return CallRow(at, None, at + timedelta(seconds=waited), validity, disposition)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5
    assert percentile(values, 90) == 9
    assert percentile(values, 95) == 10
    assert percentile([7.0], 95) == 7
    assert percentile([], 50) is None


def test_shares_within_count_the_limit_itself_and_say_what_they_are_of() -> None:
    rows = [answered(s) for s in (5, 10, 12, 15, 16, 20, 25)] + [gone("abandoned_in_queue")] * 3
    stats, longest_wait = answer_stats(rows)
    fields = stats_fields(stats, longest_wait)
    assert (stats.offered, stats.answered, stats.abandoned) == (10, 7, 3)
    assert fields["answered_within_10s"] == 2
    assert fields["answered_within_15s"] == 4
    assert fields["answered_within_20s"] == 6
    assert fields["within_15s_pct_of_answered"] == 57.14
    assert fields["within_15s_pct_of_offered"] == 40.0
    assert fields["abandoned_pct_of_offered"] == 30.0
    assert fields["answer_p50_seconds"] == 15.0
    assert fields["longest_answer_seconds"] == 25.0
    assert fields["longest_wait_seconds"] == 30.0  # the abandoned callers waited longest


def test_nena_compliance_holds_at_exactly_90_and_95_percent() -> None:
    rows = [answered(15)] * 18 + [answered(20), answered(21)]  # 90 % <= 15 s, 95 % <= 20 s
    stats, _ = answer_stats(rows)
    assert stats.nena_90_within_15 is True
    assert stats.nena_95_within_20 is True
    slower, _ = answer_stats([answered(15.001), *rows[1:]])  # 85 % <= 15 s
    assert slower.nena_90_within_15 is False
    assert slower.nena_95_within_20 is True


def test_a_period_without_calls_has_counts_of_zero_and_no_rates() -> None:
    stats, longest = answer_stats([])
    fields = stats_fields(stats, longest)
    assert fields["offered"] == 0
    assert fields["within_15s_pct_of_answered"] is None
    assert fields["answer_p90_seconds"] is None
    assert fields["nena_90pct_within_15s"] is None
    assert [bucket.stats.offered for bucket in bucketed([], DAY, "hour")] == [0] * 24


def test_buckets_are_local_hours_and_days_across_midnight() -> None:
    period = Period(date(2026, 11, 25), date(2026, 11, 26), JAKARTA)
    before = datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)  # 23:59:59 in Jakarta
    after = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)  # 00:00 on the 26th in Jakarta
    too_early = datetime(2026, 11, 24, 16, 59, 59, tzinfo=UTC)  # the 24th, local
    rows = [
        answered(5, at=before),
        answered(5, at=after),
        answered(30, at=after),
        answered(1, at=too_early),
    ]
    days = bucketed(rows, period, "day")
    assert [(d.start.isoformat(), d.stats.offered) for d in days] == [
        ("2026-11-25T00:00:00+07:00", 1),
        ("2026-11-26T00:00:00+07:00", 2),
    ]
    hours = bucketed(rows, period, "hour")
    assert len(hours) == 48
    assert hours[23].start.isoformat() == "2026-11-25T23:00:00+07:00"
    assert hours[23].stats.offered == 1
    assert hours[24].stats.offered == 2
    assert hours[24].stats.percentile(95) == 30


def test_a_period_is_whole_local_days_in_utc() -> None:
    assert DAY.start == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert DAY.end == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 11, 25), date(2026, 11, 24), JAKARTA)


def test_hours_follow_a_zone_with_daylight_saving() -> None:
    spring = Period(date(2026, 3, 29), date(2026, 3, 29), ZoneInfo("Europe/Berlin"))
    assert len(list(spring.buckets("hour"))) == 23


def test_the_centre_report_counts_as_kendari_did() -> None:
    rows = [
        *[gone("abandoned_in_queue", validity="valid")] * 4,
        gone("abandoned_before_answer", validity="unanswered"),
        *[answered(8)] * 3,
        gone("hung_up_in_screening", validity="valid"),
        *[gone("silent")] * 2,
        gone("hung_up_immediately", waited=2),
        CallRow(T0, T0 + timedelta(seconds=4), None, "valid", "silent_55", cannot_speak=True),
    ]
    report = centre_report(rows, DAY)
    assert report.total_calls == 13
    assert report.unanswered_in_queue == 5
    assert report.answered_valid == 5  # 3 answered, 1 hung up in screening after speaking, 1 x 55
    assert report.answered_invalid == 3
    assert (report.silent, report.hung_up_at_once, report.pressed_55) == (2, 1, 1)
    assert report.as_json()["dispatch"] is None


def test_the_dispatch_figures_extension_point_fills_the_report() -> None:
    figures = DispatchFigures(
        {"fire": 2, "health": 1}, {"Damkar": 2, "Dinkes": 1}, (30.0, 90.04, 45.0), 4
    )
    dispatch = centre_report([], DAY, figures).as_json()["dispatch"]
    assert dispatch["verified_emergencies"] == 3
    assert dispatch["emergencies_by_agency"] == {"Damkar": 2, "Dinkes": 1}
    assert (dispatch["handoffs_sent"], dispatch["handoffs_acknowledged"]) == (4, 3)
    assert dispatch["handoff_ack_p50_seconds"] == 45.0
    assert dispatch["handoff_ack_longest_seconds"] == 90.0  # tenths, as the answer times


DISPOSITIONS = ["answered", "abandoned_in_queue", "abandoned_before_answer", "silent", "silent_55"]
rows_strategy = st.lists(
    st.builds(
        lambda offset, answer, disposition: CallRow(
            DAY.start + timedelta(seconds=offset),
            None if answer is None else DAY.start + timedelta(seconds=offset + answer),
            DAY.start + timedelta(seconds=offset + 300),
            "valid",
            disposition,
        ),
        st.integers(0, 86_399),
        st.none() | st.floats(0, 120),
        st.sampled_from(DISPOSITIONS),
    ),
    max_size=60,
)


@given(rows_strategy)
def test_any_calls_give_rates_in_range_and_counts_that_add_up(rows: list[CallRow]) -> None:
    total, _ = answer_stats(rows)
    fields = stats_fields(total, None)
    for name, value in fields.items():
        if name.endswith(("_pct_of_answered", "_pct_of_offered")):
            assert value is None or 0 <= value <= 100
    assert (
        fields["answered_within_10s"]
        <= fields["answered_within_15s"]
        <= fields["answered_within_20s"]
    )
    assert fields["answered_within_20s"] <= total.answered <= total.offered
    hours = bucketed(rows, DAY, "hour")
    assert sum(h.stats.offered for h in hours) == total.offered == len(rows)
    assert sum(h.stats.answered for h in hours) == total.answered
    p90 = total.percentile(90)
    assert total.nena_90_within_15 == (None if p90 is None else p90 <= 15)
    report = centre_report(rows, DAY)
    assert report.unanswered_in_queue + report.answered_valid + report.answered_invalid == len(rows)
