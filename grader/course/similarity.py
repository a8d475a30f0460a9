"""Which submitted modules of an exercise are suspiciously alike (it never changes a grade).

Each module is fingerprinted with copydetect (k-gram winnowing on tokens whose names are
abstracted, as MOSS does), with the exercise's stub as boilerplate so that the handout's
own lines never count. As MOSS does, a passage that many modules hold (more than
COMMON_MODULES, MOSS's default, and more than COMMON_SHARE of them) is an idiom of the
exercise, not evidence of copying: it is left out too.
Pairs whose shared code covers at least `threshold` of either module are reported, with
the shared regions marked.
"""

from __future__ import annotations

import io
import itertools
import os
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from copydetect import CodeFingerprint, compare_files
from copydetect.utils import get_document_fingerprints, get_token_coverage, highlight_overlap

NOISE = 25  # tokens: shorter matches are noise (copydetect's default noise threshold)
GUARANTEE = 30  # tokens: a match this long is always found (copydetect's default)
WINDOW = GUARANTEE - NOISE + 1
THRESHOLD = 0.5  # share of a module's fingerprinted code found in the other
COMMON_MODULES = 10  # a passage in more modules than this and than COMMON_SHARE of them
COMMON_SHARE = 0.2  # is an idiom
MARK_START, MARK_END = '<mark>', '</mark>'
PARALLEL_FROM = 40  # modules: from this many, fingerprinting (tokenizing) uses every core
CONTEXT_LINES = 4  # shown around each shared region ("..." for the rest)
LARGEST = 2**20  # bytes: a larger module is not compared (tokenizing it would take minutes)


@dataclass
class SimilarPair:
    """Two modules of one exercise whose shared code passes the threshold."""

    exercise: str
    first: str  # a student id, or REFERENCE
    second: str
    similarity: tuple[float, float]  # share of each module's code found in the other
    shared_tokens: int
    marked: tuple[str, str]  # each module as HTML, shared regions in <mark>

    @property
    def score(self) -> float:
        return max(self.similarity)


REFERENCE = "(reference solution)"


def similar_pairs(exercise: str, modules: dict[str, Path], stub: Path | None,
                  threshold: float = THRESHOLD) -> list[SimilarPair]:
    """Pairs of `modules` ({id: path}) above `threshold`, most similar first."""
    boilerplate = list(_fingerprint(stub).hashes) if stub and stub.is_file() else []
    prints = fingerprints({name: path for name, path in sorted(modules.items())
                           if path.stat().st_size <= LARGEST}, boilerplate)
    holders: defaultdict[int, list[str]] = defaultdict(list)
    for name, fingerprint in prints.items():
        for value in fingerprint.hashes:
            holders[value].append(name)
    common_limit = max(COMMON_MODULES, int(COMMON_SHARE * len(prints)))
    common = {value for value, names in holders.items() if len(names) > common_limit}
    if common:
        for fingerprint in prints.values():
            _drop(fingerprint, [*boilerplate, *common])
    candidates = Counter(pair for value, names in holders.items() if value not in common
                         for pair in itertools.combinations(names, 2))
    pairs = []
    for first, second in sorted(candidates):
        tokens, similarity, slices = compare_files(prints[first], prints[second])
        if max(similarity) < threshold:
            continue
        marked = tuple(highlight_overlap(prints[name].raw_code, part, MARK_START, MARK_END,
                                         truncate=CONTEXT_LINES, escape_html=True)[0]
                       for name, part in ((first, slices[0]), (second, slices[1])))
        pairs.append(SimilarPair(exercise, first, second,
                                 (round(float(similarity[0]), 3), round(float(similarity[1]), 3)),
                                 int(tokens), marked))
    return sorted(pairs, key=lambda p: (-p.score, p.first, p.second))


def fingerprints(modules: dict[str, Path], boilerplate: list[int]) -> dict[str, CodeFingerprint]:
    """{id: fingerprint}; tokenizing is most of a class report's time, so a large class is
    fingerprinted in a process per core."""
    paths = list(modules.values())
    if len(paths) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return {name: _fingerprint(path, boilerplate) for name, path in modules.items()}
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        done = pool.map(_fingerprint, paths, itertools.repeat(boilerplate), chunksize=8)
        return dict(zip(modules, done, strict=True))


def _fingerprint(path: Path, boilerplate: list[int] | None = None) -> CodeFingerprint:
    # A submission's bytes need not be UTF-8: undecodable ones become U+FFFD.
    text = path.read_bytes().decode("utf-8", errors="replace")
    return CodeFingerprint(str(path), NOISE, WINDOW, boilerplate=boilerplate,
                           fp=io.StringIO(text))


def _drop(fingerprint: CodeFingerprint, boilerplate: list[int]) -> None:
    """Fingerprint the filtered code again without `boilerplate` (no second tokenizing)."""
    fingerprint.hashes, fingerprint.hash_idx = get_document_fingerprints(
        fingerprint.filtered_code, NOISE, WINDOW, boilerplate)
    fingerprint.token_coverage = get_token_coverage(fingerprint.hash_idx, NOISE,
                                                    len(fingerprint.filtered_code))
