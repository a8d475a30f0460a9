"""Synthetic proteins with 3-state secondary structure and unresolved termini.

A protein is a chain of coil segments alternating with helices or strands. Each
residue is drawn from the UniProt background weighted by the Chou-Fasman
propensity of its segment's state; on top of that, helices are amphipathic
(hydrophobic residues on one face of the helical wheel, 100 degrees per residue,
so i, i+3, i+4, i+7 share a face) and strands alternate buried and exposed
residues. A residue alone therefore says little about its state; its neighbours
say much more. Disordered tails (sometimes a His-tag) are unresolved.
"""

from dataclasses import dataclass

import numpy as np

from data.amino_acids import AMINO_ACIDS, BACKGROUND, CHOU_FASMAN, IS_HYDROPHOBIC

PROPENSITY = {  # state -> per-residue propensity; coil uses the turn propensity
    state: np.array([CHOU_FASMAN[aa][column] for aa in AMINO_ACIDS]) / 100.0
    for column, state in enumerate("HEC")
}


def _weights(letters: str, factor: float) -> np.ndarray:
    """Per-residue multipliers: `factor` for `letters`, 1 for the rest."""
    return np.array([factor if aa in letters else 1.0 for aa in AMINO_ACIDS])


@dataclass(frozen=True)
class SecondaryStructureModel:
    """Parameters of the generator; the defaults made the committed files."""

    median_length: float = 150.0
    length_sigma: float = 0.4
    min_length: int = 50
    max_length: int = 300
    helix_length: tuple[int, int] = (6, 20)
    strand_length: tuple[int, int] = (3, 10)
    coil_length: tuple[int, int] = (2, 12)
    helix_choice_prior: tuple[float, float] = (2.0, 2.5)  # Beta: all-alpha to all-beta proteins
    face_contrast: float = 2.5  # hydrophobic enrichment on buried faces, depletion on exposed
    helix_face_width_degrees: float = 140.0
    cap_enrichment: float = 3.0  # S/T/D/N before a helix (N-cap), G after it (C')
    tail_probability: tuple[float, float] = (0.5, 0.4)  # disordered N- and C-terminal tail
    tail_mean_length: float = 8.0
    his_tag_probability: float = 0.1


class _ResidueTables:
    """Cumulative residue distributions, one row per context a residue can be in."""

    ROWS = ("helix buried", "helix exposed", "strand buried", "strand exposed",
            "coil", "N-cap", "C-cap", "tail")

    def __init__(self, model: SecondaryStructureModel):
        buried = np.where(IS_HYDROPHOBIC, model.face_contrast, 1.0 / model.face_contrast)
        coil = BACKGROUND * PROPENSITY["C"]
        rows = [
            BACKGROUND * PROPENSITY["H"] * buried,
            BACKGROUND * PROPENSITY["H"] / buried,
            BACKGROUND * PROPENSITY["E"] * buried,
            BACKGROUND * PROPENSITY["E"] / buried,
            coil,
            coil * _weights("STDN", model.cap_enrichment),
            coil * _weights("G", model.cap_enrichment),
            # Disorder-promoting residues (Dunker et al. 2001) dominate unresolved tails.
            BACKGROUND * _weights("AGRDEKPSQ", 2.0) * _weights("WCFIYVLN", 0.5),
        ]
        self.cumulative = np.cumsum([row / row.sum() for row in rows], axis=1)

    def row(self, name: str) -> int:
        return self.ROWS.index(name)

    def draw(self, rng: np.random.Generator, rows: list[int]) -> str:
        """One residue per entry of `rows`, each from that row's distribution."""
        uniform = rng.random(len(rows))
        indices = (uniform[:, None] > self.cumulative[rows]).sum(axis=1)
        return "".join(AMINO_ACIDS[min(i, 19)] for i in indices)


