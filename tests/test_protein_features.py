"""Grading suite of the `protein_features` exercise.

Oracles computed here judge every check: the encodings by plain loops, the global features
by Biopython's ProteinAnalysis (the handout's definition), the standardization by torch in
float64 on the probes' seeded tables. The reference is never asked.
"""

from __future__ import annotations

import pytest
import torch
from Bio.Data.IUPACData import monoisotopic_protein_weights, protein_weights
from Bio.SeqUtils.IsoelectricPoint import IsoelectricPoint, negative_pKs, positive_pKs
from Bio.SeqUtils.ProtParam import ProteinAnalysis
from Bio.SeqUtils.ProtParamData import DIWV, kd
from hypothesis import example, given, settings

from data.amino_acids import AMINO_ACIDS
from grader.isolation.wire import Returned
from grader.judging.judge import (
    agrees,
    assert_close,
    expect_raises,
    expect_tensor,
    fail,
    known_mistake,
    per_case,
    tolerance,
)
from tests import strategies
from tests.probes import protein_features as probes

EXERCISE_POINTS = 20

PADDING_INDEX, UNKNOWN_INDEX = 0, 21
WATER_MASS = 18.0153


def unpack_pair(got, what: str, names: str, case: dict) -> tuple:
    if not isinstance(got, tuple | list) or len(got) != 2:
        fail(f"{what} should return a tuple {names}", case=case, expected=names, got=got)
    return tuple(got)


# --- encode_sequences ---------------------------------------------------------------------


def oracle_encoding(sequences: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """indices (B, L) int64 and mask (B, L) float32, L the longest length."""
    longest = max(len(sequence) for sequence in sequences)
    indices = torch.zeros(len(sequences), longest, dtype=torch.int64)
    mask = torch.zeros(len(sequences), longest)
    for b, sequence in enumerate(sequences):
        for i, letter in enumerate(sequence):
            indices[b, i] = (AMINO_ACIDS.index(letter) + 1 if letter in AMINO_ACIDS
                             else UNKNOWN_INDEX)
            mask[b, i] = 1.0
    return indices, mask


def real_positions(sequences: list[str], width: int) -> torch.Tensor:
    """(B, width) bool: True where i < len(sequences[b])."""
    lengths = torch.tensor([len(sequence) for sequence in sequences])
    return torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)


def expect_2d(value, what: str, case: dict) -> torch.Tensor:
    """A tensor with a row per sequence (any dtype and device: test_encode_types judges them)."""
    value = expect_tensor(value, what, case=case)
    if value.dim() != 2 or value.shape[0] != len(case["sequences"]):
        fail(f"{what} should have shape (B, L) = ({len(case['sequences'])}, L), got "
             f"{list(value.shape)}", case=case)
    return value


TYPES_CASE = {"sequences": ["MKV", "ACDEFG", "W"]}


@pytest.mark.points(1)
def test_encode_types(check):
    """encode_sequences returns (indices int64, mask float32), (B, L), on the given device"""
    case = TYPES_CASE
    indices, mask = unpack_pair(check.student(probes.encode_sequences, case),
                                "encode_sequences", "(indices, mask)", case)
    indices = expect_tensor(indices, "encode_sequences (indices)", case=case,
                            dtype=torch.int64, device=check.device)
    if isinstance(mask, Returned) and mask.dtype == torch.bool:
        fail("encode_sequences (mask) should return dtype torch.float32, got torch.bool",
             case=case, hint="the mask is float32, 1.0 at residues and 0.0 at padding, so that "
             "it can multiply embeddings and be summed into lengths: build it with "
             "dtype=torch.float32 (or call .float())")
    mask = expect_tensor(mask, "encode_sequences (mask)", case=case, dtype=torch.float32,
                         device=check.device)
    if indices.dim() != 2 or indices.shape[0] != 3 or mask.shape != indices.shape:
        fail("encode_sequences should return indices and mask of one shape (B, L), B = 3",
             case=case, expected="two tensors of shape [3, L]",
             got=f"{list(indices.shape)} and {list(mask.shape)}")


