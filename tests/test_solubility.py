"""Grading suite of the `solubility` exercise: the notes' case study, piece by piece.

Data checks use a plain-Python oracle; model checks compare with the reference under
shared weights; training checks drive small probe-owned models and watch what the
training code does; the last check trains the whole pipeline on the embedded data.
"""

from __future__ import annotations

import functools

import pytest
import torch
from hypothesis import example, given, settings
from sklearn.metrics import roc_auc_score

from data.amino_acids import AMINO_ACIDS
from grader.isolation.wire import Returned
from grader.judging.judge import (
    agrees,
    assert_close,
    early_stopping_epochs,
    expect_dict,
    expect_float,
    expect_history,
    expect_modes,
    expect_tensor,
    fail,
    known_mistake,
    scalar_close,
    show,
)
from tests import strategies
from tests.probes import padded_batch
from tests.probes import solubility as probes

EXERCISE_POINTS = 20


def oracle_tokens(sequence: str, max_len: int) -> list[int]:
    return [AMINO_ACIDS.index(c) + 1 if c in AMINO_ACIDS else 0 for c in sequence[:max_len]]


# ---------------------------------------------------------------------------- data


def encoding_hint(got: list[int], sequence: str, max_len: int) -> str | None:
    expected = oracle_tokens(sequence, max_len)
    if len(got) == max_len and len(sequence) < max_len:
        return ("items must not be padded: return only the protein's own tokens; "
                "collate_proteins pads each batch")
    if len(sequence) >= max_len and len(got) == max_len - 1:
        return "keep the first max_len residues: sequence[:max_len], not max_len - 1"
    if len(got) == len(sequence) > max_len:
        return "truncate: keep only the first max_len residues"
    if len(got) == len(expected):
        if all(g == e - 1 for g, e in zip(got, expected, strict=True) if e > 0):
            return "A -> 1, C -> 2, ..., Y -> 20: index 0 is reserved for padding and unknowns"
        if any(e == 0 and g != 0 for g, e in zip(got, expected, strict=True)):
            return "a letter outside ACDEFGHIKLMNPQRSTVWY (X, U, B, Z, O, ...) must become 0"
    return None


@pytest.mark.points(2)
@given(case=strategies.protein_records())
@example(case={"sequences": ["ACDEFGHIKLMNPQRSTVWY"], "labels": [1], "max_len": 512})
@example(case={"sequences": ["MXKUBZOV", "MKV"], "labels": [0, 1], "max_len": 512})
@example(case={"sequences": ["MKTAYIAKQR", "MKT", "M"], "labels": [1, 0, 1], "max_len": 4})
@settings(max_examples=25)
def test_dataset_encoding(check, case):
    """ProteinDataset maps A..Y to 1..20, unknown to 0, keeps max_len residues, unpadded"""
    got = check.student(probes.dataset_items, case)
    if got["length"] != len(case["sequences"]):
        fail("len(ProteinDataset) should be the number of sequences", case=case,
             expected=len(case["sequences"]), got=got["length"])
    for index, (sequence, label) in enumerate(zip(case["sequences"], case["labels"],
                                                  strict=True)):
        item = expect_dict(got["items"][index], f"dataset[{index}]", ("sequence", "label"),
                           case=case)
        what = f"dataset[{index}]['sequence'] for {sequence!r} (max_len={case['max_len']})"
        tokens = expect_tensor(item["sequence"], what, case=case, dtype=torch.int64)
        expected = oracle_tokens(sequence, case["max_len"])
        if tokens.dim() != 1 or tokens.tolist() != expected:
            fail(f"{what}: wrong tokens", case=case, expected=expected,
                 got=tokens.tolist(), hint=encoding_hint(tokens.flatten().tolist(), sequence,
                                                         case["max_len"]))
        value = expect_tensor(item["label"], f"dataset[{index}]['label']", case=case,
                              dtype=torch.int64, shape=())
        if value.item() != label:
            fail(f"dataset[{index}]['label'] is wrong", case=case, expected=label,
                 got=value.item())


def oracle_batch(tokens: list[list[int]], labels: list[int]) -> dict[str, torch.Tensor]:
    """What collate_proteins should return for items of these tokens and labels (CPU)."""
    return padded_batch([torch.tensor(t, dtype=torch.int64) for t in tokens], torch.tensor(labels))


