"""`make bench`: its pure parts (SIPp output, results and targets, BENCHMARKS.md, /proc)."""
