"""What every benchmark prints beside its figures: the load average (the machine is shared, so a figure means little
without it) and this process's memory. One copy here instead of one per script."""

from __future__ import annotations

import os
import resource
import time


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``0.52 1.10 2.03``."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def load_average_line() -> str:
    """The load averages with the number of CPUs they are shared by, e.g. ``load average 0.52 1.10 2.03 (2 CPUs)``."""
    return f"load average {load_average()} ({os.cpu_count()} CPUs)"


def peak_rss_mb() -> float:
    """The most memory this process has held so far, in MB (Linux reports ``ru_maxrss`` in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """The memory this process holds now, in MB (``VmRSS``; NaN where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def log(text: str) -> None:
    """A progress line stamped with the time and the peak memory so far."""
    print(f"[{time.strftime('%H:%M:%S')} max rss {peak_rss_mb() / 1024:.1f} GB] {text}", flush=True)