def judge_batch(got, expected: dict[str, torch.Tensor], *, case, device: str,
                what: str = "collate_proteins") -> None:
    got = expect_dict(got, what, ("sequence", "mask", "label"), case=case)
    width = expected["sequence"].shape[1]
    for key, wanted in expected.items():
        value, dtype = got[key], wanted.dtype
        if isinstance(value, Returned) and value.dtype != dtype:
            hint = ("the mask must be float32 (1.0 real, 0.0 padding): the model multiplies "
                    "features by it" if key == "mask" else None)
            fail(f"{what}['{key}'] should have dtype {dtype}, got {value.dtype}", case=case,
                 hint=hint)
        shape = wanted.shape
        if isinstance(value, Returned) and key != "label" and value.shape != tuple(shape):
            padded_to = value.shape[-1] if value.value.dim() == 2 else None
            fail(f"{what}['{key}'] should have shape {list(shape)}, got {list(value.shape)}",
                 case=case, hint=f"pad to the longest sequence in the batch ({width}), "
                 f"not to {padded_to}" if padded_to not in (None, width) else None)
        values = expect_tensor(value, f"{what}['{key}']", case=case, dtype=dtype, shape=shape,
                               device=device)
        if not torch.equal(values, wanted):
            hint = None
            if key == "mask":
                hint = ("the mask marks real positions, not residue values: a token 0 "
                        "(unknown residue) inside a sequence is still a real position"
                        if torch.equal(values, (got["sequence"].value != 0).float()) else
                        "1.0 for the first len(sequence) positions of each row, 0.0 after")
            index = (values != wanted).nonzero()[0].tolist()
            fail(f"{what}['{key}'] is wrong at index {index}", case=case,
                 expected=wanted, got=values, hint=hint)


@pytest.mark.points(1)
@given(case=strategies.token_items())
@example(case={"tokens": [[1, 2, 3], [5], [7, 8, 9, 10, 11, 12], [4, 0, 4]],
               "labels": [1, 0, 0, 1]})
@example(case={"tokens": [[3]], "labels": [1]})
@settings(max_examples=25)
def test_collate(check, case):
    """collate_proteins pads to the batch's longest sequence, with a float32 mask and labels"""
    got = check.student(probes.collate, case)
    judge_batch(got, oracle_batch(case["tokens"], case["labels"]), case=case,
                device=check.device)


@pytest.mark.points(1)
@pytest.mark.uses(ProteinDataset=[test_dataset_encoding], collate_proteins=[test_collate])
def test_dataset_loader_collate(check):
    """ProteinDataset and collate_proteins batch truncated and length-1 proteins in a DataLoader"""
    case = {"sequences": ["MKTAYIAKQRQISFVKSHFSRQ", "M", "ACDXY", "MKVMKVMKVMKV"],
            "labels": [1, 0, 1, 0], "max_len": 8}
    got = check.student(probes.dataset_then_collate, case)
    if not isinstance(got, list) or len(got) != 1:
        fail("a DataLoader over 4 proteins with batch_size=4 should give one batch", case=case,
             got=got)
    tokens = [oracle_tokens(sequence, case["max_len"]) for sequence in case["sequences"]]
    judge_batch(got[0], oracle_batch(tokens, case["labels"]), case=case, device="cpu",
                what="the batch")


# ---------------------------------------------------------------------------- the model

MODEL_CONFIGS = (
    {},
    {"vocab_size": 25, "embed_dim": 8, "hidden_dim": 12, "num_classes": 3, "dropout": 0.1},
)


@pytest.mark.points(1)
def test_model_structure(check):
    """ProteinSolubilityClassifier has the reference's state dict; conv kernel 5, padding 2"""
    for config in MODEL_CONFIGS:
        case = {"config": config}
        got, expected = check.both(probes.model_structure, case)
        for name, conv in expected["convolutions"].items():
            mine = got["convolutions"].get(name)
            if mine is None:
                fail(f"model.{name} should be an nn.Conv1d", case=case)
            if mine != conv:
                hint = ("nn.Conv1d(in, out, 5, 2) sets stride=2: the fourth positional "
                        "argument is stride, so write padding=2 by name"
                        if mine["stride"] != conv["stride"] else
                        "use kernel_size=5 and padding=2, which keeps the length L")
                fail(f"model.{name} has the wrong settings", case=case, expected=conv,
                     got=mine, hint=hint)
        shapes, reference = got["shapes"], expected["shapes"]
        missing = sorted(set(reference) - set(shapes))
        extra = sorted(set(shapes) - set(reference))
        if missing or extra:
            fail("the state dict's names differ from the reference's, so saved weights "
                 "would not load", case=case, expected=sorted(reference), got=sorted(shapes),
                 hint=f"missing {missing}, unexpected {extra}: name the submodules embedding, "
                 "conv1, conv2, fc, dropout, and add no other parameters")
        for name, shape in reference.items():
            if shapes[name] != shape:
                fail(f"state dict entry {name!r} has the wrong shape", case=case,
                     expected=shape, got=shapes[name],
                     hint="conv weights are (out_channels, in_channels, kernel_size=5); "
                     "fc maps hidden_dim to num_classes")


