"""The embedded tabular sets as tensors, for the programs (float32 features)."""

from __future__ import annotations

import torch
from torch import Tensor

from data import load_gene_expression, load_variants


def gene_expression_tensors(split: str, device: torch.device) -> tuple[Tensor, Tensor]:
    """Binding scores x (N, F) float32 and expression (N,) float32 of one split, on `device`."""
    records = load_gene_expression(split)
    x = torch.tensor([record.binding for record in records], device=device)
    expression = torch.tensor([record.expression for record in records], device=device)
    return x, expression


def variant_tensors(split: str, device: torch.device) -> tuple[Tensor, Tensor]:
    """Features x (N, F) float32 and labels y (N,) int64 of one variant split, on `device`."""
    records = load_variants(split)
    x = torch.tensor([record.features for record in records], device=device)
    y = torch.tensor([record.label for record in records], device=device)
    return x, y
