"""Probes for the `secondary_structure` exercise.

Inputs are built here from small printable cases (seeded generators on the CPU, then moved
to the device), so the judge can rebuild the very same tensors for its oracles.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from data.amino_acids import AMINO_ACIDS
from tests.probes import SpyModule, raised

NUM_STATES = 3


# --- encodings ------------------------------------------------------------------------


def one_hot_encode(impl, case: dict, device: str):
    return impl.one_hot_encode(list(case["sequences"]))


def encode_states(impl, case: dict, device: str):
    return impl.encode_states(list(case["states"]), case["length"])


def invalid_states(impl, case: dict, device: str) -> dict:
    return raised(lambda: impl.encode_states(list(case["states"]), case["length"]))


# --- the MLP --------------------------------------------------------------------------


def mlp_weights(case: dict) -> dict[str, torch.Tensor]:
    """fc1, fc2, fc3 weights drawn from `seed` (CPU), in nn.Linear's layout."""
    generator = torch.Generator().manual_seed(case["seed"])
    sizes = {"fc1": (case["hidden_dim"], case["in_features"]),
             "fc2": (case["hidden_dim"], case["hidden_dim"]),
             "fc3": (NUM_STATES, case["hidden_dim"])}
    weights = {}
    for name, (rows, columns) in sizes.items():
        scale = columns ** -0.5
        weights[f"{name}.weight"] = torch.randn(rows, columns, generator=generator) * scale
        weights[f"{name}.bias"] = torch.randn(rows, generator=generator) * 0.5
    return weights


def mlp_inputs(case: dict) -> torch.Tensor:
    """(B, L, in_features) standard-normal features drawn from `seed` + 1 (CPU)."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    return torch.randn(case["batch"], case["length"], case["in_features"], generator=generator)


def _loaded_mlp(impl, case: dict, device: str) -> tuple[nn.Module | None, dict]:
    """The submission's MLP with the case's weights, in eval mode; None if they cannot load."""
    model = impl.SecondaryStructureMLP(
        in_features=case["in_features"], hidden_dim=case["hidden_dim"], num_classes=NUM_STATES,
        dropout=0.5,
    )
    parameters = {name: list(p.shape) for name, p in model.named_parameters()}
    weights = mlp_weights(case)
    if parameters != {name: list(w.shape) for name, w in weights.items()}:
        return None, parameters
    model.load_state_dict(weights)
    return model.to(device).eval(), parameters


def mlp_outputs(impl, case: dict, device: str) -> dict:
    """Parameter names/shapes, and logits in eval mode with the case's weights."""
    model, parameters = _loaded_mlp(impl, case, device)
    if model is None:
        return {"parameters": parameters}
    with torch.no_grad():
        logits = model(mlp_inputs(case).to(device))
    return {"parameters": parameters, "logits": logits}


def mlp_independence(impl, case: dict, device: str) -> dict:
    """Logits before/after changing one residue, and with zero padding appended."""
    model, parameters = _loaded_mlp(impl, case, device)
    if model is None:
        return {"parameters": parameters}
    x = mlp_inputs(case)  # (B, L, F)
    changed = x.clone()
    generator = torch.Generator().manual_seed(case["seed"] + 2)
    changed[case["changed"][0], case["changed"][1]] = torch.randn(x.shape[-1],
                                                                  generator=generator) * 3
    padding = torch.zeros(x.shape[0], case["extra_padding"], x.shape[-1])
    padded = torch.cat([x, padding], dim=1)  # (B, L + P, F)
    with torch.no_grad():
        return {
            "parameters": parameters,
            "base": model(x.to(device)),
            "changed": model(changed.to(device)),
            "padded": model(padded.to(device)),
        }


# --- loss and accuracy ----------------------------------------------------------------


def scored_inputs(case: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(logits (B, L, 3), targets (B, L), mask (B, L)) on the CPU from the case.

    case["mask"] is a list of 0/1 rows; off the mask, targets are -100 when
    case["padding_targets"] == "-100", else real classes (the spec says: anything).
    """
    mask = torch.tensor(case["mask"], dtype=torch.bool)
    generator = torch.Generator().manual_seed(case["seed"])
    logits = torch.randn(*mask.shape, NUM_STATES, generator=generator) * 2
    targets = torch.randint(0, NUM_STATES, mask.shape, generator=generator)
    if case["padding_targets"] == "-100":
        targets = targets.masked_fill(~mask, -100)
    return logits, targets, mask


def masked_cross_entropy(impl, case: dict, device: str) -> dict:
    """The loss, whether it carries a graph, and d loss / d logits."""
    logits, targets, mask = scored_inputs(case)
    logits = logits.to(device).requires_grad_()
    loss = impl.masked_cross_entropy(logits, targets.to(device), mask.to(device))
    result = {"loss": loss, "grad": None}
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
        loss.backward()
        result["grad"] = logits.grad
    return result


def q3_accuracy(impl, case: dict, device: str):
    logits, targets, mask = scored_inputs(case)
    return impl.q3_accuracy(logits.to(device), targets.to(device), mask.to(device))


# --- window context -------------------------------------------------------------------


def window_inputs(case: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """(x (B, L, F), mask (B, L)) on the CPU; padded positions hold large garbage."""
    lengths = torch.tensor(case["lengths"])
    length = max(case["lengths"]) + case.get("extra_padding", 0)
    mask = torch.arange(length) < lengths[:, None]  # (B, L)
    generator = torch.Generator().manual_seed(case["seed"])
    x = torch.randn(len(case["lengths"]), length, case["features"], generator=generator)
    garbage = torch.full_like(x, 100.0)
    return torch.where(mask.unsqueeze(-1), x, garbage), mask


def add_window_context(impl, case: dict, device: str):
    x, mask = window_inputs(case)
    return impl.add_window_context(x.to(device), mask.to(device), case["half_window"])


# --- training -------------------------------------------------------------------------


class SpyMLP(SpyModule):
    """A position-wise MLP, x (B, L, F) -> (B, L, 3); each call's record adds its length L."""

    def __init__(self, in_features: int, hidden_dim: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, NUM_STATES)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.record(x, length=x.shape[1])
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))  # (B, L, 3)