FORWARD_CASES = (
    # every row ends with at least two padding columns: see test_pooling_ignores_padding
    {"config": {"embed_dim": 8, "hidden_dim": 12, "dropout": 0.5}, "seed": 1,
     "lengths": [9, 4, 1, 7], "width": 11, "extra": 6},
    {"config": {"embed_dim": 16, "hidden_dim": 10, "num_classes": 3, "dropout": 0.3},
     "seed": 2, "lengths": [30, 12, 5, 2, 18, 27], "width": 32, "extra": 9},
    {"config": {}, "seed": 3, "lengths": [50, 3], "width": 52, "extra": 20},
    {"config": {"embed_dim": 8, "hidden_dim": 6}, "seed": 4, "lengths": [5], "width": 7,
     "extra": 4},  # a batch of one
)


UNMASKED_POOLING = ("your logits with a mask equal the reference's without one: average "
                    "over the real positions only, sum(features * mask) / mask.sum()")
PADDED_LENGTH_POOLING = ("only rows with padding differ: average over the real positions only, "
                         "dividing by the number of real positions (mask.sum), not by L")


def pooling_hint(got: torch.Tensor, expected: torch.Tensor, *, unmasked: torch.Tensor,
                 case: dict, device: str) -> str | None:
    """Which pooling mistake the logits (B, K) fit: the plain mean, or dividing by L."""
    differing = [length for length, row, reference in zip(case["lengths"], got, expected,
                                                          strict=True)
                 if not agrees(row, reference, device=device)]
    only_padded_rows = bool(differing) and all(n < case["width"] for n in differing)
    return known_mistake(got, {UNMASKED_POOLING: unmasked}, device=device,
                         default=PADDED_LENGTH_POOLING if only_padded_rows else None)


@pytest.mark.points(2)
def test_model_matches_reference(check):
    """ProteinSolubilityClassifier gives the reference's logits with its weights, in eval mode"""
    for case in FORWARD_CASES:
        got, expected = check.both(probes.forward_shared, case)
        b, k = len(case["lengths"]), case["config"].get("num_classes", 2)
        logits = expect_tensor(got["masked"], "model(x, mask)", case=case,
                               dtype=torch.float32, shape=(b, k), device=check.device)
        again = expect_tensor(got["masked_again"], "model(x, mask)", case=case,
                              dtype=torch.float32, shape=(b, k), device=check.device)
        if not torch.equal(logits, again):
            fail("in eval mode, two calls on the same batch gave different logits", case=case,
                 expected=logits, got=again,
                 hint="dropout is still on in eval mode: use the nn.Dropout module "
                 "(self.dropout), or F.dropout(x, p, training=self.training)")
        reference_unmasked = expected["unmasked"].value
        assert_close(logits, expected["masked"].value, "model(x, mask) logits", case=case,
                     device=check.device, hint=functools.partial(
                         pooling_hint, unmasked=reference_unmasked, case=case,
                         device=check.device))
        unmasked = expect_tensor(got["unmasked"], "model(x) without a mask", case=case,
                                 dtype=torch.float32, shape=(b, k), device=check.device)
        assert_close(unmasked, reference_unmasked, "model(x) logits without a mask",
                     case=case, device=check.device,
                     hint="without a mask, pool with the plain mean over all L positions")


