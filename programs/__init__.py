"""The exercises' programs: `python -m programs.<exercise>` runs your `exercises/<exercise>.py`
on the embedded data (train, plot, compare), once you have written what it uses.

`--reference` runs the reference implementation instead (the course staff's repository only).
The options every program takes are in `programs.options`.
"""
