"""The isolation wing: what runs in an untrusted worker, or talks to one.

The worker (`worker`) imports one submission and runs probes on it; the sandbox (`sandbox`)
starts workers from a preloaded fork server (`forkserver`, `subreaper`), limits and kills
them; `confinement` is the walls a worker locks itself in; `wire` is what crosses the
boundary (plain data, and typed replies whose errors are facts, never sentences), in the
bytes of a `frame`; `by_hand`
and `source_rules` read a submission's source before it runs; `processes` reads /proc.
Nothing here imports the judging or course wings.
"""