@pytest.mark.points(2)
def test_pooling_ignores_padding(check):
    """ProteinSolubilityClassifier pools over residues only: padding leaves the logits alone"""
    # conv2 sees conv1's outputs at the first two padding positions (kernel 5): those are
    # not zero (conv1 has a bias), so the notes' model is exactly padding-invariant only
    # once every row already ends with two padding columns. The cases start from there.
    for case in FORWARD_CASES:
        got = check.student(probes.forward_shared, case)
        b, k = len(case["lengths"]), case["config"].get("num_classes", 2)
        before = expect_tensor(got["masked"], "model(x, mask)", case=case,
                               dtype=torch.float32, shape=(b, k), device=check.device)
        after = expect_tensor(got["padded"], "model(x, mask) with more padding", case=case,
                              dtype=torch.float32, shape=(b, k), device=check.device)
        assert_close(after, before, f"logits after appending {case['extra']} padding columns",
                     case=case, device=check.device, rtol=1e-4, atol=1e-5,
                     hint="a protein's prediction must not depend on how much padding its "
                     "batch has: average over the real positions only (weights = mask)")


@pytest.mark.points(1)
def test_padding_embedding_stays_zero(check):
    """ProteinSolubilityClassifier keeps the padding embedding (index 0) zero after a step"""
    case = {"config": {"embed_dim": 8, "hidden_dim": 12}, "seed": 4, "lengths": [9, 4, 1, 7]}
    got = check.student(probes.padding_row, case)
    for key, when in (("before", "after construction"), ("after", "after one SGD step")):
        row = expect_tensor(got[key], f"model.embedding.weight[0] {when}", case=case,
                            dtype=torch.float32, device=check.device)
        if bool(row.ne(0).any()):
            fail(f"model.embedding.weight[0] (padding) is not zero {when}", case=case,
                 expected=torch.zeros_like(row), got=row,
                 hint="nn.Embedding(vocab_size, embed_dim, padding_idx=0): the padding row "
                 "starts at zero and gets no gradient")


# ---------------------------------------------------------------------------- training

EPOCH_CASES = (
    {"seed": 5, "batch_sizes": [4, 4, 4], "lr": 0.5, "max_grad_norm": 0.3},
    {"seed": 6, "batch_sizes": [6, 6, 6, 2], "lr": 0.5, "max_grad_norm": 0.3},
    {"seed": 7, "batch_sizes": [5, 3], "lr": 0.5, "max_grad_norm": None},
    {"seed": 8, "batch_sizes": [5, 5, 1], "lr": 2.0, "max_grad_norm": "default"},
)
# Several batches, no clipping: where the gradients are zeroed shows in the weights. The
# first gradient of seed 53 has norm 1.6, so clipping when max_grad_norm is None shows too.
UNCLIPPED_CASES = (
    {"seed": 7, "batch_sizes": [5, 3], "lr": 0.5, "max_grad_norm": None},
    {"seed": 53, "batch_sizes": [2, 5, 4], "lr": 0.5, "max_grad_norm": None},
)
# One batch each (gradient norms 0.45 and 1.84): the clipped step does not depend on where
# the gradients are zeroed, only on clipping, and on the default max_grad_norm of 1.0.
CLIPPED_CASES = (
    {"seed": 5, "batch_sizes": [4], "lr": 0.5, "max_grad_norm": 0.3},
    {"seed": 62, "batch_sizes": [2], "lr": 0.5, "max_grad_norm": "default"},
)
# lr 0: the weights never move, so the returned loss depends on how it is averaged only.
LOSS_CASES = (
    {"seed": 6, "batch_sizes": [6, 6, 6, 2], "lr": 0.0, "max_grad_norm": None},
    {"seed": 8, "batch_sizes": [5, 5, 1], "lr": 0.0, "max_grad_norm": "default"},
)


def step_hint(got: dict, expected: dict, case: dict, device: str) -> str:
    """Explain a wrong update from the gradient norms each optimizer.step() saw."""
    norms = got["grad_norms"]
    if norms and all(norm == 0.0 for norm in norms):
        return ("the gradients were zero when optimizer.step() ran: call "
                "optimizer.zero_grad() before loss.backward(), not between backward and step")
    limit = 1.0 if case["max_grad_norm"] == "default" else case["max_grad_norm"]
    if limit is not None and any(norm > limit * 1.001 for norm in norms):
        return (f"a gradient of norm {max(norms):.4g} reached optimizer.step() although "
                f"max_grad_norm={limit}: clip with clip_grad_norm_ after backward() and "
                "before step()")
    if "zero_grad" not in got["events"] and len(norms) > 1:
        return ("optimizer.zero_grad() was never called: gradients of earlier batches add "
                "up into later steps; call it before each backward()")
    if limit is None and not agrees(torch.tensor(norms), torch.tensor(expected["grad_norms"]),
                                    device=device):
        return "with max_grad_norm=None, do not clip"
    return "compare your loop with the notes: zero_grad, forward, loss, backward, clip, step"


