"""Probes for the `solubility` exercise.

The model checks drive the submission's own `ProteinSolubilityClassifier`; the training
checks (`train_one_epoch`, `evaluate`, `train_model`) drive small probe-owned models
instead, so a mistake in the classifier does not also fail the training checks, and
the probe can watch what the training code does (mode, grad mode, optimizer calls).
"""

from __future__ import annotations

import os
import tempfile

import torch
from torch import nn

from tests.probes import SpyClassifier, SpyLoss, SpySGD, padded_batch, solubility_batches

# ---------------------------------------------------------------------------- data


def dataset_items(impl, case: dict, device: str) -> dict:
    """Every item of ProteinDataset(sequences, labels, max_len) and its length."""
    dataset = impl.ProteinDataset(case["sequences"], case["labels"], max_len=case["max_len"])
    items = [dataset[index] for index in range(len(case["sequences"]))]
    return {
        "length": len(dataset),
        # a dict subclass would reach the judge as an opaque object: keep its entries
        "items": [dict(item) if isinstance(item, dict) else item for item in items],
    }


def _items(case: dict, device: str) -> list[dict]:
    """Dataset-style items (unpadded token tensors and 0-dim labels) on `device`."""
    return [
        {
            "sequence": torch.tensor(tokens, dtype=torch.int64, device=device),
            "label": torch.tensor(label, dtype=torch.int64, device=device),
        }
        for tokens, label in zip(case["tokens"], case["labels"], strict=True)
    ]


def collate(impl, case: dict, device: str):
    return impl.collate_proteins(_items(case, device))


def dataset_then_collate(impl, case: dict, device: str):
    """The submission's whole data pipeline: ProteinDataset, DataLoader, collate_proteins."""
    dataset = impl.ProteinDataset(case["sequences"], case["labels"], max_len=case["max_len"])
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=len(dataset), shuffle=False, collate_fn=impl.collate_proteins
    )
    return list(loader)


# ---------------------------------------------------------------------------- the model


