"""Protein solubility from sequence: the case study of Preliminary Note 3, end to end.

You build the whole pipeline of the notes' case study (sections 4 to 6):

1. `ProteinDataset` turns a protein sequence into integer tokens;
2. `collate_proteins` pads a batch to its own longest sequence and builds the mask;
3. `ProteinSolubilityClassifier` is the 1D-CNN: embedding, two convolutions,
   masked average pooling, a linear head;
4. `train_one_epoch`, `evaluate` and `train_model` train it, keeping the weights of
   the best validation epoch and stopping early.

Labels: 1 = soluble, 0 = insoluble. The case study: `python -m programs.solubility`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
PADDING_INDEX = 0


class ProteinDataset(Dataset):
    """Protein sequences and solubility labels, one encoded protein per item.

    `dataset[i]` is a dict:
      - 'sequence': int64 tensor of shape (min(len(sequence), max_len),): the first
        `max_len` residues, each letter of AMINO_ACIDS mapped to its position plus one
        (A -> 1, C -> 2, ..., Y -> 20) and any other character (X, U, B, '-', lower
        case, ...) to 0. Items are NOT padded: padding happens per batch in
        `collate_proteins`. An empty sequence gives a tensor of shape (0,).
      - 'label': int64 tensor of shape () holding the label (0 or 1).

    Index 0 is shared by unknown residues and padding on purpose: the embedding's
    padding row is all zeros, so an unknown residue carries no information.

    Hint: Preliminary Note 3, section 4 ("The Dataset class").
    """

    def __init__(
        self, sequences: Sequence[str], labels: Sequence[int], max_len: int = 512
    ) -> None:
        # BEGIN SOLUTION
        if len(sequences) != len(labels):
            raise ValueError(f"{len(sequences)} sequences but {len(labels)} labels")
        self.sequences = list(sequences)
        self.labels = [int(label) for label in labels]
        self.max_len = max_len
        self.token_of = {residue: index + 1 for index, residue in enumerate(AMINO_ACIDS)}
        # END SOLUTION

    def __len__(self) -> int:
        # BEGIN SOLUTION
        return len(self.sequences)
        # END SOLUTION

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        # BEGIN SOLUTION
        residues = self.sequences[index][: self.max_len]
        tokens = [self.token_of.get(residue, PADDING_INDEX) for residue in residues]
        return {
            "sequence": torch.tensor(tokens, dtype=torch.int64),  # (min(len, max_len),)
            "label": torch.tensor(self.labels[index], dtype=torch.int64),  # ()
        }
        # END SOLUTION


def collate_proteins(batch: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack dataset items into one padded batch (pass as `DataLoader(collate_fn=...)`).

    Args:
        batch: B >= 1 items of `ProteinDataset`, usually of different lengths.

    Returns a dict of tensors on the device of the items:
      - 'sequence': (B, Lmax) int64, each row its tokens followed by zeros;
      - 'mask': (B, Lmax) float32, 1.0 at real residues, 0.0 at padding;
      - 'label': (B,) int64;
    where Lmax is the longest sequence in THIS batch (not `max_len`): padding only to
    the batch's own longest saves computation on batches of short proteins.

    Hint: Preliminary Note 3, section 4 ("Handling variable-length sequences").
    """
    # BEGIN SOLUTION
    lengths = [int(item["sequence"].shape[0]) for item in batch]
    device = batch[0]["sequence"].device
    longest = max(lengths)
    sequences = torch.zeros(len(batch), longest, dtype=torch.int64, device=device)  # (B, Lmax)
    mask = torch.zeros(len(batch), longest, dtype=torch.float32, device=device)  # (B, Lmax)
    for row, (item, length) in enumerate(zip(batch, lengths, strict=True)):
        sequences[row, :length] = item["sequence"]
        mask[row, :length] = 1.0
    labels = torch.stack([item["label"] for item in batch]).to(torch.int64)  # (B,)
    return {"sequence": sequences, "mask": mask, "label": labels}
    # END SOLUTION


