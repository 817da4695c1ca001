"""SIPp 3.8's -trace_stat and -trace_rtt files (real samples under fixtures/sipp) are read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_bridge.bench.sipp_stats import SippTotals, output_files, read_rtt, read_stat

FIXTURES = Path(__file__).parent / "fixtures" / "sipp"


def test_all_calls_answered() -> None:
    # sipp -sn uac -m 20 -r 10 against sipp -sn uas: 20 calls, all fine.
    totals = read_stat(FIXTURES / "uac_ok_stat.csv")
    assert totals == SippTotals(
        created=20,
        successful=20,
        failed=0,
        retransmissions=0,
        timeouts=0,
        unexpected=0,
        max_udp_retrans=0,
        elapsed_seconds=pytest.approx(1795623418.850896 - 1795623416.842627),  # type: ignore[arg-type]
        current_calls=0,
    )


def test_half_the_calls_timed_out() -> None:
    # The uas stopped answering after 5 calls; the uac gave up on 5 with -recv_timeout 2500.
    totals = read_stat(FIXTURES / "uac_failures_stat.csv")
    assert (totals.created, totals.successful, totals.failed) == (10, 5, 5)
    assert totals.timeouts == 5
    assert totals.retransmissions == 10
    assert totals.unexpected == 0
    assert totals.max_udp_retrans == 0
    assert 4.0 < totals.elapsed_seconds < 5.0


def test_column_order_does_not_matter(tmp_path: Path) -> None:
    lines = (FIXTURES / "uac_failures_stat.csv").read_text().splitlines()
    reordered = tmp_path / "reordered.csv"
    reordered.write_text(
        "\n".join(";".join(reversed(line.rstrip(";").split(";"))) + ";" for line in lines) + "\n"
    )
    assert read_stat(reordered) == read_stat(FIXTURES / "uac_failures_stat.csv")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("TotalCallCreated;SuccessfulCall(C);\n", "no rows"),
        ("a;b;c\n1;2;3\n", "no column"),
    ],
)
def test_bad_stat_files_name_the_file(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad_123_.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=words) as raised:
        read_stat(path)
    assert str(path) in str(raised.value)


def test_truncated_last_row(tmp_path: Path) -> None:
    text = (FIXTURES / "uac_ok_stat.csv").read_text()
    path = tmp_path / "cut.csv"
    path.write_text(text[: len(text) - 200])
    with pytest.raises(ValueError, match=r"cut\.csv"):
        read_stat(path)


def test_response_times() -> None:
    times = read_rtt(FIXTURES / "uac_ok_rtt.csv")
    assert len(times) == 20
    assert times[0] == 2.691
    assert times[-1] == 1.425
    assert read_rtt(FIXTURES / "uac_ok_rtt.csv", rtd_no=2) == []
    # Only the 5 answered calls reached the rtd message.
    assert len(read_rtt(FIXTURES / "uac_failures_rtt.csv")) == 5


def test_rtt_header_only_and_malformed(tmp_path: Path) -> None:
    path = tmp_path / "x_1_rtt.csv"
    path.write_text("Date_ms;response_time_ms;rtd_no\n")
    assert read_rtt(path) == []
    path.write_text("Date_ms;response_time_ms;rtd_no\n105.650;fast;1\n")
    with pytest.raises(ValueError, match="line 2"):
        read_rtt(path)
    path.write_text("")
    with pytest.raises(ValueError, match=r"x_1_rtt\.csv"):
        read_rtt(path)


def test_output_files(tmp_path: Path) -> None:
    (tmp_path / "caller_77_.csv").write_text("")
    (tmp_path / "caller_77_rtt.csv").write_text("")
    assert output_files(tmp_path, "caller") == (
        tmp_path / "caller_77_.csv",
        tmp_path / "caller_77_rtt.csv",
    )
    assert output_files(tmp_path, "caller", 77)[0].name == "caller_77_.csv"
    (tmp_path / "caller_78_.csv").write_text("")
    with pytest.raises(ValueError, match="expected one"):
        output_files(tmp_path, "caller")