def _segment_states(rng: np.random.Generator, model: SecondaryStructureModel,
                    length: int) -> str:
    """Per-residue states H/E/C for a structured core of `length` residues."""
    helix_choice = rng.beta(*model.helix_choice_prior)
    pieces, total, coil_next = [], 0, True
    while total < length:
        if coil_next:
            state, (low, high) = "C", model.coil_length
        elif rng.random() < helix_choice:
            state, (low, high) = "H", model.helix_length
        else:
            state, (low, high) = "E", model.strand_length
        size = int(rng.integers(low, high + 1))
        pieces.append(state * size)
        total += size
        coil_next = not coil_next
    return "".join(pieces)[:length]


def _context_rows(rng: np.random.Generator, tables: _ResidueTables,
                  model: SecondaryStructureModel, states: str) -> list[int]:
    """For each position, the table row given its state, face and neighbours."""
    half_width = np.radians(model.helix_face_width_degrees) / 2
    rows = []
    position_in_segment, phase = 0, 0.0
    for i, state in enumerate(states):
        if i == 0 or states[i - 1] != state:
            position_in_segment = 0
            phase = rng.uniform(0, 2 * np.pi) if state == "H" else float(rng.integers(0, 2))
        if state == "H":
            angle = np.radians(100.0) * position_in_segment + phase
            face = "buried" if np.cos(angle) > np.cos(half_width) else "exposed"
            rows.append(tables.row(f"helix {face}"))
        elif state == "E":
            face = "buried" if (position_in_segment + phase) % 2 == 0 else "exposed"
            rows.append(tables.row(f"strand {face}"))
        elif i + 1 < len(states) and states[i + 1] == "H":
            rows.append(tables.row("N-cap"))
        elif i > 0 and states[i - 1] == "H":
            rows.append(tables.row("C-cap"))
        else:
            rows.append(tables.row("coil"))
        position_in_segment += 1
    return rows


def _tail_length(rng: np.random.Generator, model: SecondaryStructureModel,
                 probability: float) -> int:
    if rng.random() >= probability:
        return 0
    return int(rng.geometric(1.0 / model.tail_mean_length))


def sample_protein(rng: np.random.Generator, model: SecondaryStructureModel,
                   tables: _ResidueTables) -> tuple[str, str, str]:
    """One (sequence, ss3, resolved_mask) triple."""
    length = int(np.clip(round(rng.lognormal(np.log(model.median_length), model.length_sigma)),
                         model.min_length, model.max_length))
    n_tail = _tail_length(rng, model, model.tail_probability[0])
    c_tail = _tail_length(rng, model, model.tail_probability[1])
    his_tag = "HHHHHH" if rng.random() < model.his_tag_probability else ""
    if his_tag:
        n_tail = max(n_tail, 1) + len(his_tag)  # M, the tag, then any disordered linker
    n_tail, c_tail = min(n_tail, length // 4), min(c_tail, length // 4)
    core = length - n_tail - c_tail
    states = _segment_states(rng, model, core)
    core_residues = tables.draw(rng, _context_rows(rng, tables, model, states))
    n_residues = tables.draw(rng, [tables.row("tail")] * n_tail)
    c_residues = tables.draw(rng, [tables.row("tail")] * c_tail)
    if his_tag:
        n_residues = n_residues[:1] + his_tag + n_residues[1 + len(his_tag):]
    sequence = "M" + (n_residues + core_residues + c_residues)[1:]
    ss3 = "C" * n_tail + states + "C" * c_tail
    resolved_mask = "0" * n_tail + "1" * core + "0" * c_tail
    return sequence, ss3, resolved_mask


def generate_secondary_structure(
    rng: np.random.Generator, count: int,
    model: SecondaryStructureModel = SecondaryStructureModel(),
) -> list[tuple[str, str, str]]:
    """`count` (sequence, ss3, resolved_mask) triples."""
    tables = _ResidueTables(model)
    return [sample_protein(rng, model, tables) for _ in range(count)]
