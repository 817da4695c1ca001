"""BENCHMARKS.md and its chart, from a BenchResult."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from pbx_bridge.bench.results import MODES, BenchResult, ModeResult, Step

MODE_NAMES = {
    "D": "D: plain dialplan (Answer, TALK_DETECT, Queue)",
    "S0": "S0: Stasis, continued at once",
    "S": "S: the full controller",
}
MODE_COLOURS = {"D": "tab:blue", "S0": "tab:orange", "S": "tab:green"}


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.1f} MiB"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


STEP_HEADER = [
    "Rate asked (calls/s)",
    "Achieved",
    "Calls",
    "Failed",
    "Retrans",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "Controller CPU ms/call",
    "Asterisk CPU ms/call",
    "Loop lag max ms",
    "Held",
]


def _step_row(step: Step) -> list[str]:
    return [
        f"{step.asked_rate:g}",
        _num(step.achieved_rate),
        f"{step.totals.created:,}",
        f"{step.totals.failed:,}",
        f"{step.totals.retransmissions:,}",
        _num(step.p50),
        _num(step.p95),
        _num(step.p99),
        _num(step.controller_cpu_ms_per_call, 2),
        _num(step.asterisk_cpu_ms_per_call, 2),
        _num(step.loop_lag_ms_max),
        "yes" if step.held else "**no**",
    ]


def _machine(result: BenchResult) -> list[str]:
    machine = result.machine
    return [
        f"- CPU: {machine.cpu_count} x {machine.cpu_model}",
        f"- Memory: {machine.memory_bytes / 2**30:.1f} GiB",
        f"- Kernel: {machine.kernel}",
        f"- Asterisk: {machine.asterisk_version}",
        *([f"- Python: {machine.python_version}"] if machine.python_version else []),
    ]


def _summary(result: BenchResult) -> list[str]:
    modes = [mode for mode in MODES if mode in result.modes]
    rate = result.half_rate_target
    rows = [
        ["SER (calls/s)", *(f"{result.ser(mode):g}" for mode in modes)],
        ["SER / SER(D)", *(_num(result.ser_ratio(mode), 2) for mode in modes)],
    ]
    p95s = [result.step_at(mode, rate) for mode in modes] if rate else []
    if p95s:
        rows.append(
            [
                f"p95 ms at half SER(D) ({rate:g} calls/s)",
                *(_num(step.p95 if step else None) for step in p95s),
            ]
        )
        added = [None if mode == "D" else result.added_p95_ms(mode) for mode in modes]
        rows.append(["p95 added over D (ms)", *(_num(value) for value in added)])
    return _table(["", *modes], rows)


def markdown(result: BenchResult, chart_path: str = "docs/bench/latency.png") -> str:
    """BENCHMARKS.md: when, how, where, each mode's steps, the summary, targets and limits."""
    started = result.started.strftime("%Y-%m-%d %H:%M %Z").strip()
    minutes = (result.finished - result.started).total_seconds() / 60
    lines = [
        "# Benchmarks",
        "",
        f"Run {started}, {minutes:.0f} min, made with:",
        "",
        "```sh",
        result.command,
        "```",
        "",
        "## Machine",
        "",
        *_machine(result),
        "",
        "## Summary",
        "",
        *_summary(result),
        "",
        f"![Answer latency against call rate]({chart_path})",
        "",
        "## Targets",
        "",
        *_table(
            ["Target", "Wanted", "Measured", "Met"],
            [
                [t.name, t.target, t.measured, "met" if t.met else "**not met**"]
                for t in result.targets()
            ],
        ),
        "",
        "## What limited it",
        "",
        *(
            f"- {MODE_NAMES.get(mode, mode)}: {result.modes[mode].limit_reason}."
            for mode in MODES
            if mode in result.modes
        ),
        *(f"- {note}" for note in result.notes),
        "",
    ]
    for mode in MODES:
        if mode in result.modes:
            lines += _mode_section(result.modes[mode])
    lines += _hold_and_soak(result)
    return "\n".join(lines).rstrip() + "\n"


def _mode_section(mode: ModeResult) -> list[str]:
    return [
        f"## {MODE_NAMES.get(mode.mode, mode.mode)}",
        "",
        *_table(STEP_HEADER, [_step_row(step) for step in mode.ordered()]),
        "",
    ]


def _hold_and_soak(result: BenchResult) -> list[str]:
    lines: list[str] = []
    if result.hold is not None:
        hold = result.hold
        lines += [
            "## Concurrent calls",
            "",
            *_table(
                [
                    "Target",
                    "Reached",
                    "Failed",
                    "Controller RSS idle → peak",
                    "per call",
                    "Asterisk RSS idle → peak",
                    "per call",
                ],
                [
                    [
                        f"{hold.target_calls:,}",
                        f"{hold.reached_calls:,}",
                        f"{hold.failed:,}",
                        f"{_mib(hold.controller_rss_idle)} → {_mib(hold.controller_rss_peak)}",
                        f"{_num(hold.controller_bytes_per_call, 0)} B",
                        f"{_mib(hold.asterisk_rss_idle)} → {_mib(hold.asterisk_rss_peak)}",
                        f"{_num(hold.asterisk_bytes_per_call, 0)} B",
                    ]
                ],
            ),
            "",
        ]
    if result.soak is not None:
        soak = result.soak
        lines += [
            "## Long run",
            "",
            (
                f"{soak.calls:,} calls; controller RSS {_mib(soak.first_rss)} → "
                f"{_mib(soak.last_rss)}; growth over the second half "
                f"{_num(soak.growth_bytes_per_call)} bytes/call (least squares)."
            ),
            "",
        ]
    return lines


def chart(result: BenchResult, path: Path) -> None:
    """PNG of p50 and p95 answer latency against the asked call rate, one colour per mode,
    the SER of each mode as a dotted vertical line."""
    figure = Figure(figsize=(9, 5.5), layout="constrained")
    axes = figure.add_subplot()
    latencies: list[float] = []
    for mode in MODES:
        if mode not in result.modes:
            continue
        colour, steps = MODE_COLOURS[mode], result.modes[mode].ordered()
        for share, style, marker in ((50, "-", "o"), (95, "--", "s")):
            points = [
                (step.asked_rate, value)
                for step in steps
                if (value := _percentile(step, share)) is not None and value > 0
            ]
            if points:
                latencies += [y for _, y in points]
                axes.plot(
                    [x for x, _ in points],
                    [y for _, y in points],
                    linestyle=style,
                    marker=marker,
                    color=colour,
                    label=f"{mode} p{share}",
                )
        ser = result.ser(mode)
        if ser > 0:
            axes.axvline(ser, linestyle=":", color=colour, label=f"SER {mode} = {ser:g}/s")
    if latencies:
        axes.set_yscale("log")
        plain = FuncFormatter(lambda value, _position: f"{value:g}")
        axes.yaxis.set_major_formatter(plain)
        # Within one decade there may be no major tick: label the 2..9 ticks too, then.
        narrow = max(latencies) / min(latencies) < 10
        axes.yaxis.set_minor_formatter(plain if narrow else NullFormatter())
    axes.set_title("Answer latency (INVITE → 200 OK) against call rate")
    axes.set_xlabel("Call rate asked (calls/s)")
    axes.set_ylabel("Answer latency (ms)")
    axes.grid(visible=True, which="both", alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=120)


def _percentile(step: Step, share: int) -> float | None:
    return step.p50 if share == 50 else step.p95