def indices_hint(case: dict, got: torch.Tensor, expected: torch.Tensor) -> str:
    real = expected != PADDING_INDEX  # standard letters only here
    if torch.equal(got[real], expected[real] - 1):
        return ("off by one: A -> 1, C -> 2, ..., Y -> 20 (position in AMINO_ACIDS plus "
                "one); index 0 is padding, and A -> 0 would collide with it")
    if torch.equal(got[real], expected[real]):
        values = sorted(set(got[~real].tolist()) - {PADDING_INDEX})
        return (f"padding positions must hold 0 (PADDING_INDEX), not {values}: an index of "
                "1..21 is a residue")
    blosum_order = "ARNDCQEGHILKMFPSTWYV"  # the order of substitution matrices
    other, _ = oracle_encoding([s.translate(str.maketrans(blosum_order, AMINO_ACIDS))
                                for s in case["sequences"]])
    if torch.equal(got, other):
        return "use the alphabet AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY' (one-letter codes in order)"
    flipped = torch.stack([row.roll(int(n), 0) for row, n in
                           zip(expected, (~real).sum(1), strict=True)])
    if torch.equal(got, flipped):
        return "pad after each sequence (at the end), not before it"
    return ("indices[b, i] = AMINO_ACIDS.index(sequences[b][i]) + 1 for i < len(sequences[b]), "
            "and 0 after")


@pytest.mark.points(2)
@given(case=strategies.standard_sequence_batches())
@example(case={"sequences": ["ACDEFGHIKLMNPQRSTVWY", "MKV"]})
@example(case={"sequences": ["", "GG", "Y"]})
@settings(max_examples=25)
def test_encode_indices(check, case):
    """encode_sequences maps A..Y to 1..20, padded with 0 to the batch's longest sequence"""
    indices, _ = unpack_pair(check.student(probes.encode_sequences, case), "encode_sequences",
                             "(indices, mask)", case)
    indices = expect_2d(indices, "encode_sequences (indices)", case).long()
    expected, _ = oracle_encoding(case["sequences"])
    longest = expected.shape[1]
    if indices.shape[1] != longest:
        fail(f"encode_sequences (indices) has {indices.shape[1]} columns, expected {longest}, "
             "the length of the batch's longest sequence", case=case,
             hint="pad to the longest sequence of this batch, not to a fixed length"
             if indices.shape[1] > longest else "every residue needs its own column")
    assert_close(indices, expected, "encode_sequences (indices)", case=case,
                 hint=lambda got, want: indices_hint(case, got, want))


def mask_hint(got: torch.Tensor, expected: torch.Tensor) -> str:
    if torch.equal(got, 1 - expected):
        return "the mask is inverted: 1.0 marks the real residues, 0.0 the padding"
    if bool((got == 1).all()):
        return "padding positions need mask 0.0"
    return "mask[b, i] = 1.0 exactly when i < len(sequences[b]), else 0.0"


@pytest.mark.points(2)
@given(case=strategies.standard_sequence_batches())
@example(case={"sequences": ["MKVLA", "", "GY"]})
@settings(max_examples=20)
def test_encode_mask(check, case):
    """encode_sequences masks 1.0 at every residue, 0.0 at every padding position"""
    _, mask = unpack_pair(check.student(probes.encode_sequences, case), "encode_sequences",
                          "(indices, mask)", case)
    mask = expect_2d(mask, "encode_sequences (mask)", case)
    longest = max(len(sequence) for sequence in case["sequences"])
    if mask.shape[1] < longest:
        fail(f"encode_sequences (mask) should have shape (B, L) = ({len(case['sequences'])}, "
             f"{longest}), got {list(mask.shape)}", case=case)
    # The width is judged with the indices: here the mask must match whatever width it has.
    expected = real_positions(case["sequences"], mask.shape[1]).double()
    assert_close(mask.double(), expected, "encode_sequences (mask)", case=case, hint=mask_hint)


