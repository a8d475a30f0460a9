"""The exercises' programs: `python -m programs.<exercise>` runs your `exercises/<exercise>.py`
on the embedded data (train, plot, compare), once you have written what it uses.

`--reference` runs the reference (`solutions/`) instead, in the instructor's repository.
The options every program takes are in `programs.options`.
"""