def judge_epoch_weights(check, case: dict) -> None:
    """The weights after train_one_epoch equal the reference's from the same start."""
    got, expected = check.both(probes.one_epoch, case)
    for name, reference in expected["parameters"].items():
        value = expect_tensor(got["parameters"].get(name), f"parameter {name} after the epoch",
                              case=case, dtype=torch.float32, device=check.device)
        assert_close(value, reference.value, f"parameter {name} after one epoch", case=case,
                     device=check.device,
                     hint=lambda a, e: step_hint(got, expected, case, check.device))


@pytest.mark.points(1)
def test_train_one_epoch_mode_and_steps(check):
    """train_one_epoch trains in training mode, every batch on the device, one step per batch"""
    for case in EPOCH_CASES:
        got = check.student(probes.one_epoch, case)
        if not got["calls"]:
            fail("train_one_epoch never ran the model", case=case)
        expect_modes(got["calls"], "train_one_epoch", training=True, case=case)
        devices = sorted({call["device"] for call in got["calls"]})
        if devices != [check.device]:
            fail(f"the model received batches on {devices}, not on {check.device}", case=case,
                 hint="move each batch's tensors to `device` with .to(device)")
        batches = len(case["batch_sizes"])
        if len(got["grad_norms"]) != batches:
            fail("optimizer.step() should run once per batch", case=case, expected=batches,
                 got=len(got["grad_norms"]))


@pytest.mark.points(1)
def test_train_one_epoch_updates(check):
    """train_one_epoch zeroes, backpropagates and steps per batch to the reference's weights"""
    for case in UNCLIPPED_CASES:
        judge_epoch_weights(check, case)


@pytest.mark.points(1)
def test_train_one_epoch_clips(check):
    """train_one_epoch clips the gradient norm to max_grad_norm (default 1.0) before step"""
    for case in CLIPPED_CASES:
        judge_epoch_weights(check, case)


@pytest.mark.points(1)
def test_train_one_epoch_loss(check):
    """train_one_epoch returns the epoch's mean loss per sample, as a Python float"""
    for case in LOSS_CASES:
        got, expected = check.both(probes.one_epoch, case)
        loss = expect_float(got["loss"], "train_one_epoch's return value", case=case)
        if not scalar_close(loss, expected["loss"], device=check.device):
            losses = [call["loss"] for call in expected["batch_losses"]]
            hint = known_mistake(loss, {
                "that is the average of the batch losses; return the mean per sample: "
                "sum(batch loss * batch size) / number of samples": sum(losses) / len(losses),
            }, device=check.device)
            fail("train_one_epoch returned the wrong mean loss per sample", case=case,
                 expected=expected["loss"], got=loss, hint=hint)


EVALUATE_CASES = (
    {"seed": 9, "batch_sizes": [4, 4, 4], "dropout": 0.5},
    {"seed": 10, "batch_sizes": [7, 7, 3], "dropout": 0.5},
    {"seed": 11, "batch_sizes": [3, 1], "dropout": 0.5},  # a last batch of one
)
# Without dropout the outputs do not depend on the mode, which test_evaluate_modes judges.
EVALUATE_OUTPUT_CASES = tuple({**case, "dropout": 0.0} for case in EVALUATE_CASES)


@pytest.mark.points(1)
def test_evaluate_modes(check):
    """evaluate runs the model in eval mode (dropout off) without gradient tracking"""
    for case in EVALUATE_CASES:
        got = check.student(probes.evaluation, case)
        if not got["calls"]:
            fail("evaluate never ran the model", case=case)
        expect_modes(got["calls"], "evaluate", training=False, case=case)


