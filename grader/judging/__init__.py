"""The judging wing: turns grading suites into scores, in the judging process.

`grading` is the API (grade, record); `plugin` runs the suites in pytest; `feedback` words
what a failed call into a submission did, from the facts the isolation wing reports; `judge`
compares what came back (`figures`: what a plot shows); `reference` holds the reference's
results (live or recorded); `results` is the results model and `reports` its renderings;
`options` and `environment` describe a grade. It imports the isolation wing, never the
course wing.
"""
