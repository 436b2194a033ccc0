"""Speedup vs workers, one panel per kernel and one line per impl (and mode): `gilkit bench --plot`."""

from typing import Any

from . import report as reports


def plot_speedups(report: reports.Report, path: str) -> None:
    """Draw the report's speedups with the ideal line, titled with the Python build and GIL state."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    kernels = reports.kernels(report)
    fig, axes = plt.subplots(1, len(kernels), figsize=(3.6 * len(kernels), 3.4), squeeze=False, sharey=True)
    max_workers = max(r["workers"] for r in results)
    for ax, kernel in zip(axes[0], kernels, strict=True):
        ax.plot([1, max_workers], [1, max_workers], color="0.7", linestyle="--", label="ideal")
        lines = dict.fromkeys((r["impl"], r["mode"]) for r in results if r["kernel"] == kernel)
        for impl, mode in lines:
            points = sorted(
                (r["workers"], r["speedup"])
                for r in results
                if (r["kernel"], r["impl"], r["mode"]) == (kernel, impl, mode) and r["speedup"] is not None
            )
            if points:
                label = impl if mode == "threads" else f"{impl} ({mode})"
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        ax.set_title(kernel)
        ax.set_xlabel("workers")
        ax.set_xticks(range(1, max_workers + 1))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("speedup vs 1 worker")
    legend: dict[str, Any] = {}  # one entry per line label, across the panels
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend.keys()), loc="center right", fontsize="small")
    meta = report["meta"]
    fig.suptitle(f"gilkit bench: {meta['build']}, {meta['cpus_usable']} usable CPUs")
    fig.tight_layout(rect=(0, 0, 0.85, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    # python -m gilkit.plot RESULTS.json OUT.png: draw a saved run (e.g. one from an interpreter without matplotlib).
    import sys

    plot_speedups(reports.load(sys.argv[1]), sys.argv[2])
