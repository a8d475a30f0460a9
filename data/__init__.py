"""Protein data sets for the exercises: small embedded sets and loaders for real ones."""

from data.amino_acids import AMINO_ACIDS
from data.loaders import (
    SecondaryStructureRecord,
    SolubilityRecord,
    data_dir_from_env,
    load_secondary_structure,
    load_solubility,
)

__all__ = [
    "AMINO_ACIDS",
    "SecondaryStructureRecord",
    "SolubilityRecord",
    "data_dir_from_env",
    "load_secondary_structure",
    "load_solubility",
]
