"""Readings from /proc (CPU seconds, RSS, pids by name, the machine) and the controller's
/metrics."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from pbx_bridge.bench.results import Machine

PROC = Path("/proc")


class ProcessGone(Exception):
    """The process ended (its /proc entry is gone)."""


def _read(pid: int, name: str) -> str:
    path = PROC / str(pid) / name
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError) as error:
        raise ProcessGone(f"process {pid} is gone (no {path})") from error


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (utime + stime of /proc/PID/stat)."""
    stat = _read(pid, "stat")
    # "pid (comm) state ppid ...": comm may hold spaces and ")", so split after the last ")".
    after_comm = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(after_comm[11]), int(after_comm[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS of /proc/PID/status) in bytes."""
    for line in _read(pid, "status").splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"process {pid}: unexpected VmRSS unit {unit!r}")
            return int(value) * 1024
    raise ProcessGone(f"process {pid} has no VmRSS (a kernel thread or a zombie)")


def pids_named(comm: str) -> list[int]:
    """Pids whose /proc/PID/comm is `comm` (the kernel keeps its first 15 characters)."""
    wanted, pids = comm[:15], []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text(encoding="utf-8", errors="replace").strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if name == wanted:
            pids.append(int(entry.name))
    return sorted(pids)


def prometheus_values(text: str) -> dict[str, float]:
    """Every sample of a /metrics page: 'name{label="v",...}' (labels sorted) or 'name'."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def histogram_max_bound(
    before: dict[str, float], after: dict[str, float], name: str
) -> float | None:
    """Upper bound of the largest observation between two scrapes of histogram `name`: the
    smallest `le` bucket holding every new observation (inf if some exceeded the largest
    bucket); None when nothing was observed in between."""
    prefix = f'{name}_bucket{{le="'
    buckets = sorted(
        (float(key[len(prefix) : -2]), after[key] - before.get(key, 0.0))
        for key in after
        if key.startswith(prefix)
    )
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]  # le="+Inf" counts every observation
    return next(bound for bound, count in buckets if count >= total)


def this_machine(asterisk_version: str) -> Machine:
    """CPU count and model, memory and kernel of this machine, for BENCHMARKS.md."""
    model = "unknown CPU"
    cpuinfo = PROC / "cpuinfo"
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    for line in (PROC / "meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) * 1024
    return Machine(
        cpu_count=os.cpu_count() or 0,
        cpu_model=model,
        memory_bytes=memory,
        kernel=f"{platform.system()} {platform.release()}",
        asterisk_version=asterisk_version,
        python_version=platform.python_version(),
    )
