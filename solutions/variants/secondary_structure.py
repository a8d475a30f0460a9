"""Known mistakes and correct alternatives for the secondary_structure exercise."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

MUTANTS = [
    Variant(
        name="one_hot_off_by_one",
        description="one-hot columns shifted by one (1-based amino-acid indices)",
        replace=(("x[b, i, index_of[letter]] = 1.0", "x[b, i, index_of[letter] - 1] = 1.0"),),
        expect="column",
    ),
    Variant(
        name="unknown_letter_masked_out",
        description="mask derived from the one-hot rows, so unknown letters count as padding",
        replace=(("    return x, mask\n", "    return x, x.sum(dim=-1) > 0\n"),),
        expect="unknown",
    ),
    Variant(
        name="states_padded_with_zero",
        description="encode_states pads with 0 (= helix) instead of -100",
        replace=(
            (
                "targets = torch.full((len(ss3_strings), length), PADDING_TARGET, dtype=torch.long)",
                "targets = torch.zeros((len(ss3_strings), length), dtype=torch.long)",
            ),
        ),
        expect="-100",
    ),
    Variant(
        name="two_layers",
        description="forward skips fc2: only two linear layers are used",
        replace=(
            (
                "        hidden = self.dropout(F.relu(self.fc2(hidden)))  # (B, L, H)\n",
                "",
            ),
        ),
        expect="three",
    ),
    Variant(
        name="no_nonlinearity",
        description="no ReLU between the linear layers: the MLP collapses to one linear map",
        replace=(
            (
                "hidden = self.dropout(F.relu(self.fc1(x)))  # (B, L, H)",
                "hidden = self.dropout(self.fc1(x))  # (B, L, H)",
            ),
            (
                "hidden = self.dropout(F.relu(self.fc2(hidden)))  # (B, L, H)",
                "hidden = self.dropout(self.fc2(hidden))  # (B, L, H)",
            ),
        ),
        expect="ReLU",
    ),
    Variant(
        name="softmax_in_forward",
        description="forward returns probabilities instead of raw logits",
        replace=(
            (
                "return self.fc3(hidden)  # (B, L, C)",
                "return torch.softmax(self.fc3(hidden), dim=-1)  # (B, L, C)",
            ),
        ),
        expect="softmax",
    ),
    Variant(
        name="mixes_positions",
        description="adds the sequence mean of the logits as global context: residues are not independent",
        replace=(
            (
                "return self.fc3(hidden)  # (B, L, C)",
                "return self.fc3(hidden) + self.fc3(hidden).mean(dim=1, keepdim=True)  # (B, L, C)",
            ),
        ),
        expect="other positions",
    ),
    Variant(
        name="loss_divided_by_all_positions",
        description="masked loss summed over real residues but divided by B * L",
        definitions="""
        def masked_cross_entropy(logits, targets, mask):
            per_position = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                targets.clamp(min=0).reshape(-1),
                reduction="none",
            ).reshape(mask.shape)
            return (per_position * mask).sum() / mask.numel()
        """,
        expect="mask.sum()",
    ),
    Variant(
        name="loss_over_padding",
        description="cross-entropy over every position, padding included (targets clamped)",
        definitions="""
        def masked_cross_entropy(logits, targets, mask):
            return F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.clamp(min=0).reshape(-1)
            )
        """,
        expect="padded positions",
    ),
    Variant(
        name="double_softmax",
        description="softmax applied before F.cross_entropy, which applies log-softmax again",
        replace=(
            (
                "return F.cross_entropy(selected_logits, selected_targets)",
                "return F.cross_entropy(selected_logits.softmax(dim=-1), selected_targets)",
            ),
        ),
        expect="softmax",
    ),
    Variant(
        name="reshape_scrambles_positions",
        description="(B, L, C) reshaped to (B, C, L) instead of transposed for F.cross_entropy",
        definitions="""
        def masked_cross_entropy(logits, targets, mask):
            batch, length, classes = logits.shape
            return F.cross_entropy(
                logits.reshape(batch, classes, length),
                targets.masked_fill(~mask, -100),
                ignore_index=-100,
            )
        """,
        expect="reshape",
        knock_on=(("test_training_loop_weights", "fix `masked_cross_entropy` first"),
                  ("test_training_reaches_q3", "fix `masked_cross_entropy` first"),),
    ),
    Variant(
        name="q3_counts_padding",
        description="Q3 averaged over every position, padding included",
        replace=(
            (
                "return correct.sum().item() / mask.sum().item()",
                "return correct.sum().item() / mask.numel()",
            ),
        ),
        expect="padding",
    ),
    Variant(
        name="window_wraps_around",
        description="neighbours taken with torch.roll, so the ends wrap around",
        definitions="""
        def add_window_context(x, mask, half_window):
            real = mask.unsqueeze(-1).to(x.dtype)
            masked_x = x * real
            blocks = [
                torch.roll(masked_x, shifts=-offset, dims=1)
                for offset in range(-half_window, half_window + 1)
            ]
            return torch.cat(blocks, dim=-1) * real
        """,
        expect="wrap",
    ),
    Variant(
        name="window_reversed_order",
        description="neighbours concatenated i+k, ..., i-k instead of i-k, ..., i+k",
        replace=(
            (
                "for offset in range(2 * half_window + 1)]",
                "for offset in reversed(range(2 * half_window + 1))]",
            ),
        ),
        expect="order",
    ),
    Variant(
        name="window_padding_leaks",
        description="padded positions' features are not zeroed before shifting",
        replace=(("masked_x = x * real  # (B, L, F)", "masked_x = x  # (B, L, F)"),),
        expect="leak",
    ),
    Variant(
        name="validation_in_train_mode",
        description="validation forgets model.eval(), so dropout is on",
        replace=(
            (
                "        model.eval()\n        correct, scored = 0, 0\n",
                "        correct, scored = 0, 0\n",
            ),
        ),
        expect="eval",
    ),
    Variant(
        name="train_loss_mean_of_batch_means",
        description="train_loss averages the per-batch losses instead of weighting by residues",
        replace=(
            ("loss_sum += loss.item() * count", "loss_sum += loss.item()"),
            ("residues += count", "residues += 1"),
        ),
        expect="real residue",
    ),
    Variant(
        name="val_q3_mean_of_batches",
        description="val_q3 averages per-batch Q3 instead of pooling all residues",
        replace=(
            (
                "correct += int(((predictions == targets) & mask).sum().item())",
                "correct += ((predictions == targets) & mask).sum().item() / mask.sum().item()",
            ),
            ("scored += int(mask.sum().item())", "scored += 1"),
        ),
        expect="pooled",
    ),
    Variant(
        name="no_zero_grad",
        description="gradients are never zeroed, so they accumulate across steps",
        replace=(("            optimizer.zero_grad()\n", ""),),
        expect="zero_grad",
    ),
    Variant(
        name="adam_instead_of_adamw",
        description="torch.optim.Adam (no weight decay) instead of AdamW",
        replace=(
            (
                "optimizer = torch.optim.AdamW(model.parameters(), lr=lr)",
                "optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
            ),
        ),
        expect="AdamW",
    ),
    Variant(
        name="q3_returns_tensor",
        description="q3_accuracy returns a 0-dim tensor instead of a Python float",
        replace=(
            (
                "return correct.sum().item() / mask.sum().item()",
                "return correct.sum() / mask.sum()",
            ),
        ),
        expect="should be a Python float",
    ),
    Variant(
        name="history_holds_tensors",
        description="the history holds tensors: losses summed as loss * count (graph kept), "
        "correct predictions counted without .item()",
        replace=(
            ("loss_sum += loss.item() * count", "loss_sum += loss * count"),
            (
                "correct += int(((predictions == targets) & mask).sum().item())",
                "correct += ((predictions == targets) & mask).sum()",
            ),
        ),
        expect="memory leak",
    ),
]

ALTERNATIVES = [
    Variant(
        name="ignore_index_loss_and_float_q3",
        description="loss via ignore_index=-100 on the flattened batch; Q3 as a float mean",
        definitions="""
        def q3_accuracy(logits, targets, mask):
            hits = logits.argmax(dim=-1)[mask] == targets[mask]
            return hits.float().mean().item()


        def masked_cross_entropy(logits, targets, mask):
            ignored = targets.masked_fill(~mask, -100)  # (B, L)
            return F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), ignored.reshape(-1), ignore_index=-100
            )
        """,
    ),
    Variant(
        name="unfold_window_and_index_one_hot",
        description="window via Tensor.unfold; one-hot via F.one_hot with a spare unknown class",
        definitions="""
        def add_window_context(x, mask, half_window):
            batch, length, features = x.shape
            real = mask.unsqueeze(-1).to(x.dtype)
            padded = F.pad(x * real, (0, 0, half_window, half_window))
            windows = padded.unfold(1, 2 * half_window + 1, 1)  # (B, L, F, W)
            return windows.transpose(2, 3).reshape(batch, length, -1) * real


        def one_hot_encode(sequences):
            unknown = len(AMINO_ACIDS)
            length = max((len(s) for s in sequences), default=0)
            indices = torch.full((len(sequences), length), unknown, dtype=torch.long)
            mask = torch.zeros(len(sequences), length, dtype=torch.bool)
            for b, sequence in enumerate(sequences):
                row = [AMINO_ACIDS.find(a) if a in AMINO_ACIDS else unknown for a in sequence]
                indices[b, : len(row)] = torch.tensor(row, dtype=torch.long)
                mask[b, : len(row)] = True
            x = F.one_hot(indices, unknown + 1)[..., :unknown].float()
            return x * mask.unsqueeze(-1), mask
        """,
    ),
    Variant(
        name="log_softmax_gather_and_sequential_mlp",
        description="loss from log_softmax + gather; MLP layers called through nn.ReLU modules",
        definitions="""
        def masked_cross_entropy(logits, targets, mask):
            log_probs = torch.log_softmax(logits, dim=-1)  # (B, L, C)
            picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            weights = mask.to(logits.dtype)
            return -(picked * weights).sum() / weights.sum()


        class SecondaryStructureMLP(nn.Module):
            def __init__(self, in_features=20, hidden_dim=64, num_classes=3, dropout=0.1):
                super().__init__()
                self.fc1 = nn.Linear(in_features, hidden_dim)
                self.fc2 = nn.Linear(hidden_dim, hidden_dim)
                self.fc3 = nn.Linear(hidden_dim, num_classes)
                self.act = nn.ReLU()
                self.drop1 = nn.Dropout(dropout)
                self.drop2 = nn.Dropout(dropout)

            def forward(self, x):
                batch, length, features = x.shape
                flat = x.reshape(batch * length, features)
                flat = self.drop2(self.act(self.fc2(self.drop1(self.act(self.fc1(flat))))))
                return self.fc3(flat).reshape(batch, length, -1)
        """,
    ),
    Variant(
        name="loop_window_and_summed_training",
        description="window built position by position; training sums losses per residue",
        definitions="""
        def train_secondary_structure(model, train_loader, val_loader, epochs, lr, device):
            model = model.to(device)
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
            history = {"train_loss": [], "val_q3": []}
            for _ in range(epochs):
                model.train()
                total, count = torch.zeros((), device=device), 0
                for x, targets, mask in train_loader:
                    x, targets, mask = x.to(device), targets.to(device), mask.to(device)
                    model.zero_grad()
                    loss = masked_cross_entropy(model(x), targets, mask)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach() * mask.sum()
                    count += int(mask.sum())
                history["train_loss"].append(float(total / count))
                model.eval()
                hits, seen = 0, 0
                for x, targets, mask in val_loader:
                    with torch.inference_mode():
                        x, targets, mask = x.to(device), targets.to(device), mask.to(device)
                        n = int(mask.sum())
                        hits += q3_accuracy(model(x), targets, mask) * n
                        seen += n
                history["val_q3"].append(hits / seen)
            return history


        def add_window_context(x, mask, half_window):
            batch, length, features = x.shape
            width = 2 * half_window + 1
            out = x.new_zeros(batch, length, features * width)
            real = mask.unsqueeze(-1).to(x.dtype)
            masked_x = x * real
            for j in range(width):
                shift = j - half_window
                lo, hi = max(0, -shift), min(length, length - shift)
                if lo < hi:
                    out[:, lo:hi, j * features : (j + 1) * features] = masked_x[
                        :, lo + shift : hi + shift
                    ]
            return out * real
        """,
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "one_hot_encode": Batched("sequences"),
    "encode_states": Batched("ss3_strings"),
    "SecondaryStructureMLP": Batched("x"),
    "masked_cross_entropy": Batched("logits"),
    "q3_accuracy": Batched("logits"),
    "add_window_context": Batched("x"),
    "train_secondary_structure": Batched("train_loader", batches=True),
}