def random_batches(seed: int, lengths: list[list[int]], features: int) -> list[tuple]:
    """(x, targets, mask) batches of random data; lengths[b] lists one batch's lengths."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for batch_lengths in lengths:
        width = max(batch_lengths)
        mask = torch.arange(width) < torch.tensor(batch_lengths)[:, None]  # (B, L)
        x = torch.randn(len(batch_lengths), width, features, generator=generator) * mask[..., None]
        targets = torch.randint(0, NUM_STATES, mask.shape, generator=generator)
        batches.append((x, targets.masked_fill(~mask, -100), mask))
    return batches


def training_run(impl, case: dict, device: str) -> dict:
    """History, forward-call log and final weights of a short run on random batches."""
    torch.manual_seed(case["seed"])
    model = SpyMLP(case["features"], dropout=case["dropout"])
    train = random_batches(case["seed"], case["train_lengths"], case["features"])
    valid = random_batches(case["seed"] + 1, case["val_lengths"], case["features"])
    history = impl.train_secondary_structure(model, train, valid, case["epochs"], case["lr"],
                                             device)
    return {
        "history": history,
        "calls": model.calls,
        "weights": {name: p.detach() for name, p in model.state_dict().items()},
    }


def encode_records(records, half_window: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x, targets, mask) for SecondaryStructureRecords, made here rather than by the student.

    One-hot inputs with the window of `half_window` neighbours each side; mask True at resolved
    residues only.
    """
    width = max(len(record.sequence) for record in records)
    index = torch.full((len(records), width), len(AMINO_ACIDS), dtype=torch.long)
    targets = torch.full((len(records), width), -100, dtype=torch.long)
    for b, record in enumerate(records):
        index[b, : len(record.sequence)] = torch.tensor(
            [AMINO_ACIDS.find(a) if a in AMINO_ACIDS else len(AMINO_ACIDS)
             for a in record.sequence])
        resolved = zip(record.ss3, record.resolved_mask, strict=True)
        targets[b, : len(record.ss3)] = torch.tensor(
            ["HEC".index(s) if r == "1" else -100 for s, r in resolved])
    x = F.one_hot(index, len(AMINO_ACIDS) + 1)[..., : len(AMINO_ACIDS)].float()  # (B, L, 20)
    if half_window:
        padded = F.pad(x, (0, 0, half_window, half_window))  # (B, L + 2k, 20)
        x = torch.cat([padded[:, j : j + width] for j in range(2 * half_window + 1)], dim=-1)
    return x, targets, targets != -100


def record_batches(records, half_window: int, batch_size: int) -> list[tuple]:
    """Batches of records sorted by length (less padding), encoded once."""
    ordered = sorted(records, key=lambda record: len(record.sequence))
    return [encode_records(ordered[i : i + batch_size], half_window)
            for i in range(0, len(ordered), batch_size)]


def embedded_training(impl, case: dict, device: str) -> dict:
    """Train the submission's MLP with its own training loop on the embedded data.

    Returns the history and the Q3 on the embedded test split, measured here.
    """
    from data import load_secondary_structure

    k = case["half_window"]
    train = record_batches(load_secondary_structure("train")[: case["train_proteins"]], k,
                           case["batch_size"])
    valid = record_batches(load_secondary_structure("valid")[: case["val_proteins"]], k,
                           case["batch_size"])
    test = record_batches(load_secondary_structure("test"), k, case["batch_size"])
    torch.manual_seed(case["seed"])
    # The batches are sorted by length: shuffle their order once, reproducibly.
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(case["seed"]))
    train = [train[i] for i in order.tolist()]
    model = impl.SecondaryStructureMLP(in_features=len(AMINO_ACIDS) * (2 * k + 1),
                                       hidden_dim=case["hidden_dim"])
    history = impl.train_secondary_structure(model, train, valid, case["epochs"], case["lr"],
                                             device)
    model.eval()
    correct, scored = 0, 0
    with torch.no_grad():
        for x, targets, mask in test:
            predictions = model(x.to(device)).argmax(dim=-1).cpu()  # (B, L)
            correct += int(((predictions == targets) & mask).sum())
            scored += int(mask.sum())
    return {"history": history, "test_q3": correct / scored}
