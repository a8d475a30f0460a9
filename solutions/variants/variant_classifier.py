"""Known mistakes and correct alternatives for `variant_classifier`."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

_LOGISTIC_FORWARD = "        return self.linear(x).squeeze(-1)  # (N,)\n"
_STOP = ("            if patience is not None and epochs_without_improvement >= patience:\n"
         "                break\n")

MUTANTS = [
    # --- models
    Variant(
        name="sigmoid_in_forward",
        description="LogisticRegression returns sigmoid(logits), then BCEWithLogitsLoss "
                    "applies a second sigmoid",
        replace=((_LOGISTIC_FORWARD,
                  "        return torch.sigmoid(self.linear(x)).squeeze(-1)  # (N,)\n"),),
        expect="applies the sigmoid itself",
        knock_on=(("test_variant_pipeline", "fix `LogisticRegression` first"),),
    ),
    Variant(
        name="logits_keep_dim",
        description="LogisticRegression returns the linear layer's (N, 1) output",
        replace=((_LOGISTIC_FORWARD, "        return self.linear(x)  # (N, 1)\n"),),
        expect="squeeze the last dimension",
        # BCEWithLogitsLoss raises in train_model, outside LogisticRegression: the symptom's
        # hint names it, the prefix does not.
        unblamed=(("test_variant_pipeline", "LogisticRegression must return logits of shape"),),
    ),
    Variant(
        name="softmax_in_forward",
        description="SoftmaxClassifier returns probabilities, then CrossEntropyLoss applies "
                    "log-softmax to them",
        replace=(("        return self.linear(x)  # (N, K)\n",
                  "        return self.linear(x).softmax(dim=1)  # (N, K)\n"),),
        expect="nn.CrossEntropyLoss applies log-softmax itself",
    ),
    Variant(
        name="squeeze_every_dimension",
        description="LogisticRegression squeezes with .squeeze(): 0-dim logits for a batch "
                    "of one",
        replace=((_LOGISTIC_FORWARD, "        return self.linear(x).squeeze()\n"),),
        expect="with a batch of one, .squeeze() removes the batch dimension",
    ),
    # --- metrics
    Variant(
        name="accuracy_threshold_half",
        description="thresholds the logits at 0.5 as if they were probabilities",
        replace=(("    predicted = logits > 0\n", "    predicted = logits > 0.5\n"),),
        expect="not > 0.5",
    ),
    Variant(
        name="per_class_precision",
        description="divides the hits of class k by the predictions of class k",
        definitions='''
        def per_class_accuracy(logits, labels):
            classes = torch.arange(logits.shape[1], device=logits.device)
            predicted = logits.argmax(dim=1)
            hits = ((predicted == labels).unsqueeze(1) & (labels.unsqueeze(1) == classes))
            return hits.sum(dim=0).float() / (predicted.unsqueeze(1) == classes).sum(dim=0)
        ''',
        expect="not by the predictions of class k",
    ),
    # --- stratified_split
    Variant(
        name="split_leaks",
        description="draws the validation part from each class but trains on every sample",
        replace=(("        train_parts.append(shuffled[cut:])\n",
                  "        train_parts.append(shuffled)\n"),),
        expect="leaks into the validation score",
    ),
    Variant(
        name="split_not_stratified",
        description="shuffles all samples together and cuts once, ignoring the classes",
        definitions='''
        def stratified_split(labels, val_fraction, seed):
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(len(labels), generator=generator).to(labels.device)
            cut = round(val_fraction * len(labels))
            return order[cut:], order[:cut]
        ''',
        expect="split each class separately",
    ),
    Variant(
        name="split_ignores_seed",
        description="seeds its generator with 0 whatever the seed",
        replace=(("    generator = torch.Generator().manual_seed(seed)\n    train_parts",
                  "    generator = torch.Generator().manual_seed(0)\n    train_parts"),),
        expect="depend on the seed",
    ),
    # --- train_model
    Variant(
        name="history_keeps_tensors",
        description="records each training loss as a tensor that holds its graph",
        replace=(('        history["train_loss"].append(loss.item())\n',
                  '        history["train_loss"].append(loss)\n'),),
        expect="holds its autograd graph",
    ),
    Variant(
        name="validation_with_gradients",
        description="computes the validation loss without torch.no_grad()",
        replace=(("        with torch.no_grad():\n            val_loss = criterion(model(x_val), "
                  "y_val).item()\n",
                  "        val_loss = criterion(model(x_val), y_val).item()\n"),),
        expect="torch.no_grad()",
    ),
    Variant(
        name="restores_last_weights",
        description="keeps track of the best epoch but never loads its weights back",
        replace=(("    model.load_state_dict(best_state)\n    return history\n",
                  "    return history\n"),),
        expect="not those of the best validation epoch",
    ),
    Variant(
        name="patience_off_by_one",
        description="stops after patience + 1 epochs without improvement",
        replace=((_STOP, _STOP.replace(">= patience", "> patience")),),
        expect="one epoch too many",
    ),
    Variant(
        name="never_stops",
        description="ignores patience: runs every epoch",
        replace=((_STOP, ""),),
        expect="never stopped early",
    ),
    Variant(
        name="tie_is_improvement",
        description="early stopping counts a validation loss equal to the best as a new "
                    "best (<=): on a plateau it never stops, and keeps the last tied epoch",
        replace=(("        if val_loss < best_val_loss:\n",
                  "        if val_loss <= best_val_loss:\n"),),
        expect="strictly lower (<, not <=)",
    ),
    # --- the pipelines
    Variant(
        name="seeds_after_the_model",
        description="fit_variant_classifier seeds after making the model: the seed no "
                    "longer sets the initial weights",
        replace=(("    torch.manual_seed(seed)\n"
                  "    model = LogisticRegression(x_train.shape[1]).to(x_train.device)\n",
                  "    model = LogisticRegression(x_train.shape[1]).to(x_train.device)\n"
                  "    torch.manual_seed(seed)\n"),),
        expect="the seed does not set the initial weights",
    ),
    Variant(
        name="level_labels_as_float",
        description="copies the binary fit: passes float classes to CrossEntropyLoss",
        replace=(("    history = train_model(model, (x_train, y_train.long()), (x_val, "
                  "y_val.long()),\n",
                  "    history = train_model(model, (x_train, y_train.float()), (x_val, "
                  "y_val.float()),\n"),),
        expect="int64 indices",
        full=True,  # only the level pipeline (a full-grade check) shows it
    ),
    # A student's case: train_model broken, and the binary fit with its own loop that hands
    # int64 labels to BCEWithLogitsLoss. The pipeline raises in fit_variant_classifier,
    # which never calls train_model: the feedback names where it raised, and no helper.
    Variant(
        name="own_loop_with_int_targets",
        description="never loads the best weights back in train_model; fits the binary "
                    "classifier with a loop of its own, on the int64 labels",
        replace=(("    model.load_state_dict(best_state)\n    return history\n",
                  "    return history\n"),),
        definitions='''
        def fit_variant_classifier(train, val, *, epochs=300, lr=0.05, patience=20, seed=0):
            (x_train, y_train), (x_val, y_val) = train, val
            torch.manual_seed(seed)
            model = LogisticRegression(x_train.shape[1]).to(x_train.device)
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            criterion = nn.BCEWithLogitsLoss()
            history = {"train_loss": [], "val_loss": []}
            for _ in range(epochs):
                optimizer.zero_grad()
                loss = criterion(model(x_train), y_train)
                loss.backward()
                optimizer.step()
                history["train_loss"].append(loss.item())
            return model, history
        ''',
        expect="not those of the best validation epoch",
        unblamed=(("test_variant_pipeline", "in fit_variant_classifier: loss = criterion("),
                  ("test_variant_pipeline", "pass y.float()")),
    ),
]

ALTERNATIVES = [
    Variant(
        name="numpy_split_and_confusion_matrix",
        description="splits with numpy's default_rng (floor of each class's share); "
                    "accuracy from sigmoid > 0.5; per-class accuracy from a bincount "
                    "confusion matrix",
        definitions='''
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            rng = np.random.default_rng(seed)
            values = labels.cpu().numpy()
            train, val = [], []
            for label in np.unique(values):
                members = rng.permutation(np.flatnonzero(values == label))
                cut = int(val_fraction * len(members))
                val.extend(members[:cut].tolist())
                train.extend(members[cut:].tolist())
            return (torch.tensor(train, dtype=torch.int64, device=labels.device),
                    torch.tensor(val, dtype=torch.int64, device=labels.device))

        def binary_accuracy(logits, labels):
            predicted = (torch.sigmoid(logits) > 0.5).long()
            return float((predicted == labels.long()).sum().item() / len(labels))

        def per_class_accuracy(logits, labels):
            k = logits.shape[1]
            cells = torch.bincount(labels * k + logits.argmax(dim=1), minlength=k * k)
            confusion = cells.view(k, k).float()  # rows: true class
            return confusion.diagonal() / confusion.sum(dim=1)
        ''',
    ),
    Variant(
        name="loop_with_clones_and_inference_mode",
        description="steps then zeroes the gradients, validates under torch.inference_mode, "
                    "keeps cloned tensors and counts patience from the best epoch",
        definitions='''
        def train_model(model, train, val, criterion, optimizer, epochs, patience=None):
            train_losses, val_losses = [], []
            best_epoch, best_loss, best_weights = 0, float("inf"), None
            for epoch in range(1, epochs + 1):
                model.train()
                loss = criterion(model(train[0]), train[1])
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                train_losses.append(float(loss.detach()))
                model.eval()
                with torch.inference_mode():
                    val_losses.append(float(criterion(model(val[0]), val[1])))
                if val_losses[-1] < best_loss:
                    best_epoch, best_loss = epoch, val_losses[-1]
                    best_weights = {name: value.detach().clone()
                                    for name, value in model.state_dict().items()}
                elif patience is not None and epoch - best_epoch >= patience:
                    break
            with torch.no_grad():
                for name, value in model.state_dict().items():
                    value.copy_(best_weights[name])
            return {"train_loss": train_losses, "val_loss": val_losses, "best_epoch": best_epoch}
        ''',
    ),
    Variant(
        name="functional_models_and_losses",
        description="models through F.linear and .flatten(); the fits use the functional "
                    "losses and a one-liner for each",
        definitions='''
        import torch.nn.functional as F

        class LogisticRegression(nn.Module):
            def __init__(self, num_features):
                super().__init__()
                self.linear = nn.Linear(num_features, 1)

            def forward(self, x):
                return F.linear(x, self.linear.weight, self.linear.bias).flatten()

        class SoftmaxClassifier(nn.Module):
            def __init__(self, num_features, num_classes):
                super().__init__()
                self.linear = nn.Linear(num_features, num_classes)

            def forward(self, x):
                return x @ self.linear.weight.T + self.linear.bias

        def _fit(model_class, outputs, loss, dtype, train, val, epochs, lr, patience, seed):
            torch.manual_seed(seed)
            model = model_class(train[0].shape[1], *outputs).to(train[0].device)
            history = train_model(model, (train[0], train[1].to(dtype)),
                                  (val[0], val[1].to(dtype)), loss,
                                  torch.optim.Adam(model.parameters(), lr=lr), epochs, patience)
            return model, history

        def fit_variant_classifier(train, val, *, epochs=300, lr=0.05, patience=20, seed=0):
            return _fit(LogisticRegression, (), F.binary_cross_entropy_with_logits,
                        torch.float32, train, val, epochs, lr, patience, seed)

        def fit_level_classifier(train, val, num_classes, *, epochs=300, lr=0.05, patience=20,
                                 seed=0):
            return _fit(SoftmaxClassifier, (num_classes,), F.cross_entropy, torch.int64,
                        train, val, epochs, lr, patience, seed)
        ''',
    ),
    Variant(
        name="split_from_one_permutation",
        description="one seeded permutation of all samples; each class's first members in "
                    "that order validate; indices returned sorted",
        definitions='''
        def stratified_split(labels, val_fraction, seed):
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(len(labels), generator=generator).to(labels.device)
            in_val = torch.zeros(len(labels), dtype=torch.bool, device=labels.device)
            for label in labels.unique():
                members = order[labels[order] == label]
                in_val[members[: round(val_fraction * len(members))]] = True
            every = torch.arange(len(labels), device=labels.device)
            return every[~in_val], every[in_val]
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "LogisticRegression": Batched("x"),
    "SoftmaxClassifier": Batched("x"),
    "binary_accuracy": Batched("logits"),
    "per_class_accuracy": Batched("logits"),
    "stratified_split": Batched("labels"),
    "train_model": Batched("train"),
}
EXEMPT = {
    "fit_variant_classifier": (
        "fits the embedded variant set (hundreds of rows); its model and train_model are "
        "graded on a batch of one"
    ),
    "fit_level_classifier": (
        "fits the embedded gene-expression set; its model and train_model are graded on a "
        "batch of one"
    ),
}
