"""The embedded tabular sets as tensors, for programs and probes alike."""

from __future__ import annotations

import torch
from torch import Tensor

from data.loaders import load_gene_expression, load_variants


def gene_expression_tensors(split: str, device: torch.device | str = "cpu",
                            dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """Binding scores x (N, F) and expression (N,) of one embedded split, in `dtype` on
    `device` (float64 keeps the file's values exactly)."""
    records = load_gene_expression(split)
    x = torch.tensor([record.binding for record in records], dtype=dtype, device=device)
    expression = torch.tensor([record.expression for record in records], dtype=dtype,
                              device=device)
    return x, expression


def variant_tensors(split: str, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Features x (N, F) float32 and labels y (N,) int64 of one embedded variant split."""
    records = load_variants(split)
    x = torch.tensor([record.features for record in records], dtype=torch.float32,
                     device=device)
    y = torch.tensor([record.label for record in records], dtype=torch.int64, device=device)
    return x, y
