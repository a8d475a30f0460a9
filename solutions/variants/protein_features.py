"""Known mistakes and correct alternatives for the `protein_features` exercise."""

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

MUTANTS = [
    # --- encode_sequences
    Variant(
        name="mask_inverted",
        description="marks padding with 1.0 and residues with 0.0",
        replace=(
            ("    mask = torch.zeros(len(sequences), longest, dtype=torch.float32)  # (B, L)",
             "    mask = torch.ones(len(sequences), longest, dtype=torch.float32)  # (B, L)"),
            ("        mask[b, : len(sequence)] = 1.0", "        mask[b, : len(sequence)] = 0.0"),
        ),
        expect="the mask is inverted",
        keeps=("test_encode_indices", "test_encode_unknown_letters"),
    ),
    Variant(
        name="mask_bool",
        description="returns the mask as bool instead of the promised float32",
        replace=(
            ("    mask = torch.zeros(len(sequences), longest, dtype=torch.float32)  # (B, L)",
             "    mask = torch.zeros(len(sequences), longest, dtype=torch.bool)  # (B, L)"),
            ("        mask[b, : len(sequence)] = 1.0", "        mask[b, : len(sequence)] = True"),
        ),
        expect="build it with dtype=torch.float32",
        keeps=("test_encode_mask", "test_encode_unknown_letters"),
    ),
    Variant(
        name="pads_with_unknown_index",
        description="fills the padding with the unknown letters' index 21",
        replace=(("torch.full((len(sequences), longest), PADDING_INDEX, dtype=torch.int64)",
                  "torch.full((len(sequences), longest), UNKNOWN_INDEX, dtype=torch.int64)"),),
        expect="padding positions must hold 0",
    ),
    Variant(
        name="fixed_length_padding",
        description="pads every batch to a fixed max_len of 64, as the notes' Dataset does",
        replace=(("    longest = max(map(len, sequences))\n",
                  "    longest = 64  # max_len\n"),),
        expect="not to a fixed length",
        keeps=("test_encode_types", "test_encode_mask", "test_encode_unknown_letters"),
    ),
    Variant(
        name="alphabet_from_zero",
        description="maps A -> 0, ..., Y -> 19: A collides with padding",
        replace=(("    index_of = {letter: position + 1 for position, letter in enumerate(AMINO_ACIDS)}",
                  "    index_of = {letter: position for position, letter in enumerate(AMINO_ACIDS)}"),),
        expect="off by one",
        keeps=("test_encode_mask", "test_encode_unknown_letters"),
    ),
    Variant(
        name="unknown_as_padding",
        description="encodes unknown letters as 0, the padding index (the notes' Dataset does)",
        replace=(("index_of.get(letter, UNKNOWN_INDEX)", "index_of.get(letter, PADDING_INDEX)"),),
        expect="not 0, which is padding",
        keeps=("test_encode_indices", "test_encode_mask"),
    ),
    Variant(
        name="unknown_dropped",
        description="drops the letters outside the 20 before encoding: later residues shift",
        replace=(("    longest = max(map(len, sequences))\n",
                  "    sequences = [''.join(a for a in s if a in index_of) for s in sequences]\n"
                  "    longest = max(map(len, sequences))\n"),),
        expect="dropping it shifts every later residue",
    ),
    Variant(
        name="upper_cases_letters",
        description="upper-cases each sequence first: a lower-case letter is taken for the "
                    "residue, not encoded as unknown",
        replace=(("index_of.get(letter, UNKNOWN_INDEX)",
                  "index_of.get(letter.upper(), UNKNOWN_INDEX)"),),
        expect="do not upper-case it",
        keeps=("test_encode_indices", "test_encode_mask"),
    ),
    # --- global_features
    Variant(
        name="features_float32",
        description="builds the feature table in float32",
        replace=(("    return torch.tensor(rows, dtype=torch.float64, device=device)  # (B, 5)",
                  "    return torch.tensor(rows, dtype=torch.float32, device=device)  # (B, 5)"),),
        expect="build the table with dtype=torch.float64",
        keeps=("test_molecular_weight", "test_isoelectric_point", "test_gravy",
               "test_instability_index", "test_length_column"),
    ),
    Variant(
        name="weight_without_water",
        description="sums the free amino acids' weights, forgetting the water of each bond",
        replace=((" - (len(sequence) - 1) * WATER_MASS\n", "\n"),),
        expect="subtract one water",
    ),
    Variant(
        name="generic_terminal_pks",
        description="uses the generic N- and C-terminus pKs whatever the end residues",
        replace=(
            ('    positive = dict(positive_pKs, Nterm=pKnterminal.get(sequence[0], positive_pKs["Nterm"]))',
             "    positive = dict(positive_pKs)"),
            ('    negative = dict(negative_pKs, Cterm=pKcterminal.get(sequence[-1], negative_pKs["Cterm"]))',
             "    negative = dict(negative_pKs)"),
        ),
        expect="pKnterminal",
    ),
    Variant(
        name="gravy_sign_flipped",
        description="negates the hydropathy (hydrophilic positive)",
        replace=(("    return sum(kd[letter] for letter in sequence) / len(sequence)",
                  "    return -sum(kd[letter] for letter in sequence) / len(sequence)"),),
        expect="the sign is flipped",
    ),
    Variant(
        name="gravy_sum",
        description="returns the total hydropathy instead of its mean",
        replace=(("    return sum(kd[letter] for letter in sequence) / len(sequence)",
                  "    return sum(kd[letter] for letter in sequence)"),),
        expect="divide the sum by the length",
    ),
    Variant(
        name="instability_pairs_reversed",
        description="looks dipeptides up as DIWV[second][first]",
        replace=(("DIWV[first][second]", "DIWV[second][first]"),),
        expect="not symmetric",
    ),
    Variant(
        name="instability_over_pairs",
        description="divides by the number of pairs L - 1 instead of the length L",
        replace=(("    return 10.0 / len(sequence) * score",
                  "    return 10.0 / max(len(sequence) - 1, 1) * score"),),
        expect="not by the L - 1 pairs",
    ),
    Variant(
        name="length_of_padded_batch",
        description="gives every protein the padded width of the batch as its length",
        replace=(("_instability_index(sequence), float(len(sequence))])",
                  "_instability_index(sequence), float(max(map(len, sequences)))])"),),
        expect="count each sequence's own residues",
    ),
    Variant(
        name="columns_swapped",
        description="puts GRAVY before the isoelectric point",
        replace=(("        rows.append([_molecular_weight(sequence), _isoelectric_point(sequence),\n"
                  "                     _gravy(sequence),",
                  "        rows.append([_molecular_weight(sequence), _gravy(sequence),\n"
                  "                     _isoelectric_point(sequence),"),),
        expect="the columns are, in order",
    ),
    Variant(
        name="no_validation",
        description="computes without checking the letters: KeyError, ZeroDivisionError",
        replace=(("        _check_sequence(sequence)\n", ""),),
        expect="check every sequence before computing",
    ),
    # --- fit_standardization and standardize
    Variant(
        name="statistics_from_all_rows",
        description="fits the mean and std on every row: validation and test leak in",
        replace=(("    train = features[train_rows]  # (N, F)", "    train = features  # (B, F)"),),
        expect="leak into training",
        keeps=("test_fit_population_std", "test_fit_constant_columns"),
    ),
    Variant(
        name="unbiased_std",
        description="uses torch.std's default correction (N - 1)",
        replace=(("    std = train.std(dim=0, correction=0)  # (F,)", "    std = train.std(dim=0)  # (F,)"),),
        expect="correction=0",
        # On one training row its std is NaN, not 0, so the constant-column check's batch of
        # one is lost too (the hint there names the correction).
        keeps=("test_fit_uses_training_rows_only",),
    ),
    Variant(
        name="constant_column_zero_std",
        description="returns std 0 for a constant column (standardizing divides by zero)",
        replace=(("    return mean, torch.where(std == 0, torch.ones_like(std), std)",
                  "    return mean, std"),),
        expect="a constant column has std 0",
    ),
    Variant(
        name="constant_column_epsilon",
        description="clamps the std to 1e-8 instead of replacing 0 by 1",
        replace=(("    return mean, torch.where(std == 0, torch.ones_like(std), std)",
                  "    return mean, std.clamp(min=1e-8)"),),
        expect="not a small epsilon",
    ),
    Variant(
        name="standardize_refits",
        description="standardizes with the statistics of the rows it is given",
        replace=(("    return (features - mean) / std\n",
                  "    return (features - features.mean(0)) / features.std(0, correction=0)\n"),),
        expect="not statistics of",
    ),
    Variant(
        name="standardize_in_place",
        description="subtracts and divides in place, overwriting the caller's features",
        replace=(("    return (features - mean) / std\n",
                  "    features -= mean\n    features /= std\n    return features\n"),),
        expect="overwrites the caller's table",
    ),
    Variant(
        name="standardize_precedence",
        description="writes features - mean / std",
        replace=(("    return (features - mean) / std\n", "    return features - mean / std\n"),),
        expect="mind the precedence",
    ),
]

