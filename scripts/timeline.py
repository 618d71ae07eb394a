#!/usr/bin/env python3
"""Where the time to a version's first diagnostics goes, step by step, from the server's timeline marks.

Reads the output of the real-file bench run with the server's timeline log, e.g.

    DSR_BENCH_SERVER_LOG=dsr_lsp::timeline=trace DSR_BENCH_ONLY=server/reload.go DSR_BENCH_PATTERNS=pause \\
        DSR_BENCH_SKIP_EXACTNESS=1 scripts/bench-real.sh > out.txt
    scripts/timeline.py out.txt [--budget-ms 3] [--verbose]

(or a server log written with DISTSYS_REVIEW_LOG=dsr_lsp::timeline=trace), and prints, per file and pooled:
how each edited version got its first publication (its own analysis within the budget, the moved analysis
at once, or the moved analysis after the budget's timer), how many first publications left the server more
than the budget after the change was read, and for those the steps that took the time (median and max per
step). The steps are the marks of crates/dsr-lsp/src/timeline.rs, from `in` (the change's frame read from
the client) to `out` (the publication's frame written to the client).
"""
import re
import statistics
import sys
from collections import defaultdict

MARK = re.compile(r"dsr_lsp::timeline: (\S+) v(-?\d+) t=(\d+)\s*$")
FILE = re.compile(r"^(\S.*?)\s+(\d+) lines\s+scratch")

# The chain of steps of each path to the first publication, in order.
PATHS = {
    "own analysis": ["in", "received", "applied", "analysis-start", "tree-resolved", "analysis-end",
                     "stored", "publisher", "serialised", "out"],
    "moved at once": ["in", "received", "applied", "moved-at-once", "publisher", "serialised", "out"],
    "moved by the timer": ["in", "received", "applied", "armed", "timer-fired", "provisional-start",
                           "provisional-built", "publisher", "serialised", "out"],
}


def versions_of(events):
    """Per version, the first time of each step, and the order the steps came in."""
    steps = defaultdict(dict)
    for step, version, t in events:
        steps[version].setdefault(step, t)
    return steps


def path_of(marks):
    if "moved-at-once" in marks:
        return "moved at once"
    built = marks.get("provisional-built")
    stored = marks.get("stored")
    if built is not None and (stored is None or built < stored):
        return "moved by the timer"
    return "own analysis"


def segments(marks, path):
    """(step, milliseconds since the previous step present) along the path."""
    out = []
    previous = None
    for step in PATHS[path]:
        if step not in marks:
            continue
        if previous is not None:
            out.append((f"{previous}->{step}", (marks[step] - marks[previous]) / 1000))
        previous = step
    return out


def report(name, all_marks, budget_ms, verbose):
    by_path = defaultdict(int)
    late = defaultdict(list)
    late_paths = defaultdict(int)
    totals = []
    for version, marks in sorted(all_marks.items()):
        if "in" not in marks or "out" not in marks or version <= 1:
            continue
        path = path_of(marks)
        total = (marks["out"] - marks["in"]) / 1000
        totals.append(total)
        by_path[path] += 1
        segs = segments(marks, path)
        if verbose:
            print(f"  v{version} {path} {total:.2f} ms: " + ", ".join(f"{s} {ms:.2f}" for s, ms in segs))
        if total > budget_ms:
            late_paths[path] += 1
            for s, ms in segs:
                late[(path, s)].append(ms)
    if not totals:
        return
    totals.sort()
    print(f"{name}: {len(totals)} versions, in->out median {statistics.median(totals):.2f} ms, "
          f"max {totals[-1]:.2f} ms; paths {dict(by_path)}; "
          f"{sum(late_paths.values())} over {budget_ms} ms {dict(late_paths)}")
    for (path, s), values in sorted(late.items(), key=lambda kv: -max(kv[1])):
        if max(values) < 0.2:
            continue
        print(f"    late, {path}: {s:<38} median {statistics.median(values):6.2f}  max {max(values):6.2f} ms")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    budget_ms = 3.0
    if "--budget-ms" in sys.argv:
        budget_ms = float(sys.argv[sys.argv.index("--budget-ms") + 1])
        args = [a for a in args if a != sys.argv[sys.argv.index("--budget-ms") + 1]]
    verbose = "--verbose" in sys.argv
    files = []
    current = None
    with open(args[0] if args else "/dev/stdin", errors="replace") as f:
        for line in f:
            header = FILE.match(line)
            if header:
                current = (header.group(1), [])
                files.append(current)
                continue
            m = MARK.search(line)
            if m:
                if current is None:
                    current = ("log", [])
                    files.append(current)
                current[1].append((m.group(1), int(m.group(2)), int(m.group(3))))
    for name, events in files:
        report(name, versions_of(events), budget_ms, verbose)


if __name__ == "__main__":
    main()