def token_batch(case: dict, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tokens (B, width) with a float mask: row i has lengths[i] real residues.

    Real positions draw from 0..20 (0 = unknown residue); padding is 0 and `width`
    defaults to the longest length.
    """
    generator = torch.Generator().manual_seed(case["seed"])
    lengths = torch.tensor(case["lengths"])
    width = case.get("width", int(lengths.max()))
    tokens = torch.randint(0, 21, (len(lengths), width), generator=generator)
    mask = (torch.arange(width) < lengths[:, None]).float()  # (B, width)
    return (tokens * mask.long()).to(device), mask.to(device)


def model_structure(impl, case: dict, device: str) -> dict:
    """State-dict names and shapes, and the settings of the two convolutions."""
    model = impl.ProteinSolubilityClassifier(**case["config"])
    convolutions = {}
    for name in ("conv1", "conv2"):
        conv = getattr(model, name, None)
        if isinstance(conv, nn.Conv1d):
            convolutions[name] = {
                "kernel_size": list(conv.kernel_size),
                "stride": list(conv.stride),
                "padding": conv.padding if isinstance(conv.padding, str) else list(conv.padding),
            }
    return {
        "shapes": {name: list(t.shape) for name, t in model.state_dict().items()},
        "convolutions": convolutions,
    }


def shared_weights(model: nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Seeded weights for every state-dict entry (by sorted name); padding row zero."""
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for name, tensor in sorted(model.state_dict().items()):
        values = torch.randn(tensor.shape, generator=generator, dtype=torch.float32)
        weights[name] = values * (0.3 if tensor.dim() > 1 else 0.1)
    if "embedding.weight" in weights:
        weights["embedding.weight"][0] = 0.0
    return weights


def forward_shared(impl, case: dict, device: str) -> dict:
    """Logits of the submission's model loaded with shared weights, in eval mode.

    `masked` twice (eval mode must be deterministic), `unmasked` (mask=None), and
    `padded`: the same batch with `extra` zero columns appended to tokens and mask.
    """
    model = impl.ProteinSolubilityClassifier(**case["config"])
    model.load_state_dict(shared_weights(model, case["seed"]))
    model.to(device).eval()
    tokens, mask = token_batch(case, device)
    extra = case.get("extra", 0)
    padded_tokens = nn.functional.pad(tokens, (0, extra))
    padded_mask = nn.functional.pad(mask, (0, extra))
    with torch.no_grad():
        return {
            "masked": model(tokens, mask),
            "masked_again": model(tokens, mask),
            "unmasked": model(tokens),
            "padded": model(padded_tokens, padded_mask),
        }


def padding_row(impl, case: dict, device: str) -> dict:
    """The embedding's padding row at construction and after one SGD step on padded data."""
    model = impl.ProteinSolubilityClassifier(**case["config"]).to(device)
    before = model.embedding.weight.detach()[0].clone()
    tokens, mask = token_batch(case, device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    optimizer.zero_grad()
    model(tokens, mask).pow(2).sum().backward()
    optimizer.step()
    return {"before": before, "after": model.embedding.weight.detach()[0].clone()}


# ---------------------------------------------------------------------------- training

# The training checks' proteins have 1 to 19 residues: their cases' gradient norms (see
# tests/test_solubility.py) were measured on these batches.
TRAINING_MAX_LENGTH = 19


def one_epoch(impl, case: dict, device: str) -> dict:
    """train_one_epoch with plain SGD on a spy model from fixed weights.

    `events`: the model's and the optimizer's calls in order; `grad_norms`: the norm of
    the gradient each optimizer.step() used.
    """
    model = SpyClassifier(seed=case["seed"], width=6).to(device)
    optimizer = SpySGD(model.parameters(), lr=case["lr"], events=model.events)
    kwargs = {} if case["max_grad_norm"] == "default" else {"max_grad_norm": case["max_grad_norm"]}
    model.eval()  # train_one_epoch must switch to training mode itself
    criterion = SpyLoss()
    batches = solubility_batches(case["seed"], case["batch_sizes"],
                                 max_length=TRAINING_MAX_LENGTH)
    loss = impl.train_one_epoch(model, batches, criterion, optimizer, device, **kwargs)
    return {
        "loss": loss,
        "batch_losses": criterion.calls,
        "parameters": {name: p.detach() for name, p in model.named_parameters()},
        "grad_norms": [gradient.norm().item() for gradient in optimizer.step_gradients],
        "events": model.events,
        "calls": model.calls,
    }


def evaluation(impl, case: dict, device: str) -> dict:
    """evaluate on a spy model with the case's dropout that starts in training mode."""
    model = SpyClassifier(seed=case["seed"], width=6, dropout=case["dropout"]).to(device)
    model.train()
    batches = solubility_batches(case["seed"], case["batch_sizes"],
                                 max_length=TRAINING_MAX_LENGTH)
    loss, probabilities, labels = impl.evaluate(model, batches, nn.CrossEntropyLoss(), device)
    return {
        "loss": loss,
        "probabilities": probabilities,
        "labels": labels,
        "calls": model.calls,
    }


# ---------------------------------------------------------------------------- train_model


class BiasModel(nn.Module):
    """Logits = two learned biases; every training label is 1, so the gap only grows.

    The validation set holds a fixed share of soluble proteins, so the validation loss
    falls while the gap approaches its log-odds and rises after: the best epoch is
    known. A zero-gradient parameter shows weight decay (AdamW) at work.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(2))
        self.unused_scale = nn.Parameter(torch.ones(3))

    def forward(self, sequence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        zero = (self.unused_scale * 0.0).sum()
        return self.bias.expand(sequence.shape[0], 2) + zero  # (B, 2)


class WatchedValidation:
    """A validation loader that snapshots the model's weights each time it is iterated."""

    def __init__(self, model: nn.Module, batches: list[dict]) -> None:
        self.model = model
        self.batches = batches
        self.snapshots: list[dict[str, torch.Tensor]] = []

    def __iter__(self):
        self.snapshots.append(
            {name: p.detach().cpu().clone() for name, p in self.model.named_parameters()}
        )
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _labelled(labels: list[int]) -> dict:
    """A batch of identical 4-residue proteins with these labels."""
    return padded_batch([torch.ones(4, dtype=torch.int64)] * len(labels), torch.tensor(labels))


class OptimizerLog:
    """Records every torch.optim.Optimizer created while active: class, lr, weight decay."""

    def __init__(self) -> None:
        self.created: list[dict] = []

    def __enter__(self):
        self.original = torch.optim.Optimizer.__init__
        log, original = self.created, self.original

        def init(optimizer, params, defaults):
            log.append({
                "class": type(optimizer).__name__,
                "lr": defaults.get("lr"),
                "weight_decay": defaults.get("weight_decay"),
            })
            original(optimizer, params, defaults)

        torch.optim.Optimizer.__init__ = init
        return self

    def __exit__(self, *exc) -> None:
        torch.optim.Optimizer.__init__ = self.original


def early_stopping(impl, case: dict, device: str) -> dict:
    """train_model on the bias scenario, in an empty working directory; with
    case["last_train_batch"] n, the training batches end with one of n proteins."""
    model = BiasModel()
    train_batches = [_labelled([1] * 4) for _ in range(case["train_batches"])]
    if "last_train_batch" in case:
        train_batches.append(_labelled([1] * case["last_train_batch"]))
    share = case["val_soluble"]
    val_loader = WatchedValidation(model, [_labelled([1] * share + [0] * (10 - share))])
    workdir = tempfile.mkdtemp(prefix="solubility-")
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        with OptimizerLog() as optimizers:
            result = impl.train_model(
                model, train_batches, val_loader, case["epochs"], case["lr"], device,
                patience=case["patience"],
            )
    finally:
        os.chdir(previous)
    files = sorted(os.listdir(workdir))
    for name in files:
        path = os.path.join(workdir, name)
        if os.path.isfile(path):
            os.remove(path)
    observed = {"optimizers": optimizers.created, "files": files}
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], nn.Module)):
        return {**observed, "result": result}
    returned, history = result
    return {
        **observed,
        "returned": {name: p.detach() for name, p in returned.named_parameters()},
        "history": history,
        "snapshots": val_loader.snapshots,
    }


# ---------------------------------------------------------------------------- the pipeline


def pipeline(impl, case: dict, device: str) -> dict:
    """Train on the embedded data with a fixed budget; P(soluble) and labels on the test split."""
    from data import load_solubility

    torch.manual_seed(case["seed"])

    def loader(split: str, shuffle: bool):
        records = load_solubility(split)
        dataset = impl.ProteinDataset(
            [r.sequence for r in records], [r.label for r in records], max_len=case["max_len"]
        )
        return torch.utils.data.DataLoader(
            dataset, batch_size=case["batch_size"], shuffle=shuffle,
            collate_fn=impl.collate_proteins,
            generator=torch.Generator().manual_seed(case["seed"]),
        )

    model = impl.ProteinSolubilityClassifier(**case["config"])
    model, _ = impl.train_model(
        model, loader("train", True), loader("valid", False), case["epochs"], case["lr"], device,
        patience=None,
    )
    _, probabilities, labels = impl.evaluate(
        model, loader("test", False), nn.CrossEntropyLoss(), device
    )
    return {"probabilities": probabilities, "labels": labels}