def students_alphabet(got: dict, case: dict) -> tuple[dict[str, int], float]:
    """The submission's own index of each of the 20 letters and mask value of a residue, read
    from its encoding of AMINO_ACIDS: the unknown-letter check judges only unknown letters."""
    indices, mask = unpack_pair(got["alphabet"], "encode_sequences", "(indices, mask)", case)
    indices = expect_tensor(indices, "encode_sequences (indices)", case={"sequences":
                                                                          [AMINO_ACIDS]})
    mask = expect_tensor(mask, "encode_sequences (mask)", case={"sequences": [AMINO_ACIDS]})
    if indices.dim() != 2 or indices.shape[1] < 20 or mask.dim() != 2 or mask.shape[1] < 1:
        fail("encode_sequences([AMINO_ACIDS]) should return (indices, mask) of shape (1, 20)",
             case={"sequences": [AMINO_ACIDS]}, got=f"{list(indices.shape)} and "
             f"{list(mask.shape)}", expected="[1, 20] and [1, 20]")
    return ({letter: int(indices[0, k]) for k, letter in enumerate(AMINO_ACIDS)},
            float(mask[0, 0]))


def encoding_with(letter_index: dict[str, int], sequences: list[str], width: int,
                  drop_unknowns: bool = False) -> torch.Tensor:
    """(B, width) int64: the letters' indices (unknown: 21, or dropped) from position 0."""
    indices = torch.zeros(len(sequences), width, dtype=torch.int64)
    for b, sequence in enumerate(sequences):
        if drop_unknowns:
            sequence = "".join(letter for letter in sequence if letter in AMINO_ACIDS)
        for i, letter in enumerate(sequence[:width]):
            indices[b, i] = letter_index.get(letter, UNKNOWN_INDEX)
    return indices


@pytest.mark.points(2)
@given(case=strategies.sequence_batches_with_unknowns())
@example(case={"sequences": ["MKXLV", "BZ"]})
@example(case={"sequences": ["XUOBZJ", "AXA"]})
@example(case={"sequences": ["MKvL", "acY"]})
@settings(max_examples=20)
def test_encode_unknown_letters(check, case):
    """encode_sequences maps X, B, Z, J, U, O, lower case to 21 in place (mask 1.0), none dropped"""
    sequences = case["sequences"]
    got = check.student(probes.encode_with_alphabet, case)
    letter_index, residue_mask = students_alphabet(got, case)
    indices, mask = unpack_pair(got["batch"], "encode_sequences", "(indices, mask)", case)
    indices = expect_2d(indices, "encode_sequences (indices)", case).long()
    mask = expect_2d(mask, "encode_sequences (mask)", case)
    longest = max(len(sequence) for sequence in sequences)
    dropping = ("keep every position: an unknown letter is encoded as 21 in its place; "
                "dropping it shifts every later residue")
    if indices.shape[1] < longest:
        dropped = encoding_with(letter_index, sequences, indices.shape[1], drop_unknowns=True)
        fail(f"encode_sequences (indices) has {indices.shape[1]} columns, fewer than the "
             f"longest sequence ({longest} letters)", case=case,
             hint=dropping if torch.equal(indices, dropped) else None)
    # Real positions only, the 20 letters as the submission encodes them: the padding, the
    # width and the alphabet are test_encode_indices's, the mask's values test_encode_mask's.
    real = real_positions(sequences, longest)
    indices = indices[:, :longest]
    expected = encoding_with(letter_index, sequences, longest)
    if not torch.equal(indices[real], expected[real]):
        unknown = torch.tensor([[letter not in AMINO_ACIDS for letter in s.ljust(longest, "A")]
                                for s in sequences]) & real
        if torch.equal(indices[real & ~unknown], expected[real & ~unknown]) and bool(
                (indices[unknown] == PADDING_INDEX).all()):
            hint = ("an unknown letter gets its own index, UNKNOWN_INDEX = 21, not 0, which is "
                    "padding")
        elif torch.equal(indices[real], encoding_with(letter_index, sequences, longest,
                                                      drop_unknowns=True)[real]):
            hint = dropping
        else:
            hint = "any character outside AMINO_ACIDS -> 21, at its own position"
        b, i = (int(n) for n in ((indices != expected) & real).nonzero()[0])
        letter = sequences[b][i]
        if letter.islower() and int(indices[b, i]) == letter_index.get(letter.upper()):
            hint = ("a lower-case letter is not in AMINO_ACIDS: it is unknown, 21, like any "
                    "other character (do not upper-case it)")
        fail(f"encode_sequences: wrong index for letter {sequences[b][i]!r} at [{b}, {i}]",
             case=case, expected=int(expected[b, i]), got=int(indices[b, i]), hint=hint)
    if mask.shape[1] < longest or not bool((mask[:, :longest][real] == residue_mask).all()):
        fail("encode_sequences: the mask of an unknown letter differs from a residue's",
             case=case, expected=f"{residue_mask} at every residue, as for 'ACDEF...'",
             got=mask, hint="an unknown letter is a real residue: mask 1.0 (only padding has "
             "0.0)")


