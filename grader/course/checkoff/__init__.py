"""In-class checkoffs: one exercise graded in seconds, and a receipt the TA signs.

A student runs `make checkoff EX=mcc` with a TA beside them. The exercise is graded on the
CPU on its checkoff checks (all but those marked `full_grade_only`, slow ones that
`make grade` runs), the screen says PASSED or NOT YET in large letters, and the TA signs by
typing their id, the session and the session's PIN at a hidden prompt. The receipt,
`checkoffs/<exercise>.json`, binds the score to the SHA-256 of the graded file, and carries
an HMAC over every field keyed with the PIN.

The signature proves only that a TA typed the session's PIN on the machine that made the
receipt; that machine is the student's, so no field is trusted beyond it. The instructor's
`verify` regrades the file whose hash the receipt names, taken from the student's current
files or their git history.

The instructor's PIN file (TOML, never in a student's repository) has a table per session:

    [lab3]
    pin = "k7m2p9x4"                    # 8 characters or more
    start = 2027-02-09T14:00:00+01:00   # receipts of the session are signed in this window
    end = 2027-02-09T17:00:00+01:00

Three modules: `screen` (the student's side), `receipt` (its fields and signature),
`verify` (the instructor's).
"""