ALTERNATIVES = [
    Variant(
        name="biopython_features",
        description="global features from Bio.SeqUtils.ProtParam.ProteinAnalysis",
        definitions='''
        from Bio.SeqUtils.ProtParam import ProteinAnalysis


        def global_features(sequences, device="cpu"):
            rows = []
            for sequence in sequences:
                if not sequence or not set(sequence) <= set(AMINO_ACIDS):
                    raise ValueError(f"not a protein of the 20 amino acids: {sequence!r}")
                analysis = ProteinAnalysis(sequence)
                rows.append([analysis.molecular_weight(), analysis.isoelectric_point(),
                             analysis.gravy(), analysis.instability_index(),
                             analysis.length])
            return torch.tensor(rows, dtype=torch.float64, device=device)
        ''',
    ),
    Variant(
        name="formulas_written_differently",
        description="residue masses plus one water, an exact pI (60 halvings), 10 * sum / L",
        definitions='''
        import math


        def _molecular_weight(sequence):
            residues = math.fsum(protein_weights[letter] - WATER_MASS for letter in sequence)
            return residues + WATER_MASS


        def _isoelectric_point(sequence):
            low, high = 4.05, 12.0
            for _ in range(60):
                middle = 0.5 * (low + high)
                low, high = (middle, high) if _net_charge(sequence, middle) > 0 else (low, middle)
            return 0.5 * (low + high)


        def _gravy(sequence):
            return math.fsum(kd[letter] for letter in sequence) * (1.0 / len(sequence))


        def _instability_index(sequence):
            pairs = [sequence[i : i + 2] for i in range(len(sequence) - 1)]
            return 10 * sum(DIWV[pair[0]][pair[1]] for pair in pairs) / len(sequence)
        ''',
    ),
    Variant(
        name="vectorized_encoding",
        description="a lookup table, pad_sequence, and a mask from lengths, built on the device",
        definitions='''
        from torch.nn.utils.rnn import pad_sequence


        def encode_sequences(sequences, device="cpu"):
            lookup = torch.full((128,), UNKNOWN_INDEX, dtype=torch.int64, device=device)
            lookup[torch.tensor([ord(a) for a in AMINO_ACIDS], device=device)] = torch.arange(
                1, 21, device=device)
            codes = [torch.tensor([min(ord(a), 127) for a in s], dtype=torch.int64,
                                  device=device) for s in sequences]
            indices = pad_sequence([lookup[c] for c in codes], batch_first=True,
                                   padding_value=PADDING_INDEX)
            lengths = torch.tensor([len(s) for s in sequences], device=device)
            mask = (torch.arange(indices.shape[1], device=device) < lengths[:, None]).float()
            return indices, mask
        ''',
    ),
    Variant(
        name="var_mean_standardization",
        description="torch.var_mean with correction=0, masked_fill for constant columns",
        definitions='''
        def fit_standardization(features, train_rows):
            variance, mean = torch.var_mean(features.index_select(0, train_rows), dim=0,
                                            correction=0)
            std = variance.sqrt()
            return mean, std.masked_fill(std == 0, 1.0)


        def standardize(features, mean, std):
            return torch.sub(features, mean.unsqueeze(0)).div(std.unsqueeze(0))
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "encode_sequences": Batched("sequences"),
    "global_features": Batched("sequences"),
    "fit_standardization": Batched("train_rows"),
    "standardize": Batched("features"),
}
