"""The class report's page (HTML, plots embedded) and its Markdown summary beside it.

Rendered from a `grader.course.class_report.ClassReport`: the same tables in both, and in
the page a histogram of each exercise's scores and of the grading times, and the similar
pairs' code side by side. The page runs no script and loads nothing.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from matplotlib.figure import Figure

from grader.course.class_report import ClassReport, build, read_class
from grader.course.similarity import THRESHOLD
from grader.judging import reports
from grader.judging.results import Fault

SLOWEST = 10  # submissions listed by grading time


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def _num(value: float) -> str:
    return f"{value:g}"


def _ids(ids: list[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (+{len(ids) - limit})" if len(ids) > limit else "")


def _tables(report: ClassReport) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) of every table, shared by the Markdown and the page."""
    graded = len(report.students)
    exercise_rows = [[e.name, str(len(e.scores)), _num(round(e.mean, 2)), _num(e.median),
                      _num(e.max_score), str(e.full), str(e.partial), str(e.zero),
                      str(e.not_started), str(len(e.grader_errors))]
                     for e in report.exercises]
    check_rows = []
    for c in report.checks:
        hint, matched = (c.hints.most_common(1) or [("", 0)])[0]
        check_rows.append([c.exercise, c.title, f"{len(c.failed)}/{c.students}",
                           _pct(c.failure_rate), hint, str(matched) if hint else "", c.flag])
    incident_rows = [[c.exercise, c.title,
                      *(_ids(c.faults.get(f, [])) for f in Fault),
                      _ids(c.by_hand), _ids(c.tampering), _ids(c.grader_errors)]
                     for c in report.checks if c.incidents]
    error_rows = [[s.id, s.grader_error] for s in report.grader_errors]
    slow_rows = [[sid, f"{seconds:.1f}"] for sid, seconds in report.timed[:SLOWEST]]
    pair_rows = [[p.exercise, p.first, p.second, _pct(p.similarity[0]), _pct(p.similarity[1]),
                  str(p.shared_tokens)] for p in report.pairs]
    return [
        ("Exercises", ["exercise", "graded", "mean", "median", "max", "full marks", "partial",
                       "zero", "not started", "grader errors"], exercise_rows,
         f"{graded} students with results, {len(report.missing)} without"
         + (f" ({_ids(report.missing)})" if report.missing else "")
         + "; grader errors are left out of the scores."),
        ("Checks", ["exercise", "check", "failed", "rate", "most common known mistake",
                    "students", "flag"], check_rows,
         "Failure rate among the students who started the exercise, highest first."),
        ("Time limits, crashes, rules", ["exercise", "check", *(str(f) for f in Fault),
                                         "by hand", "tampering", "grader error"],
         incident_rows, "Students per check whose code met each fault."),
        ("Grader errors", ["student", "message"], error_rows,
         "Never a zero: rerun these students with --resume."),
        ("Slowest gradings", ["student", "seconds"], slow_rows,
         "Whole grade of one student, start-up included."),
        ("Similar submissions", ["exercise", "first", "second", "of first", "of second",
                                 "shared tokens"], pair_rows,
         f"Share of each module's own code (stub left out) found in the other, "
         f"{_pct(report.threshold)} or more. This never changes a grade."),
    ]


def markdown(report: ClassReport) -> str:
    """The summary beside the page: the same tables, no plots."""
    lines = ["# Class report", ""]
    for title, header, rows, note in _tables(report):
        lines += [f"## {title}", "", note, ""]
        if not rows:
            lines += ["None.", ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ")
                                    for cell in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:0 .8rem;max-width:64rem;
line-height:1.4}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top;
min-width:4rem}
th{background:#f3f3f3}img{max-width:100%;height:auto}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.5rem}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:.5rem}
pre{overflow:auto;max-height:30rem;font-size:.75rem;background:#fafafa;padding:.4rem;
border:1px solid #ddd}mark{background:#ffd36b}
"""
# The page runs no script and loads nothing: student ids and code are shown in it.
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def page(report: ClassReport) -> str:
    """One self-contained HTML page: the tables, the plots as PNG data, the pairs' code."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>Class report</title><style>{STYLE}</style></head><body>",
             "<h1>Class report</h1>"]
    plots = [_image(_histogram(e.scores, e.max_score, f"{e.name}: score",
                               discrete=True), f"{e.name}: scores")
             for e in report.exercises if e.scores]
    for title, header, rows, note in _tables(report):
        parts.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>")
        if title == "Exercises" and plots:
            parts.append(f'<div class="plots">{"".join(plots)}</div>')
        if title == "Slowest gradings" and report.timed:
            seconds = [s for _, s in report.timed]
            parts.append(_image(_histogram(seconds, max(seconds), "seconds per student"),
                                "grading time per student"))
        if not rows:
            parts.append("<p>None.</p>")
            continue
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                       + "</tr>" for row in rows)
        parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table></div>")
    for pair in report.pairs:
        parts.append(f"<h3>{html.escape(pair.exercise)}: {html.escape(pair.first)} and "
                     f"{html.escape(pair.second)}</h3><div class=\"pair\">"
                     + "".join(f"<pre>{code}</pre>" for code in pair.marked) + "</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _histogram(values: list[float], maximum: float, label: str, *,
               discrete: bool = False) -> Figure:
    figure = Figure(figsize=(4, 2.4), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    if discrete and maximum <= 40:
        bins = [x - 0.5 for x in range(int(maximum) + 2)]
    else:
        bins = 20
    axes.hist(values, bins=bins, color="#4477aa")
    axes.set_xlabel(label)
    axes.set_ylabel("students")
    return figure


def _image(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def write(out: Path, html_path: Path | None = None, roster_ids: list[str] | None = None, *,
          similarity: bool = True, threshold: float = THRESHOLD) -> tuple[Path, Path]:
    """Write the page (default OUT/report.html) and the Markdown beside it; return both."""
    students, missing = read_class(out, roster_ids)
    report = build(students, missing, similarity=similarity, threshold=threshold)
    html_path = html_path or out / "report.html"
    markdown_path = html_path.with_suffix(".md")
    reports.write_atomic(html_path, page(report))
    reports.write_atomic(markdown_path, markdown(report))
    return html_path, markdown_path