# --- global_features ----------------------------------------------------------------------

FEATURE_NAMES = ("molecular weight", "isoelectric point", "GRAVY", "instability index",
                 "length")
COLUMN_ORDER = ("the columns are, in order, molecular weight, isoelectric point, GRAVY, "
                "instability index, length")

# Tolerances (rtol, atol) per column against Biopython 1.88, measured over 20,000 random
# sequences of 1-1000 residues (uniform, UniProt and two-letter compositions):
# - molecular weight: Biopython's formula written out differs by 0; residue masses plus one
#   water, or math.fsum, by 4e-14 relative at most: rtol 1e-12 (25x that);
# - isoelectric point: Biopython bisects (its first probe at pH 7.775) until the interval is
#   at most 1e-4 wide and returns its midpoint, within 3.2e-5 of the root; any bisection to
#   1e-4 that returns the midpoint is within 5e-5 of it, so two differ by less than 1e-4
#   (seen: 6.2e-5 for the reference's bisection from [4.05, 12], 3.2e-5 for an exact root):
#   atol 1e-4, that bound (generic terminal pKs move a short peptide's pI by up to 0.55);
# - GRAVY: 9e-16 at most (the sum times 1/L): atol 1e-12; instability index: 6e-14 on values
#   up to a few hundred (10 * sum / L): rtol 1e-12 and atol 1e-12;
# - length: an integer, exact.
# A submission that returns float32 (its own check's mistake) is held to float32 rounding.
COLUMN_TOLERANCES = ((1e-12, 0.0), (0.0, 1e-4), (1e-12, 1e-12), (1e-12, 1e-12), (0.0, 0.0))
PI_RANGE = (4.05, 12.0)


@per_case
def biopython_features(case: dict) -> torch.Tensor:
    """(B, 5) float64: what ProteinAnalysis gives for each sequence."""
    rows = []
    for sequence in case["sequences"]:
        analysis = ProteinAnalysis(sequence)
        rows.append([analysis.molecular_weight(), analysis.isoelectric_point(),
                     analysis.gravy(), analysis.instability_index(), float(analysis.length)])
    return torch.tensor(rows, dtype=torch.float64)


def pi_without_terminal_pks(sequence: str) -> float:
    """The pI with the generic termini pKs (7.5, 3.55) whatever the end residues: Biopython's
    calculator with its residue-specific termini tables set aside."""
    calculator = IsoelectricPoint(sequence)
    calculator.pos_pKs, calculator.neg_pKs = dict(positive_pKs), dict(negative_pKs)
    return calculator.pi()


@per_case
def column_mistakes(case: dict) -> list[dict[str, torch.Tensor]]:
    """Per column, {advice: (B,) what a known mistake computes}."""
    sequences = case["sequences"]

    def column(function) -> torch.Tensor:
        return torch.tensor([float(function(s)) for s in sequences], dtype=torch.float64)

    weights = column(lambda s: sum(protein_weights[a] for a in s))
    lengths = column(len)
    pairs = column(lambda s: sum(DIWV[a][b] for a, b in zip(s[:-1], s[1:], strict=True)))
    reversed_pairs = column(lambda s: sum(DIWV[b][a] for a, b in zip(s[:-1], s[1:],
                                                                      strict=True)))
    gravy = column(lambda s: sum(kd[a] for a in s) / len(s))
    return [
        {"subtract one water (18.0153 Da) per peptide bond: the free amino acids' weights "
         "summed count n waters too many, minus the n - 1 released": weights,
         "a chain of n residues has n - 1 peptide bonds: subtract n - 1 waters, not n":
             weights - lengths * WATER_MASS,
         "use average masses (Biopython's default), not monoisotopic ones": column(
             lambda s: sum(monoisotopic_protein_weights[a] for a in s)
             - (len(s) - 1) * 18.010565)},
        {"use the pKs of the terminal residues: pKnterminal for the first residue's amino "
         "group, pKcterminal for the last residue's carboxyl group (when listed there)":
             column(pi_without_terminal_pks)},
        {"the sign is flipped: on the Kyte-Doolittle scale hydrophobic residues are positive "
         "(I +4.5, R -4.5)": -gravy,
         "GRAVY is the mean hydropathy: divide the sum by the length": gravy * lengths},
        {"DIWV is indexed [first residue][second residue] and is not symmetric":
             10 * reversed_pairs / lengths,
         "divide by the length L (the number of residues), not by the L - 1 pairs":
             10 * pairs / (lengths - 1).clamp(min=1),
         "the index is (10 / L) times the sum of the dipeptide values": pairs / lengths},
        {"the natural log of the length is the composition features' column; here the length "
         "itself": lengths.log(),
         "every row holds the batch's longest length: count each sequence's own residues":
             torch.full_like(lengths, lengths.max().item())},
    ]


