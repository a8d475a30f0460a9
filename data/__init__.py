"""Data sets for the exercises: small embedded sets and loaders for real ones."""

from data.amino_acids import AMINO_ACIDS
from data.loaders import (
    GeneExpressionRecord,
    SecondaryStructureRecord,
    SolubilityRecord,
    VariantRecord,
    data_dir_from_env,
    load_gene_expression,
    load_secondary_structure,
    load_solubility,
    load_variants,
)

__all__ = [
    "AMINO_ACIDS",
    "GeneExpressionRecord",
    "SecondaryStructureRecord",
    "SolubilityRecord",
    "VariantRecord",
    "data_dir_from_env",
    "load_gene_expression",
    "load_secondary_structure",
    "load_solubility",
    "load_variants",
]
