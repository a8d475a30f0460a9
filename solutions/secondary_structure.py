"""Per-residue secondary structure with a position-wise MLP (Preliminary Note 3, Exercise 4).

Every residue of a protein gets one of three states: helix (H), strand (E) or coil (C).
A 3-layer MLP maps the one-hot encoding of each residue, shape (B, L, 20), to three logits,
shape (B, L, 3). Sequences in a batch have different lengths, so the batch is padded to the
longest one and a boolean mask marks the real residues; the loss and the accuracy must look
at real residues only. On its own a residue says little about its state: `add_window_context`
lets the same MLP see the 2k neighbours of every residue.

Its program: `python -m programs.secondary_structure` (about 30 s).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from data import AMINO_ACIDS

SS_STATES = "HEC"
PADDING_TARGET = -100


def one_hot_encode(sequences: Sequence[str]) -> tuple[Tensor, Tensor]:
    """One-hot encode a batch of protein sequences, padded to the longest one.

    Args:
        sequences: B strings over the alphabet `AMINO_ACIDS` ("ACDEFGHIKLMNPQRSTVWY").

    Returns:
        x: (B, L, 20) float32, L = length of the longest sequence (0 for an empty batch or
            empty strings only); x[b, i, j] = 1.0 when residue i of sequence b is
            AMINO_ACIDS[j], every other entry 0.0.
        mask: (B, L) bool, True at the real residues (i < len(sequences[b])), False in padding.

    Both tensors are on the CPU. An unknown letter (X, B, Z, U, ...) gives an all-zero row
    that still counts as a residue (mask True): only padding is masked out.

    Hint: Preliminary Note 3, section 4 (padding variable-length sequences and masks);
    Preliminary Note 2, section 4 (encoding a protein sequence as a tensor).
    """
    # BEGIN SOLUTION
    index_of = {letter: i for i, letter in enumerate(AMINO_ACIDS)}
    batch_size = len(sequences)
    length = max((len(sequence) for sequence in sequences), default=0)
    x = torch.zeros(batch_size, length, len(AMINO_ACIDS))  # (B, L, 20)
    mask = torch.zeros(batch_size, length, dtype=torch.bool)  # (B, L)
    for b, sequence in enumerate(sequences):
        mask[b, : len(sequence)] = True
        for i, letter in enumerate(sequence):
            if letter in index_of:
                x[b, i, index_of[letter]] = 1.0
    return x, mask
    # END SOLUTION


def encode_states(ss3_strings: Sequence[str], length: int) -> Tensor:
    """Encode secondary-structure strings as class indices, padded to `length`.

    Args:
        ss3_strings: B strings over SS_STATES ("HEC"), none longer than `length`.
        length: the padded length L (usually that of `one_hot_encode`'s output).

    Returns:
        (B, length) int64 on the CPU: H -> 0, E -> 1, C -> 2, and -100 at every position past
        the end of a string (-100 is the `ignore_index` of `F.cross_entropy`).

    Raises:
        ValueError: a letter outside "HEC", or a string longer than `length`.

    Hint: Preliminary Note 3, section 4 (padding), section 1 (cross-entropy targets).
    """
    # BEGIN SOLUTION
    targets = torch.full((len(ss3_strings), length), PADDING_TARGET, dtype=torch.long)
    for b, states in enumerate(ss3_strings):
        if len(states) > length:
            raise ValueError(f"state string {b} has {len(states)} letters, more than {length}")
        unknown = set(states) - set(SS_STATES)
        if unknown:
            raise ValueError(f"state string {b} has letters outside {SS_STATES!r}: {unknown}")
        targets[b, : len(states)] = torch.tensor(
            [SS_STATES.index(state) for state in states], dtype=torch.long
        )
    return targets
    # END SOLUTION


class SecondaryStructureMLP(nn.Module):
    """A 3-layer MLP applied to every residue independently.

    forward(x): x (B, L, in_features) float -> logits (B, L, num_classes), same device and
    dtype, computed as

        fc1 -> ReLU -> dropout -> fc2 -> ReLU -> dropout -> fc3

    with fc1 = nn.Linear(in_features, hidden_dim), fc2 = nn.Linear(hidden_dim, hidden_dim),
    fc3 = nn.Linear(hidden_dim, num_classes) and one nn.Dropout(dropout). The logits are
    raw scores: no softmax (cross-entropy applies log-softmax itself). nn.Linear acts on the
    last dimension, so residues never mix: the logits of a residue depend on its own features
    only, and padding cannot change the logits of real residues.

    Hint: Preliminary Note 2, section 6 (layers, activations, nn.Module); Preliminary Note 3,
    section 5 (dropout is active in train() mode only).
    """

    def __init__(
        self,
        in_features: int = 20,
        hidden_dim: int = 64,
        num_classes: int = 3,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.fc1 = nn.Linear(in_features, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.fc3 = nn.Linear(hidden_dim, num_classes)
        self.dropout = nn.Dropout(dropout)
        # END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, in_features) -> (B, L, num_classes) logits."""
        # BEGIN SOLUTION
        hidden = self.dropout(F.relu(self.fc1(x)))  # (B, L, H)
        hidden = self.dropout(F.relu(self.fc2(hidden)))  # (B, L, H)
        return self.fc3(hidden)  # (B, L, C)
        # END SOLUTION


def masked_cross_entropy(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Mean cross-entropy over the positions where `mask` is True.

    Args:
        logits: (B, L, C) float, raw scores.
        targets: (B, L) int64 class indices in [0, C) wherever mask is True; anything
            (e.g. -100) where mask is False.
        mask: (B, L) bool, at least one True.

    Returns:
        0-dim tensor on logits' device: the sum of -log softmax(logits)[target] over the
        selected positions divided by their number. Positions where mask is False add
        nothing to the loss and receive zero gradient, whatever their logits and targets.

    The subtle point: averaging over all B * L positions (padding included) gives a different,
    wrong number; so does a per-sequence mean averaged over sequences.

    Hint: Preliminary Note 3, section 1 (cross-entropy) and section 4 (masking padding).
    """
    # BEGIN SOLUTION
    selected_logits = logits[mask]  # (N, C)
    selected_targets = targets[mask]  # (N,)
    return F.cross_entropy(selected_logits, selected_targets)
    # END SOLUTION


def q3_accuracy(logits: Tensor, targets: Tensor, mask: Tensor) -> float:
    """Q3: the fraction of real residues whose predicted state is the true one.

    Args:
        logits: (B, L, 3) float; the prediction is the argmax over the last dimension.
        targets: (B, L) int64 in {0, 1, 2} where mask is True, anything elsewhere.
        mask: (B, L) bool, at least one True.

    Returns:
        a Python float in [0, 1]: correct predictions at positions where mask is True,
        divided by the number of such positions. Padding is never counted.

    Hint: Preliminary Note 3, section 6 ("Evaluation: Beyond Accuracy").
    """
    # BEGIN SOLUTION
    predictions = logits.argmax(dim=-1)  # (B, L)
    correct = (predictions == targets) & mask  # (B, L)
    return correct.sum().item() / mask.sum().item()
    # END SOLUTION


def add_window_context(x: Tensor, mask: Tensor, half_window: int) -> Tensor:
    """Concatenate to every residue the features of its k = half_window neighbours each side.

    Args:
        x: (B, L, F) float features (e.g. one-hot); values at padded positions may be anything.
        mask: (B, L) bool, True at real residues.
        half_window: k >= 0.

    Returns:
        (B, L, F * (2k + 1)), same dtype and device as x. At a real position i, the row is
        [x[i-k], x[i-k+1], ..., x[i], ..., x[i+k]] concatenated along the features, in that
        order (so out[b, i, j*F:(j+1)*F] is the feature vector of position i - k + j). A
        neighbour before the start, past the end (no wrap-around), or at a padded position
        contributes a block of zeros. The row of a padded position is all zeros, so padding
        stays padding. With k = 0 the result equals x with padded rows zeroed.

    Hint: Preliminary Note 3, section 4 (masks); think of shifting a zero-padded copy of the
    sequence by -k, ..., +k positions (F.pad, or Tensor.unfold).
    """
    # BEGIN SOLUTION
    length = x.shape[1]
    real = mask.unsqueeze(-1).to(x.dtype)  # (B, L, 1)
    masked_x = x * real  # (B, L, F)
    padded = F.pad(masked_x, (0, 0, half_window, half_window))  # (B, L + 2k, F)
    blocks = [padded[:, offset : offset + length] for offset in range(2 * half_window + 1)]
    return torch.cat(blocks, dim=-1) * real  # (B, L, F * (2k + 1))
    # END SOLUTION


def train_secondary_structure(
    model: nn.Module,
    train_loader: Iterable[tuple[Tensor, Tensor, Tensor]],
    val_loader: Iterable[tuple[Tensor, Tensor, Tensor]],
    epochs: int,
    lr: float,
    device: torch.device | str,
) -> dict[str, list[float]]:
    """Train `model` with AdamW and masked cross-entropy; evaluate Q3 after every epoch.

    Args:
        model: maps x (B, L, F) to logits (B, L, 3); moved to `device`.
        train_loader, val_loader: iterables of (x (B, L, F) float, targets (B, L) int64,
            mask (B, L) bool) batches, on any device (move them to `device`).
        epochs: number of passes over train_loader.
        lr: learning rate of torch.optim.AdamW(model.parameters(), lr=lr) (other settings at
            their defaults), created once before the first epoch.
        device: where to train.

    Returns:
        {'train_loss': [...], 'val_q3': [...]}, one Python float per epoch each.
        train_loss is the mean masked cross-entropy per real residue over the epoch (each
        batch's loss weighted by its number of real residues); val_q3 is the Q3 over all
        real residues of val_loader (pooled, not a mean of per-batch Q3s), computed in eval
        mode (dropout off) without gradients. Training batches run in train mode.

    Hint: Preliminary Note 3, section 3 (the training loop) and section 5 (validation).
    """
    # BEGIN SOLUTION
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"train_loss": [], "val_q3": []}
    for _ in range(epochs):
        model.train()
        loss_sum, residues = 0.0, 0
        for x, targets, mask in train_loader:
            x, targets, mask = x.to(device), targets.to(device), mask.to(device)
            loss = masked_cross_entropy(model(x), targets, mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            count = int(mask.sum().item())
            loss_sum += loss.item() * count
            residues += count
        history["train_loss"].append(loss_sum / residues)

        model.eval()
        correct, scored = 0, 0
        with torch.no_grad():
            for x, targets, mask in val_loader:
                x, targets, mask = x.to(device), targets.to(device), mask.to(device)
                predictions = model(x).argmax(dim=-1)  # (B, L)
                correct += int(((predictions == targets) & mask).sum().item())
                scored += int(mask.sum().item())
        history["val_q3"].append(correct / scored)
    return history
    # END SOLUTION