def column_hint(case: dict, column: int, got: torch.Tensor, device: str) -> str | None:
    expected = biopython_features(case)
    for other in range(5):
        rtol, atol = COLUMN_TOLERANCES[other]
        if other != column and bool(torch.isclose(got, expected[:, other], rtol=max(rtol, 1e-7),
                                                  atol=max(atol, 1e-9)).all()):
            return f"column {column} holds the {FEATURE_NAMES[other]}: {COLUMN_ORDER}"
    if column == 1:  # bisections differ by up to 1e-4: compare within that
        for advice, values in column_mistakes(case)[1].items():
            if bool(torch.isclose(got, values, rtol=0, atol=2e-4).all()):
                return advice
        if bool(((got < PI_RANGE[0] - 1e-4) | (got > PI_RANGE[1] + 1e-4)).any()):
            return ("keep the pI within [4.05, 12]: Biopython's bisection starts from that "
                    "interval, so a charge that never changes sign there gives an end of it")
        if bool(torch.isclose(got, expected[:, 1], rtol=0, atol=0.01).all()):
            return ("close, but not within 1e-4: bisect until the interval is at most 1e-4 "
                    "wide, and return its midpoint")
        return None
    return known_mistake(got, column_mistakes(case)[column], device=device)


def check_column(check, case: dict, column: int) -> None:
    got = expect_tensor(check.student(probes.global_features, case), "global_features",
                        case=case, dtype="floating", shape=(len(case["sequences"]), 5))
    rtol, atol = COLUMN_TOLERANCES[column]
    if got.dtype != torch.float64:
        table_rtol, table_atol = tolerance(got.dtype, check.device)
        rtol, atol = max(rtol, table_rtol), max(atol, table_atol)
    assert_close(got[:, column].double(), biopython_features(case)[:, column],
                 f"global_features column {column} ({FEATURE_NAMES[column]})", case=case,
                 rtol=rtol, atol=atol,
                 hint=lambda values, _: column_hint(case, column, values, check.device))


FEATURE_EXAMPLES = (
    {"sequences": ["A", "KRKRKRKR", "DDDDDE", "MKVLAAGICW"]},  # a single residue, pI at 12, 4.05
    {"sequences": ["ACDEFGHIKLMNPQRSTVWY", "PETER", "YY"]},
)


def feature_checks(function):
    """The cases every column check draws: 1-4 sequences of 1-40 of the 20 letters."""
    function = settings(max_examples=12)(function)
    for case in reversed(FEATURE_EXAMPLES):
        function = example(case=case)(function)
    return given(case=strategies.standard_sequence_batches(
        max_batch=4, min_length=1, max_length=40))(function)


@pytest.mark.points(1)
def test_global_features_types(check):
    """global_features returns a (B, 5) float64 tensor on the given device"""
    case = FEATURE_EXAMPLES[1]
    got = check.student(probes.global_features, case)
    if isinstance(got, Returned) and got.dtype == torch.float32:
        fail("global_features should return dtype torch.float64, got torch.float32", case=case,
             hint="build the table with dtype=torch.float64: float32 keeps about 7 digits, "
             "the decimals of a 50,000 Da molecular weight are lost")
    expect_tensor(got, "global_features", case=case, dtype=torch.float64, shape=(3, 5),
                  device=check.device)


@pytest.mark.points(1)
@feature_checks
def test_molecular_weight(check, case):
    """global_features column 0: molecular weight (average masses), as Biopython's"""
    check_column(check, case, 0)


