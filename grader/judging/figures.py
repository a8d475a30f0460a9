"""Judges of a figure a submission drew, from `tests.probes.plotted`'s description of it
(the figure itself never leaves the worker): it is a Figure, its axes are labelled, it has a
legend, it was saved where asked, and the points its lines show."""

from __future__ import annotations

import math
from typing import Any

from grader.judging.judge import fail


def expect_figure(figure: dict, what: str, *, case: Any) -> dict:
    """A `tests.probes.plotted` description of what `what` returned: fail unless it is a
    matplotlib Figure."""
    if not figure["is_figure"]:
        fail(f"{what} should return a matplotlib.figure.Figure, got a {figure['type']}",
             case=case, hint="plt.subplots() returns (figure, axes): return the figure")
    return figure


def drawn_points(line: dict) -> list[list[float]]:
    """The [x, y] points a described line shows: matplotlib draws none where x or y is inf
    or nan, so a line of the raw losses, of their finite points only, or with inf as nan,
    look alike."""
    return [[x, y] for x, y in zip(line["x"], line["y"], strict=False)
            if math.isfinite(x) and math.isfinite(y)]


def expect_labels_legend_and_png(figure: dict, what: str, filename: str, *, case: Any,
                                 labels: tuple[str, str], label_hint: str, legend_hint: str,
                                 file_hint: str) -> None:
    """A figure described by `tests.probes.plotted` labels both axes of every axes that
    holds lines (`labels`: what x and y should say), has a legend (on an axes or the
    figure), and `what` wrote exactly one PNG, `filename`, in its folder."""
    for axes in figure["axes"]:
        if axes["lines"] and not (axes["xlabel"].strip() and axes["ylabel"].strip()):
            fail(f"an axes with {labels[1]} curves lacks an axis label", case=case,
                 expected=f"x label ({labels[0]}) and y label ({labels[1]})",
                 got={"xlabel": axes["xlabel"], "ylabel": axes["ylabel"]}, hint=label_hint)
    legends = [axes["legend"] for axes in figure["axes"] if axes["legend"]] + [
        legend for legend in figure["figure_legends"] if legend]
    if not legends:
        fail("the figure has no legend", case=case, hint=legend_hint)
    if figure["files"] != {filename: True}:
        problem = ("no file was written" if not figure["files"] else
                   f"the folder holds {sorted(figure['files'])}, PNG: {figure['files']}")
        fail(f"{what} should write a PNG at path: {problem}", case=f"path=<folder>/{filename}",
             hint=file_hint)
