"""Known mistakes and correct alternatives for `solubility`."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (12, 3)

MUTANTS = [
    Variant(
        name="truncation_off_by_one",
        description="keeps max_len - 1 residues instead of max_len",
        replace=(
            (
                "residues = self.sequences[index][: self.max_len]",
                "residues = self.sequences[index][: self.max_len - 1]",
            ),
        ),
        expect="first max_len residues",
    ),
    Variant(
        name="zero_based_encoding",
        description="encodes A..Y as 0..19, so alanine collides with padding",
        replace=(
            (
                "{residue: index + 1 for index, residue in enumerate(AMINO_ACIDS)}",
                "{residue: index for index, residue in enumerate(AMINO_ACIDS)}",
            ),
        ),
        expect="A -> 1",
        knock_on=(("test_dataset_loader_collate", "fix `ProteinDataset` first"),),
    ),
    Variant(
        name="collate_pads_to_fixed_length",
        description="pads every batch to 512 instead of the batch's longest sequence",
        replace=(("longest = max(lengths)", "longest = 512"),),
        expect="longest sequence in the batch",
    ),
    Variant(
        name="collate_bool_mask",
        description="returns the mask as bool instead of float32",
        replace=(
            (
                "mask = torch.zeros(len(batch), longest, dtype=torch.float32, device=device)",
                "mask = torch.zeros(len(batch), longest, dtype=torch.bool, device=device)",
            ),
            ("        mask[row, :length] = 1.0\n", "        mask[row, :length] = True\n"),
        ),
        expect="float32",
    ),
    Variant(
        name="conv_kernel_3",
        description="kernel_size=3, padding=1 convolutions instead of kernel 5, padding 2",
        replace=(
            (
                "self.conv1 = nn.Conv1d(embed_dim, hidden_dim, kernel_size=5, padding=2)",
                "self.conv1 = nn.Conv1d(embed_dim, hidden_dim, kernel_size=3, padding=1)",
            ),
            (
                "self.conv2 = nn.Conv1d(hidden_dim, hidden_dim, kernel_size=5, padding=2)",
                "self.conv2 = nn.Conv1d(hidden_dim, hidden_dim, kernel_size=3, padding=1)",
            ),
        ),
        expect="kernel_size=5",
    ),
    Variant(
        name="conv_positional_stride",
        description="nn.Conv1d(in, out, 5, 2): the fourth positional argument is stride, not padding",
        replace=(
            (
                "self.conv1 = nn.Conv1d(embed_dim, hidden_dim, kernel_size=5, padding=2)",
                "self.conv1 = nn.Conv1d(embed_dim, hidden_dim, 5, 2)",
            ),
            (
                "self.conv2 = nn.Conv1d(hidden_dim, hidden_dim, kernel_size=5, padding=2)",
                "self.conv2 = nn.Conv1d(hidden_dim, hidden_dim, 5, 2)",
            ),
        ),
        expect="stride",
    ),
    Variant(
        name="no_padding_idx",
        description="nn.Embedding without padding_idx=0: the padding row is random and trained",
        replace=(
            (
                "nn.Embedding(vocab_size, embed_dim, padding_idx=PADDING_INDEX)",
                "nn.Embedding(vocab_size, embed_dim)",
            ),
        ),
        expect="padding_idx=0",
    ),
    Variant(
        name="pooling_over_padding",
        description="ignores the mask and averages over every position, padding included",
        replace=(
            (
                "pooled = (features * weights).sum(dim=2) / real_positions  # (B, H)",
                "pooled = features.mean(dim=2)  # (B, H)",
            ),
        ),
        expect="average over the real positions only",
    ),
    Variant(
        name="divides_by_padded_length",
        description="masks the sum but divides by the padded length L",
        replace=(
            (
                "pooled = (features * weights).sum(dim=2) / real_positions  # (B, H)",
                "pooled = (features * weights).sum(dim=2) / features.shape[2]  # (B, H)",
            ),
        ),
        expect="average over the real positions only",
    ),
    Variant(
        name="functional_dropout_always_on",
        description="F.dropout without training=self.training: dropout stays on in eval mode",
        replace=(
            (
                "features = self.dropout(F.relu(self.conv1(features)))  # (B, H, L)",
                "features = F.dropout(F.relu(self.conv1(features)), self.dropout.p)  # (B, H, L)",
            ),
        ),
        expect="training=self.training",
    ),
    Variant(
        name="no_train_mode",
        description="train_one_epoch never calls model.train(): after evaluate, dropout is off",
        replace=(
            (
                "    model.train()\n    total_loss = 0.0",
                "    total_loss = 0.0",
            ),
        ),
        expect="model.train()",
    ),
    Variant(
        name="no_zero_grad",
        description="never zeroes the gradients: each step uses the sum of all earlier ones",
        replace=(
            ("        optimizer.zero_grad()\n        loss = criterion", "        loss = criterion"),
        ),
        expect="zero_grad",
    ),
    Variant(
        name="zero_grad_after_backward",
        description="zero_grad between backward and step: the step sees zero gradients",
        replace=(
            (
                "        optimizer.zero_grad()\n"
                "        loss = criterion(model(sequences, mask), labels)\n"
                "        loss.backward()\n",
                "        loss = criterion(model(sequences, mask), labels)\n"
                "        loss.backward()\n        optimizer.zero_grad()\n",
            ),
        ),
        expect="zero_grad",
        knock_on=(("test_pipeline_reaches_auc", "fix `train_one_epoch` first"),),
    ),
    Variant(
        name="clip_after_step",
        description="clips the gradients after optimizer.step(): the step is unclipped",
        replace=(
            (
                "        if max_grad_norm is not None:\n"
                "            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)\n"
                "        optimizer.step()\n",
                "        optimizer.step()\n"
                "        if max_grad_norm is not None:\n"
                "            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)\n",
            ),
        ),
        expect="clip",
    ),
    Variant(
        name="loss_mean_of_batch_means",
        description="train_one_epoch returns the plain average of batch losses",
        replace=(
            (
                "        total_loss += loss.item() * labels.shape[0]\n"
                "        total_samples += labels.shape[0]\n"
                "    return total_loss / total_samples\n",
                "        total_loss += loss.item()\n"
                "        total_samples += 1\n"
                "    return total_loss / total_samples\n",
            ),
        ),
        expect="per sample",
    ),
    Variant(
        name="evaluate_in_train_mode",
        description="evaluate forgets model.eval(): dropout stays on",
        replace=(("    model.eval()\n    total_loss = 0.0", "    total_loss = 0.0"),),
        expect="model.eval()",
    ),
    Variant(
        name="evaluate_with_gradients",
        description="evaluate forgets torch.no_grad(): it builds autograd graphs",
        replace=(
            (
                "    with torch.no_grad():\n        for batch in loader:",
                "    if True:\n        for batch in loader:",
            ),
        ),
        expect="no_grad",
    ),
    Variant(
        name="probability_of_wrong_class",
        description="returns P(insoluble), softmax column 0",
        replace=(
            (
                "probabilities.append(torch.softmax(logits, dim=-1)[:, 1])",
                "probabilities.append(torch.softmax(logits, dim=-1)[:, 0])",
            ),
        ),
        expect="column 1",
    ),
    Variant(
        name="adam_instead_of_adamw",
        description="train_model uses Adam (no weight decay) instead of AdamW",
        replace=(
            (
                "optimizer = torch.optim.AdamW(model.parameters(), lr=lr)",
                "optimizer = torch.optim.Adam(model.parameters(), lr=lr)",
            ),
        ),
        expect="AdamW",
    ),
    Variant(
        name="last_epoch_not_best",
        description="returns the last epoch's weights instead of the best epoch's",
        replace=(("    model.load_state_dict(best_state)\n", ""),),
        expect="best validation epoch",
    ),
    Variant(
        name="state_dict_not_copied",
        description="keeps model.state_dict() itself: the 'best' tensors are the live ones",
        replace=(
            (
                "            best_state = copy.deepcopy(model.state_dict())\n",
                "            best_state = model.state_dict()\n",
            ),
        ),
        expect="copy",
    ),
    Variant(
        name="patience_off_by_one",
        description="stops after patience + 1 epochs without improvement",
        replace=(
            (
                "epochs_without_improvement >= patience:",
                "epochs_without_improvement > patience:",
            ),
        ),
        expect="patience",
    ),
    Variant(
        name="checkpoint_on_disk",
        description="saves the best weights to best_model.pt in the working directory (the notes)",
        replace=(
            (
                "            best_state = copy.deepcopy(model.state_dict())\n"
                "            epochs_without_improvement = 0\n",
                "            torch.save(model.state_dict(), 'best_model.pt')\n"
                "            best_state = torch.load('best_model.pt')\n"
                "            epochs_without_improvement = 0\n",
            ),
        ),
        expect="wrote files",
    ),
    Variant(
        name="epoch_loss_keeps_graph",
        description="train_one_epoch sums loss * batch size as tensors (no .item()): the mean "
        "it returns still holds the autograd graph of every batch",
        replace=(
            (
                "        total_loss += loss.item() * labels.shape[0]\n",
                "        total_loss += loss * labels.shape[0]\n",
            ),
        ),
        expect="memory leak",
        knock_on=(("test_train_model_runs", "fix `train_one_epoch` first"),),
    ),
]

ALTERNATIVES = [
    Variant(
        name="vectorized_data_pipeline",
        description="encodes every sequence once with a lookup table; collates with pad_sequence",
        definitions='''
        from torch.nn.utils.rnn import pad_sequence


        def collate_proteins(batch):
            sequences = [item["sequence"] for item in batch]
            lengths = torch.tensor([len(s) for s in sequences], device=sequences[0].device)
            padded = pad_sequence(sequences, batch_first=True, padding_value=0)
            positions = torch.arange(padded.shape[1], device=padded.device)
            mask = (positions[None, :] < lengths[:, None]).float()
            return {
                "sequence": padded,
                "mask": mask,
                "label": torch.stack([item["label"] for item in batch]),
            }


        class ProteinDataset(Dataset):
            def __init__(self, sequences, labels, max_len=512):
                lookup = torch.zeros(256, dtype=torch.int64)
                for position, residue in enumerate(AMINO_ACIDS, start=1):
                    lookup[ord(residue)] = position
                self.encoded = []
                for sequence in sequences:
                    codes = torch.tensor(
                        [min(ord(c), 255) for c in sequence[:max_len]], dtype=torch.int64
                    )
                    self.encoded.append(lookup[codes])
                self.labels = torch.as_tensor(list(labels), dtype=torch.int64)

            def __len__(self):
                return len(self.encoded)

            def __getitem__(self, index):
                return {"sequence": self.encoded[index], "label": self.labels[index]}
        ''',
    ),
    Variant(
        name="channels_last_pooling_and_logit_difference",
        description="pools with masked_fill in (B, L, H); P(soluble) as sigmoid of the logit gap",
        replace=(
            (
                "            weights = mask.to(features.dtype).unsqueeze(1)  # (B, 1, L)\n"
                "            real_positions = weights.sum(dim=2).clamp(min=1.0)  # (B, 1)\n"
                "            pooled = (features * weights).sum(dim=2) / real_positions  # (B, H)\n",
                "            per_position = features.permute(0, 2, 1)  # (B, L, H)\n"
                "            padding = (mask == 0).unsqueeze(-1)  # (B, L, 1)\n"
                "            total = per_position.masked_fill(padding, 0.0).sum(dim=1)  # (B, H)\n"
                "            count = (~padding).sum(dim=1).clamp(min=1)  # (B, 1)\n"
                "            pooled = total / count  # (B, H)\n",
            ),
            (
                "probabilities.append(torch.softmax(logits, dim=-1)[:, 1])",
                "probabilities.append(torch.sigmoid(logits[:, 1] - logits[:, 0]))",
            ),
        ),
    ),
    Variant(
        name="inference_mode_and_tensor_sums",
        description="evaluate under torch.inference_mode; losses summed as tensors with reduction",
        definitions='''
        @torch.inference_mode()
        def evaluate(model, loader, criterion, device):
            model.eval()
            losses, probabilities, labels = [], [], []
            for batch in loader:
                batch = {key: value.to(device) for key, value in batch.items()}
                logits = model(batch["sequence"], batch["mask"])
                losses.append(criterion(logits, batch["label"]) * len(batch["label"]))
                probabilities.append(logits.softmax(dim=1)[:, 1])
                labels.append(batch["label"])
            labels = torch.cat(labels)
            return float(torch.stack(losses).sum() / len(labels)), torch.cat(probabilities), labels


        def train_one_epoch(model, loader, criterion, optimizer, device, max_grad_norm=1.0):
            model.train()
            loss_sum = torch.zeros((), device=device)
            count = 0
            for batch in loader:
                batch = {key: value.to(device) for key, value in batch.items()}
                model.zero_grad(set_to_none=True)
                logits = model(batch["sequence"], batch["mask"])
                loss = criterion(logits, batch["label"])
                loss.backward()
                if max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_grad_norm)
                optimizer.step()
                loss_sum += loss.detach() * len(batch["label"])
                count += len(batch["label"])
            return float(loss_sum / count)
        ''',
    ),
    Variant(
        name="best_epoch_index_and_cpu_snapshot",
        description="tracks the best epoch's index, keeps a CPU snapshot, stops on the gap",
        definitions='''
        def train_model(model, train_loader, val_loader, epochs, lr, device, patience=None):
            model = model.to(device)
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
            criterion = nn.CrossEntropyLoss()
            history = {"train_loss": [], "val_loss": []}
            best_epoch, snapshot = -1, None
            for epoch in range(epochs):
                history["train_loss"].append(
                    train_one_epoch(model, train_loader, criterion, optimizer, device)
                )
                history["val_loss"].append(evaluate(model, val_loader, criterion, device)[0])
                if best_epoch < 0 or history["val_loss"][-1] < history["val_loss"][best_epoch]:
                    best_epoch = epoch
                    snapshot = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                if patience is not None and epoch - best_epoch >= patience:
                    break
            if snapshot is not None:
                model.load_state_dict(snapshot)
            return model, history
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "collate_proteins": Batched("batch"),
    "ProteinSolubilityClassifier": Batched("x"),
    "train_one_epoch": Batched("loader", batches=True),
    "evaluate": Batched("loader", batches=True),
    "train_model": Batched("train_loader", batches=True),
}