@pytest.mark.points(2)
@feature_checks
def test_isoelectric_point(check, case):
    """global_features column 1: isoelectric point within 1e-4 of Biopython's"""
    check_column(check, case, 1)


@pytest.mark.points(1)
@feature_checks
def test_gravy(check, case):
    """global_features column 2: GRAVY (mean Kyte-Doolittle hydropathy), as Biopython's"""
    check_column(check, case, 2)


@pytest.mark.points(1)
@feature_checks
def test_instability_index(check, case):
    """global_features column 3: instability index (Guruprasad), as Biopython's"""
    check_column(check, case, 3)


@pytest.mark.points(1)
@feature_checks
def test_length_column(check, case):
    """global_features column 4: each sequence's length"""
    check_column(check, case, 4)


INVALID_SEQUENCES = (
    ({"sequences": ["MKV", "ACXD"]}, "an unknown letter X"),
    ({"sequences": ["ACDU"]}, "selenocysteine U (outside the 20)"),
    ({"sequences": ["MKV", ""]}, "an empty sequence"),
    ({"sequences": ["mkv"]}, "lower-case letters"),
)


@pytest.mark.points(1)
def test_global_features_rejects_invalid(check):
    """global_features raises ValueError for X, U, lower case and empty sequences"""
    for case, problem in INVALID_SEQUENCES:
        expect_raises(check.student(probes.invalid_global_features, case), "global_features",
                      problem, case=case,
                      hint="check every sequence before computing: non-empty, only the 20 "
                      "letters of AMINO_ACIDS (Biopython upper-cases lower case, and fails on "
                      "other letters with KeyError or ZeroDivisionError, not ValueError)")


# --- fit_standardization and standardize --------------------------------------------------

LEAK_HINT = ("the statistics include rows outside train_rows: fit them on the training rows "
             "only (features[train_rows]), or the validation and test proteins leak into "
             "training")


def student_statistics(check, case: dict, **validation) -> tuple[torch.Tensor, torch.Tensor]:
    got = check.student(probes.fit_standardization, case)
    mean, std = unpack_pair(got, "fit_standardization", "(mean, std)", case)
    return tuple(expect_tensor(value, f"fit_standardization ({name})", case=case,
                               shape=(case["columns"],), **validation)
                 for name, value in (("mean", mean), ("std", std)))


