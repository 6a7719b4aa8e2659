#!/usr/bin/env python3
"""Summarises slr-bench-compression --csv output as the markdown tables of
docs/BENCHMARKS.md: per method the mean and worst relative objective and the
time; per layer kind the HASSLE-free / OATS objective ratio.

    benchmarks/compression/summarize.py results.csv
"""
import collections
import csv
import statistics
import sys


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    by_method = collections.defaultdict(list)
    objective = {}
    for r in rows:
        by_method[r["method"]].append(r)
        objective[(r["layer"], r["method"])] = float(r["relative_objective"])
    print("| method | rank | mean rel. objective | worst | total time [s] |")
    print("|---|---|---|---|---|")
    for method, group in by_method.items():
        values = [float(r["relative_objective"]) for r in group]
        ranks = sorted({r["rank"] for r in group})
        print("| %s | %s | %.5f | %.5f | %.1f |" % (
            method, "/".join(ranks), statistics.mean(values), max(values),
            sum(float(r["seconds"]) for r in group)))
    layers = sorted({r["layer"] for r in rows},
                    key=lambda n: (int(n.split(".")[1]) if n.count(".") > 1 else 0, n))
    ratios = collections.defaultdict(list)
    for layer in layers:
        hf, oats = objective.get((layer, "hassle-free")), objective.get((layer, "oats"))
        if hf is not None and oats:
            ratios[layer.split(".")[-1]].append((hf / oats, layer))
    if not ratios:
        return
    print()
    print("| layer kind | layers | HF/OATS median | HF/OATS worst (layer) | layers <= 0.5x |")
    print("|---|---|---|---|---|")
    everything = []
    for kind, values in ratios.items():
        everything.extend(values)
        worst = max(values)
        print("| %s | %d | %.3f | %.3f (%s) | %d |" % (
            kind, len(values), statistics.median(v for v, _ in values), worst[0],
            worst[1], sum(v <= 0.5 for v, _ in values)))
    worst = max(everything)
    print("| all | %d | %.3f | %.3f (%s) | %d |" % (
        len(everything), statistics.median(v for v, _ in everything), worst[0],
        worst[1], sum(v <= 0.5 for v, _ in everything)))


if __name__ == "__main__":
    main()