@pytest.mark.points(1)
def test_evaluate_outputs(check):
    """evaluate returns the mean loss per sample, P(soluble) and labels in the loader's order"""
    for case in EVALUATE_OUTPUT_CASES:
        got, expected = check.both(probes.evaluation, case)
        n = sum(case["batch_sizes"])
        probabilities = expect_tensor(got["probabilities"], "evaluate's probabilities",
                                      case=case, dtype=torch.float32, shape=(n,),
                                      device=check.device)
        reference = expected["probabilities"].value
        assert_close(probabilities, reference, "P(soluble)", case=case, device=check.device,
                     hint=lambda a, e: known_mistake(a, {
                         "these are P(insoluble): P(soluble) is column 1 of "
                         "softmax(logits, dim=-1)": 1 - e}, device=check.device,
                         default="P(soluble) = softmax(logits, dim=-1)[:, 1], in the loader's "
                         "order"))
        labels = expect_tensor(got["labels"], "evaluate's labels", case=case,
                               dtype=torch.int64, shape=(n,), device=check.device)
        if not torch.equal(labels, expected["labels"].value):
            fail("evaluate's labels are wrong or out of order", case=case,
                 expected=expected["labels"].value, got=labels)
        loss = expect_float(got["loss"], "evaluate's mean loss", case=case)
        if not scalar_close(loss, expected["loss"], device=check.device):
            fail("evaluate returned the wrong mean loss per sample", case=case,
                 expected=expected["loss"], got=loss,
                 hint="sum(batch loss * batch size) / number of samples")


# ---------------------------------------------------------------------------- train_model

# The bias scenario (probes.BiasModel): validation loss falls until epoch 7, then rises.
SCENARIO = {"train_batches": 2, "val_soluble": 8, "lr": 0.05}


def history_of(got: dict, case: dict) -> list[float]:
    """The validation losses, once the return value and history are validated."""
    if "result" in got:
        fail("train_model should return a tuple (model, history)", case=case,
             got=got["result"], expected="(model, {'train_loss': [...], 'val_loss': [...]})")
    lists = expect_history(got["history"], "train_model's history", ("train_loss", "val_loss"),
                           case=case)
    if len(got["snapshots"]) != len(lists["val_loss"]):
        fail("the validation loader should be evaluated once per epoch", case=case,
             expected=len(lists["val_loss"]), got=len(got["snapshots"]))
    return lists["val_loss"]


# train_model's checks run the submission's own epoch and evaluation.
TRAIN_MODEL_USES = pytest.mark.uses(
    train_one_epoch=[test_train_one_epoch_mode_and_steps, test_train_one_epoch_updates,
                     test_train_one_epoch_clips, test_train_one_epoch_loss],
    evaluate=[test_evaluate_modes, test_evaluate_outputs])


@pytest.mark.points(1)
@TRAIN_MODEL_USES
def test_train_model_runs(check):
    """train_model trains with AdamW(lr), one history entry per epoch, no files written"""
    # A last training batch of one: the kit's batch-of-one rule.
    case = {**SCENARIO, "epochs": 5, "patience": None, "last_train_batch": 1}
    got = check.student(probes.early_stopping, case)
    if got["files"]:
        fail(f"train_model wrote files in the working directory: {got['files']}", case=case,
             hint="keep the best weights in memory (copy.deepcopy(model.state_dict())), "
             "not in a checkpoint file")
    made = [(o["class"], o["lr"]) for o in got["optimizers"]]
    if ("AdamW", case["lr"]) not in made:
        fail("train_model should train with torch.optim.AdamW(model.parameters(), lr=lr)",
             case=case, expected=[("AdamW", case["lr"])], got=made)
    val_loss = history_of(got, case)
    if len(val_loss) != case["epochs"]:
        fail("without patience, train_model runs every epoch", case=case,
             expected=case["epochs"], got=len(val_loss))


def same_weights(a: dict, b: dict) -> bool:
    """Whether two {name: Returned tensor} dicts hold the same weights."""
    return all(torch.allclose(a[name].value, b[name].value, rtol=1e-6, atol=1e-7) for name in b)


@pytest.mark.points(1)
@TRAIN_MODEL_USES
def test_train_model_restores_best_epoch(check):
    """train_model returns the weights of the best validation epoch, not the last"""
    case = {**SCENARIO, "epochs": 12, "patience": None}
    got = check.student(probes.early_stopping, case)
    val_loss = history_of(got, case)
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    returned = got["returned"]
    for name in got["snapshots"][best]:
        expect_tensor(returned.get(name), f"returned model's {name}", case=case,
                      dtype=torch.float32, device=check.device)
    if same_weights(returned, got["snapshots"][best]):
        return
    last = len(val_loss) - 1
    which = next((f"those of epoch {e + 1}" for e in (last, *range(last))
                  if same_weights(returned, got["snapshots"][e])), "from no epoch")
    fail(f"the returned weights are {which}, not those of the best validation epoch "
         f"{best + 1} (lowest val_loss {val_loss[best]:.4f})", case=case,
         hint="at the end, load the best epoch's weights (model.load_state_dict(best_state)); "
         "save them as a copy (copy.deepcopy(model.state_dict())): state_dict() returns the "
         "live tensors, which later epochs overwrite")