def stds(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return rows.std(0, correction=0), rows.std(0, correction=1)


@pytest.mark.points(2)
@given(case=strategies.standardization_cases())
@example(case={"rows": 5, "columns": 3, "seed": 0, "train_rows": [3, 0, 1]})
@settings(max_examples=15)
def test_fit_uses_training_rows_only(check, case):
    """fit_standardization returns (F,) mean and std in the features' dtype, from train_rows only"""
    mean, std = student_statistics(check, case, dtype=torch.float64, device=check.device)
    table = probes.feature_table(case)
    train = table[case["train_rows"]]
    assert_close(mean, train.mean(0), "fit_standardization (mean)", case=case,
                 device=check.device,
                 hint=lambda got, _: LEAK_HINT if agrees(got, table.mean(0), device=check.device,
                                                         dtype=torch.float64) else None)
    # Either correction passes here: test_fit_population_std judges which one.
    if not any(agrees(std, expected, device=check.device, dtype=torch.float64)
               for expected in stds(train)):
        leaked = any(agrees(std, expected, device=check.device, dtype=torch.float64)
                     for expected in stds(table))
        fail("fit_standardization (std) is not the std of the training rows", case=case,
             expected=stds(train)[0], got=std, hint=LEAK_HINT if leaked else None)


@pytest.mark.points(1)
@given(case=strategies.standardization_cases(split=False))
@example(case={"rows": 3, "columns": 2, "seed": 1, "train_rows": [2, 0, 1]})
@settings(max_examples=10)
def test_fit_population_std(check, case):
    """fit_standardization returns the population std (divide by N, correction=0)"""
    _, std = student_statistics(check, case, dtype="floating")
    population, unbiased = stds(probes.feature_table(case)[case["train_rows"]])
    assert_close(std.double(), population, "fit_standardization (std)", case=case,
                 device=check.device,
                 hint=lambda got, _: "torch.std divides by N - 1 by default (Bessel's "
                 "correction): use correction=0 (or unbiased=False), the population std, as "
                 "scikit-learn's StandardScaler" if agrees(got, unbiased, device=check.device,
                                                           dtype=torch.float64) else None)


def constant_hint(got: torch.Tensor, _) -> str:
    if bool(got.isnan().all()):
        return ("the std of a single training row is NaN with torch.std's default correction "
                "(N - 1): use correction=0, which gives 0 there, and return 1.0 for it")
    if bool((got == 0).all()):
        return ("a constant column has std 0: return 1.0 for it, or standardizing divides by "
                "zero")
    if bool((got.isfinite() & (got > 0) & (got < 1e-3)).all()):
        return ("return exactly 1.0 for a constant column, not a small epsilon: a row that "
                "differs from the constant would be blown up")
    return "a constant column has std 0: return 1.0 for it"


@pytest.mark.points(1)
@given(case=strategies.standardization_cases(split=False, constant=True))
@example(case={"rows": 4, "columns": 3, "seed": 2, "train_rows": [0, 1, 2, 3],
               "constant": [[1, 7.25]]})
@example(case={"rows": 3, "columns": 2, "seed": 3, "train_rows": [1],  # one training row
               "constant": [[0, 2.5], [1, -1.0]]})
@settings(max_examples=10)
def test_fit_constant_columns(check, case):
    """fit_standardization gives a column constant on the training rows std 1.0"""
    mean, std = student_statistics(check, case, dtype="floating", finite=False)
    columns = [column for column, _ in case["constant"]]
    values = torch.tensor([value for _, value in case["constant"]], dtype=torch.float64)
    assert_close(std[columns].double(), torch.ones(len(columns), dtype=torch.float64),
                 f"fit_standardization (std of the constant columns {columns})", case=case,
                 device=check.device, hint=constant_hint)
    assert_close(mean[columns].double(), values,
                 f"fit_standardization (mean of the constant columns {columns})", case=case,
                 device=check.device)


@per_case
def standardize_mistakes(case: dict) -> dict[str, torch.Tensor]:
    table = probes.feature_table(case)
    mean, std = probes.given_statistics(case)
    return {
        "use the mean and std you are given (the training rows'), not statistics of "
        "`features`": (table - table.mean(0)) / table.std(0, correction=0),
        "use the mean and std you are given (the training rows'), not statistics of "
        "`features` (which are all rows)": (table - table.mean(0)) / table.std(0),
        "mind the precedence: (features - mean) / std, not features - mean / std":
            table - mean / std,
        "divide by the std, not by the variance": (table - mean) / std**2,
    }


@pytest.mark.points(1)
@given(case=strategies.standardization_cases(split=False))
@example(case={"rows": 1, "columns": 3, "seed": 4, "train_rows": [0]})  # a batch of one
@settings(max_examples=10)
def test_standardize(check, case):
    """standardize returns a new (B, F) tensor (features - mean) / std; the inputs unchanged"""
    got = check.student(probes.standardize, case)
    result = expect_tensor(got["result"], "standardize", case=case, dtype=torch.float64,
                           shape=(case["rows"], case["columns"]), device=check.device,
                           finite=False)
    if not bool(result.isfinite().all()):
        # The std given is positive: a NaN or inf came from dividing by something else.
        def flagged(values: torch.Tensor) -> torch.Tensor:
            return torch.nan_to_num(values, nan=-1.0, posinf=-2.0, neginf=-3.0)

        mistakes = {advice: flagged(value) for advice, value in standardize_mistakes(case).items()}
        fail("standardize returned a non-finite value, though the std it is given is positive",
             case=case, expected="finite values", got=result, hint=known_mistake(
                 flagged(result), mistakes, device=check.device,
                 default="look for a division by zero: (features - mean) / std, with the std "
                 "you are given"))
    mean, std = probes.given_statistics(case)
    assert_close(result, (probes.feature_table(case) - mean) / std, "standardize", case=case,
                 device=check.device,
                 hint=lambda values, _: known_mistake(values, standardize_mistakes(case),
                                                      device=check.device))
    if not got["inputs_unchanged"]:
        fail("standardize changed the tensors it was given", case=case,
             hint="return a new tensor: `features - mean` makes one, `features -= mean` "
             "overwrites the caller's table (the raw features may still be needed)")