class ProteinSolubilityClassifier(nn.Module):
    """The notes' 1D-CNN: embedding, two convolutions, masked average pooling, linear head.

    Submodules (these names and shapes, so that state dicts are interchangeable):
      - embedding: nn.Embedding(vocab_size, embed_dim, padding_idx=0)
      - conv1: nn.Conv1d(embed_dim, hidden_dim, kernel_size=5, padding=2)
      - conv2: nn.Conv1d(hidden_dim, hidden_dim, kernel_size=5, padding=2)
      - fc: nn.Linear(hidden_dim, num_classes)
      - dropout: nn.Dropout(dropout)

    forward(x, mask=None):
      x: (B, L) int64 tokens; mask: (B, L) float (1.0 real, 0.0 padding) or None.
      embedding -> conv1 -> ReLU -> dropout -> conv2 -> ReLU -> pooling -> fc,
      returning logits (B, num_classes) on x's device. Convolutions want channels
      first: (B, L, E) must become (B, E, L). Pooling averages the conv2 features over
      the real positions only: sum(features * mask) / number of real positions (at
      least 1, so an all-padding row gives zeros, not NaN); without a mask, the plain
      mean over all L positions. Averaging over padding would make a protein's
      prediction depend on the length of the longest protein it is batched with.
      Apply the mask in the pooling only, not between the convolutions: padding
      enters conv1 as zero vectors thanks to padding_idx=0, which also keeps the
      padding row at zero during training. So a protein alone and the same protein
      in a padded batch get slightly different logits (conv1's bias makes its output
      at the first two padding positions non-zero, and conv2's kernel of 5 reaches
      them); that is expected of this model, not a bug to fix.

    Hint: Preliminary Note 3, section 6 ("The model architecture").
    """

    def __init__(
        self,
        vocab_size: int = 21,
        embed_dim: int = 64,
        hidden_dim: int = 128,
        num_classes: int = 2,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PADDING_INDEX)
        self.conv1 = nn.Conv1d(embed_dim, hidden_dim, kernel_size=5, padding=2)
        self.conv2 = nn.Conv1d(hidden_dim, hidden_dim, kernel_size=5, padding=2)
        self.fc = nn.Linear(hidden_dim, num_classes)
        self.dropout = nn.Dropout(dropout)
        # END SOLUTION

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        # BEGIN SOLUTION
        features = self.embedding(x).transpose(1, 2)  # (B, E, L)
        features = self.dropout(F.relu(self.conv1(features)))  # (B, H, L)
        features = F.relu(self.conv2(features))  # (B, H, L)
        if mask is None:
            pooled = features.mean(dim=2)  # (B, H)
        else:
            weights = mask.to(features.dtype).unsqueeze(1)  # (B, 1, L)
            real_positions = weights.sum(dim=2).clamp(min=1.0)  # (B, 1)
            pooled = (features * weights).sum(dim=2) / real_positions  # (B, H)
        return self.fc(pooled)  # (B, num_classes)
        # END SOLUTION


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[dict[str, torch.Tensor]],
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str,
    max_grad_norm: float | None = 1.0,
) -> float:
    """Train `model` for one pass over `loader`; return the mean training loss per sample.

    Args:
        model: called as model(sequence, mask) -> logits (B, 2); already on `device`.
        loader: yields `collate_proteins` batches (dicts of CPU tensors), at least one.
        criterion: mean-reduced loss, criterion(logits, labels), e.g. nn.CrossEntropyLoss().
        optimizer: steps the model's parameters.
        device: where the batches must go (the model's device).
        max_grad_norm: clip the total gradient norm to this value before each step
            (torch.nn.utils.clip_grad_norm_); None means no clipping.

    Put the model in training mode (dropout on). For every batch, in this order:
    zero the gradients, forward, loss, backward, clip, step. Gradients must not leak
    from one batch into the next, and clipping after the step would be too late.
    Return sum(batch loss * batch size) / number of samples as a Python float: the last
    batch is often smaller, so the plain average of batch losses is not the mean per
    sample.

    Hint: Preliminary Note 3, section 3 ("The training loop").
    """
    # BEGIN SOLUTION
    model.train()
    total_loss = 0.0
    total_samples = 0
    for batch in loader:
        sequences = batch["sequence"].to(device)  # (B, L)
        mask = batch["mask"].to(device)  # (B, L)
        labels = batch["label"].to(device)  # (B,)
        optimizer.zero_grad()
        loss = criterion(model(sequences, mask), labels)
        loss.backward()
        if max_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        total_loss += loss.item() * labels.shape[0]
        total_samples += labels.shape[0]
    return total_loss / total_samples
    # END SOLUTION


