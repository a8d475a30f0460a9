"""Independently written mcc modules for the class report's similarity self-test.

Solution text: kept beside the reference, where no worker can read it and no release
ships it (`solutions/` is hidden and left out).

Each module is the stub with its function bodies filled in (`filled`): `loops` and
`matrix` were written separately from each other and from the reference, and
`loops_renamed` is `loops` with its variables renamed and comments added: a near-copy.
All four get full marks (graded by hand when they were written; this self-test does not
grade them).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from grader import ROOT

LOOPS = {
    "_check_lengths": '''
        if y_true.ndim != 1 or y_pred.ndim != 1:
            raise ValueError("both label vectors must be one-dimensional")
        if y_true.numel() == 0:
            raise ValueError("no samples")
        if y_true.numel() != y_pred.numel():
            raise ValueError("y_true and y_pred differ in length")
    ''',
    "_check_binary_labels": '''
        _check_lengths(y_true, y_pred)
        truth, guess = y_true.to(torch.int64), y_pred.to(torch.int64)
        if not torch.equal(truth.to(y_true.dtype), y_true) or truth.min() < 0 or truth.max() > 1:
            raise ValueError("y_true holds a value other than 0 and 1")
        if not torch.equal(guess.to(y_pred.dtype), y_pred) or guess.min() < 0 or guess.max() > 1:
            raise ValueError("y_pred holds a value other than 0 and 1")
        return truth, guess
    ''',
    "confusion_counts": '''
        truth, guess = _check_binary_labels(y_true, y_pred)
        cells = torch.bincount(2 * truth + guess, minlength=4)
        tn, fp, fn, tp = cells[0], cells[1], cells[2], cells[3]
        return tp, tn, fp, fn
    ''',
    "matthews_corrcoef": '''
        counts = [c.to(torch.float64) for c in confusion_counts(y_true, y_pred)]
        tp, tn, fp, fn = counts
        factors = [tp + fp, tp + fn, tn + fp, tn + fn]
        for factor in factors:
            if factor.item() == 0:
                return torch.tensor(0.0, dtype=torch.float64, device=y_true.device)
        bottom = torch.sqrt(factors[0] * factors[1] * factors[2] * factors[3])
        return (tp * tn - fp * fn) / bottom
    ''',
    "multiclass_mcc": '''
        _check_lengths(y_true, y_pred)
        for labels in (y_true, y_pred):
            if labels.min() < 0 or labels.max() >= num_classes or labels.is_floating_point() \\
                    and not torch.equal(labels.floor(), labels):
                raise ValueError(f"labels must be classes 0..{num_classes - 1}")
        table = torch.zeros(num_classes, num_classes, dtype=torch.float64, device=y_true.device)
        for k in range(num_classes):
            for j in range(num_classes):
                table[k, j] = ((y_true == k) & (y_pred == j)).sum()
        n = table.sum()
        correct = torch.diagonal(table).sum()
        true_totals, pred_totals = table.sum(1), table.sum(0)
        top = correct * n - torch.dot(true_totals, pred_totals)
        bottom = ((n ** 2 - torch.dot(pred_totals, pred_totals))
                  * (n ** 2 - torch.dot(true_totals, true_totals)))
        if bottom.item() == 0:
            return torch.tensor(0.0, dtype=torch.float64, device=y_true.device)
        return top / torch.sqrt(bottom)
    ''',
    "evaluate_classifier": '''
        model.eval()
        all_true, all_pred, all_score = [], [], []
        with torch.no_grad():
            for batch in loader:
                out = model(batch["sequence"].to(device), batch["mask"].to(device))
                all_score.append(torch.softmax(out, dim=1)[:, 1].cpu())
                all_pred.append(out.argmax(1).cpu())
                all_true.append(batch["label"].cpu())
        truth, guess = torch.cat(all_true), torch.cat(all_pred)
        tp, tn, fp, fn = [int(c) for c in confusion_counts(truth, guess)]
        precision = tp / (tp + fp) if (tp + fp) > 0 else 0.0
        recall = tp / (tp + fn) if (tp + fn) > 0 else 0.0
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        return {"accuracy": (tp + tn) / truth.numel(), "precision": precision, "recall": recall,
                "f1": f1, "auc": float(roc_auc_score(truth.numpy(), torch.cat(all_score).numpy())),
                "mcc": float(matthews_corrcoef(truth, guess))}
    ''',
}

MATRIX = {
    "_check_lengths": '''
        shapes = (tuple(y_true.shape), tuple(y_pred.shape))
        if len(shapes[0]) != 1 or shapes[0] != shapes[1] or shapes[0][0] < 1:
            raise ValueError(f"need two non-empty 1-D label tensors of one length, got {shapes}")
    ''',
    "_check_binary_labels": '''
        _check_lengths(y_true, y_pred)
        out = []
        for what, x in zip(("y_true", "y_pred"), (y_true, y_pred)):
            allowed = torch.tensor([0.0, 1.0], dtype=torch.float64, device=x.device)
            ok = torch.isin(x.double(), allowed)
            if not bool(ok.all()):
                raise ValueError(f"{what}: only 0 and 1 allowed")
            out.append(x.long())
        return out[0], out[1]
    ''',
    "confusion_counts": '''
        t, p = _check_binary_labels(y_true, y_pred)
        both = torch.stack([t, p])
        tp = (both.sum(0) == 2).sum()
        tn = (both.sum(0) == 0).sum()
        fp = ((p - t) == 1).sum()
        fn = ((t - p) == 1).sum()
        return tp, tn, fp, fn
    ''',
    "matthews_corrcoef": '''
        tp, tn, fp, fn = map(torch.Tensor.double, confusion_counts(y_true, y_pred))
        d = torch.stack([tp + fp, tp + fn, tn + fp, tn + fn]).prod()
        if d == 0:
            return y_true.new_zeros((), dtype=torch.float64)
        return (tp * tn - fp * fn) * d.rsqrt()
    ''',
    "multiclass_mcc": '''
        _check_lengths(y_true, y_pred)
        k = num_classes
        valid = lambda x: bool(((x >= 0) & (x < k) & (x == x.round())).all())  # noqa: E731
        if not (valid(y_true) and valid(y_pred)):
            raise ValueError(f"classes must lie in [0, {k})")
        onehot_t = torch.nn.functional.one_hot(y_true.long(), k).double()
        onehot_p = torch.nn.functional.one_hot(y_pred.long(), k).double()
        cm = onehot_t.T @ onehot_p
        s, c = cm.sum(), cm.trace()
        t, p = cm.sum(dim=1), cm.sum(dim=0)
        d = (s * s - (p * p).sum()) * (s * s - (t * t).sum())
        zero = y_true.new_zeros((), dtype=torch.float64)
        return zero if d == 0 else (c * s - (p * t).sum()) / d.sqrt()
    ''',
    "evaluate_classifier": '''
        model.eval()
        rows = []
        with torch.inference_mode():
            for b in loader:
                logits = model(b["sequence"].to(device), b["mask"].to(device))
                rows.append((b["label"].to(device), logits.argmax(-1), logits.softmax(-1)[:, 1]))
        y, yhat, prob = (torch.cat(column) for column in zip(*rows))
        tp, tn, fp, fn = (v.item() for v in confusion_counts(y, yhat))
        safe = lambda a, b: a / b if b else 0.0  # noqa: E731
        prec, rec = safe(tp, tp + fp), safe(tp, tp + fn)
        return dict(accuracy=(tp + tn) / y.numel(), precision=prec, recall=rec,
                    f1=safe(2 * prec * rec, prec + rec),
                    auc=float(roc_auc_score(y.cpu().numpy(), prob.cpu().numpy())),
                    mcc=matthews_corrcoef(y, yhat).item())
    ''',
}

RENAMES = {"truth": "labels_true", "guess": "labels_hat", "cells": "quadrants",
           "factors": "terms", "bottom": "denom", "table": "conf", "top": "numer",
           "all_true": "ys", "all_pred": "preds", "all_score": "probs", "out": "logits"}


def renamed(bodies: dict[str, str]) -> dict[str, str]:
    """`bodies` with RENAMES applied to whole words and comments added: what a student
    hiding a copy does."""
    result = {}
    for name, body in bodies.items():
        text = re.sub(r"\b(" + "|".join(RENAMES) + r")\b", lambda m: RENAMES[m.group(1)], body)
        text = text.replace('        precision = ', '        # precision and recall\n'
                            '        precision = ')
        result[name] = "\n        # my own work" + text
    return result


def filled(bodies: dict[str, str]) -> str:
    """The mcc stub with each function's `raise NotImplementedError` replaced by its body."""
    text = (ROOT / "exercises" / "mcc.py").read_text()
    for name, body in bodies.items():
        stub_line = f'    raise NotImplementedError("mcc: {name}")'
        assert stub_line in text, name
        text = text.replace(stub_line, textwrap.indent(textwrap.dedent(body).strip("\n"), "    "))
    return text


def reference_with_comments_changed() -> str:
    """The reference, its comments reworded (the solution markers dropped)."""
    lines = []
    for line in (ROOT / "solutions" / "mcc.py").read_text().splitlines():
        code, _, comment = line.partition("  # ")
        if line.strip().startswith("#"):
            continue
        lines.append(f"{code}  # note: {comment[::-1]}" if comment else line)
    return "\n".join(lines) + "\n"


def write_modules(folder: Path) -> dict[str, Path]:
    """{name: path} of the modules above, written under `folder`."""
    modules = {"loops": filled(LOOPS), "loops_renamed": filled(renamed(LOOPS)),
               "matrix": filled(MATRIX), "reference_recommented": reference_with_comments_changed()}
    paths = {}
    for name, text in modules.items():
        paths[name] = folder / name / "mcc.py"
        paths[name].parent.mkdir(parents=True, exist_ok=True)
        paths[name].write_text(text)
    return paths