@pytest.mark.points(1)
@TRAIN_MODEL_USES
def test_train_model_early_stopping(check):
    """train_model stops after exactly `patience` epochs without improvement"""
    for patience in (3, 1, 6):
        case = {**SCENARIO, "epochs": 12, "patience": patience}
        got = check.student(probes.early_stopping, case)
        val_loss = history_of(got, case)
        ran = len(val_loss)
        wanted = early_stopping_epochs(val_loss, case["epochs"], patience)
        if ran != wanted:
            best = min(range(ran), key=val_loss.__getitem__) + 1
            fail(f"with patience={patience}, training should stop after epoch {wanted}",
                 case=case, expected=f"{wanted} epochs", got=f"{ran} epochs "
                 f"(val_loss {show([round(v, 4) for v in val_loss])})",
                 hint=f"the best epoch is {best}; stop once `patience` epochs in a row bring "
                 f"no new best: after epoch {best} + {patience}, not one later or earlier")


# ---------------------------------------------------------------------------- the pipeline

# One point: a failure here mostly follows from a mistake the checks above already counted
# (the feedback then names it). A small model, five epochs on proteins truncated to 150
# residues: about 1.6 CPU-s on one thread (six epochs of 200 residues at lr 3e-3 took 2.6 and
# reached the same AUCs: min 0.841, mean 0.866). The reference's test AUC with this case over
# seeds 0-9 (2 CPU cores shared, torch 2.13): 0.858 0.845 0.852 0.842 0.858 0.862 0.876 0.866
# 0.836 0.870 (min 0.836, mean 0.856).
# The threshold leaves a margin of 0.08 below the minimum, a different initialisation or
# batch order in a correct submission moves it by about 0.015. For orientation: a logistic
# regression on amino-acid composition reaches 0.74 on this test split; a submission whose
# optimizer steps with zeroed gradients (the mutant zero_grad_after_backward) reaches 0.45-0.57
# (seeds 0-2).
PIPELINE = {"seed": 0, "config": {"embed_dim": 16, "hidden_dim": 32}, "epochs": 5, "lr": 5e-3,
            "batch_size": 32, "max_len": 150}
AUC_THRESHOLD = 0.75


@pytest.mark.points(1)
@pytest.mark.call_timeout(60)
@pytest.mark.full_grade_only  # seconds of training: too slow for a checkoff
@pytest.mark.uses(
    ProteinDataset=[test_dataset_encoding],
    collate_proteins=[test_collate],
    ProteinSolubilityClassifier=[test_model_structure, test_model_matches_reference,
                                 test_pooling_ignores_padding, test_padding_embedding_stays_zero],
    train_one_epoch=[test_train_one_epoch_mode_and_steps, test_train_one_epoch_updates,
                     test_train_one_epoch_clips, test_train_one_epoch_loss],
    evaluate=[test_evaluate_modes, test_evaluate_outputs],
    train_model=[test_train_model_runs, test_train_model_restores_best_epoch,
                 test_train_model_early_stopping],
)
def test_pipeline_reaches_auc(check):
    """train_model reaches the test AUC threshold on the embedded data, with the whole pipeline"""
    case = PIPELINE
    got = check.student(probes.pipeline, case)
    probabilities = expect_tensor(got["probabilities"], "evaluate's probabilities on the test "
                                  "split", case=case, dtype=torch.float32, device=check.device)
    labels = expect_tensor(got["labels"], "evaluate's labels on the test split", case=case,
                           dtype=torch.int64, device=check.device)
    auc = float(roc_auc_score(labels.tolist(), probabilities.tolist()))
    if auc < AUC_THRESHOLD:
        fail(f"test AUC {auc:.3f} is below the threshold {AUC_THRESHOLD}", case=case,
             hint="the checks above point at the failing piece; an AUC below 0.5 means the "
             "probabilities rank the classes the wrong way round")