def evaluate(
    model: nn.Module,
    loader: Iterable[dict[str, torch.Tensor]],
    criterion: nn.Module,
    device: torch.device | str,
) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Evaluate `model` on `loader` without training it.

    Args: as for `train_one_epoch`.

    Returns (mean loss per sample as a Python float, probabilities, labels):
      - probabilities: (N,) float32, P(soluble) = softmax(logits)[:, 1] for every
        sample, in the loader's order;
      - labels: (N,) int64, in the same order;
    both on `device`. N is the number of samples in the loader.

    Put the model in evaluation mode (dropout off) and run it without gradient
    tracking (torch.no_grad()): evaluation must neither be random nor build graphs.

    Hint: Preliminary Note 3, section 5 ("Detecting overfitting").
    """
    # BEGIN SOLUTION
    model.eval()
    total_loss = 0.0
    total_samples = 0
    probabilities = []
    labels_seen = []
    with torch.no_grad():
        for batch in loader:
            sequences = batch["sequence"].to(device)  # (B, L)
            mask = batch["mask"].to(device)  # (B, L)
            labels = batch["label"].to(device)  # (B,)
            logits = model(sequences, mask)  # (B, 2)
            total_loss += criterion(logits, labels).item() * labels.shape[0]
            total_samples += labels.shape[0]
            probabilities.append(torch.softmax(logits, dim=-1)[:, 1])  # (B,)
            labels_seen.append(labels)
    return total_loss / total_samples, torch.cat(probabilities), torch.cat(labels_seen)
    # END SOLUTION


def train_model(
    model: nn.Module,
    train_loader: Iterable[dict[str, torch.Tensor]],
    val_loader: Iterable[dict[str, torch.Tensor]],
    epochs: int,
    lr: float,
    device: torch.device | str,
    patience: int | None = None,
) -> tuple[nn.Module, dict[str, list[float]]]:
    """Train with AdamW and cross-entropy, keep the best validation epoch, stop early.

    Move the model to `device`, make one torch.optim.AdamW(model.parameters(), lr=lr)
    (default weight decay) and nn.CrossEntropyLoss(). Each epoch: `train_one_epoch`
    (default clipping), then `evaluate` on `val_loader`, then print one progress line.

    - Best epoch: the one with the lowest validation loss (strictly lower than every
      earlier epoch's). Keep a COPY of its weights in memory: `model.state_dict()`
      returns references to the live tensors, which later epochs overwrite.
    - Early stopping: with `patience` = p (None: never stop early), stop after p
      consecutive epochs without a new best. If the best epoch is k (counting from 1),
      training stops after epoch k + p.
    - Write no files: keep the best weights in memory, not in a checkpoint on disk (the
      notes' best_model.pt would litter the working directory of every caller).

    Returns (model, history): the same model object holding the best epoch's weights,
    and {'train_loss': [...], 'val_loss': [...]} with one float per epoch actually run.

    Hint: Preliminary Note 3, section 5: "A complete training script" keeps the best
    validation epoch, and the paragraph before it calls that idea early stopping.
    """
    # BEGIN SOLUTION
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    best_val_loss = float("inf")
    best_state = copy.deepcopy(model.state_dict())
    epochs_without_improvement = 0
    for epoch in range(1, epochs + 1):
        train_loss = train_one_epoch(model, train_loader, criterion, optimizer, device)
        val_loss, _, _ = evaluate(model, val_loader, criterion, device)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        improved = val_loss < best_val_loss
        if improved:
            best_val_loss = val_loss
            best_state = copy.deepcopy(model.state_dict())
            epochs_without_improvement = 0
        else:
            epochs_without_improvement += 1
        marker = " *" if improved else ""
        print(f"epoch {epoch:3d} | train_loss {train_loss:.4f} | val_loss {val_loss:.4f}{marker}")
        if patience is not None and epochs_without_improvement >= patience:
            print(f"early stop: no improvement for {patience} epochs")
            break
    model.load_state_dict(best_state)
    return model, history
    # END SOLUTION
