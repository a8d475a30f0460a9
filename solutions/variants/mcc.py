"""Known mistakes, correct alternatives and hostile submissions for the `mcc` exercise."""

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (8, 3)

MUTANTS = [
    Variant(
        name="calls_sklearn_mcc",
        description="returns scikit-learn's matthews_corrcoef after the handout's validation",
        definitions='''
        from sklearn.metrics import matthews_corrcoef as sklearn_mcc


        def matthews_corrcoef(y_true, y_pred):
            y_true, y_pred = _check_binary_labels(y_true, y_pred)
            value = sklearn_mcc(y_true.cpu().numpy(), y_pred.cpu().numpy())
            return torch.tensor(value, dtype=torch.float64, device=y_true.device)


        def multiclass_mcc(y_true, y_pred, num_classes):
            _check_lengths(y_true, y_pred)
            for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
                bad = (labels < 0) | (labels >= num_classes) | (labels != labels.long())
                if bool(bad.any()):
                    raise ValueError(f"{name} must hold classes 0..{num_classes - 1}")
            value = sklearn_mcc(y_true.cpu().numpy(), y_pred.cpu().numpy())
            return torch.tensor(value, dtype=torch.float64, device=y_true.device)
        ''',
        expect="uses sklearn.metrics.matthews_corrcoef; compute the MCC yourself",
    ),
    Variant(
        name="no_zero_guard",
        description="divides by a zero denominator: nan when a class is absent",
        replace=((
            "    if denominator == 0:\n        return torch.zeros((), dtype=torch.float64, "
            "device=y_true.device)\n    return (tp * tn - fp * fn) / denominator.sqrt()",
            "    return (tp * tn - fp * fn) / denominator.sqrt()",
        ),),
        expect="return 0.0 in that case",
    ),
    Variant(
        name="int64_overflow",
        full=True,  # its symptom shows on millions of samples only
        description="multiplies the counts as int64: overflows for millions of samples",
        replace=(
            ("tp, tn, fp, fn = (count.double() for count in", "tp, tn, fp, fn = (count for count in"),
            ("    return (tp * tn - fp * fn) / denominator.sqrt()",
             "    return (tp * tn - fp * fn) / denominator.double().sqrt()"),
        ),
        expect="int64 range",
    ),
    Variant(
        name="fp_fn_swapped",
        full=True,  # test_class_grading expects its whole grade
        description="counts a false positive as truth 1, prediction 0",
        replace=((
            "    fp = ((y_true == 0) & (y_pred == 1)).sum()\n    fn = ((y_true == 1) & (y_pred == 0)).sum()",
            "    fp = ((y_true == 1) & (y_pred == 0)).sum()\n    fn = ((y_true == 0) & (y_pred == 1)).sum()",
        ),),
        expect="fp and fn are swapped",
    ),
    Variant(
        name="sign_flipped",
        full=True,  # test_class_grading expects its whole grade
        description="writes the numerator as FP*FN - TP*TN",
        replace=(("return (tp * tn - fp * fn) / denominator.sqrt()",
                  "return (fp * fn - tp * tn) / denominator.sqrt()"),),
        expect="sign is flipped",
    ),
    Variant(
        name="returns_python_float",
        description="returns .item(), a Python float, instead of a tensor",
        replace=(("return (tp * tn - fp * fn) / denominator.sqrt()",
                  "return ((tp * tn - fp * fn) / denominator.sqrt()).item()"),),
        expect="should return a torch.Tensor",
    ),
    Variant(
        name="counts_as_python_ints",
        description="returns the counts as Python ints",
        replace=(("    return tp, tn, fp, fn\n", "    return tp.item(), tn.item(), fp.item(), fn.item()\n"),),
        expect="should return a torch.Tensor",
    ),
    Variant(
        name="no_validation",
        description="never raises ValueError: mismatched lengths broadcast or crash elsewhere",
        definitions='''
        def _check_binary_labels(y_true, y_pred):
            return y_true.long(), y_pred.long()
        ''',
        expect="should raise ValueError",
    ),
    Variant(
        name="macro_average_multiclass",
        description="averages one-vs-rest binary MCCs instead of Gorodkin's R_K",
        definitions='''
        def multiclass_mcc(y_true, y_pred, num_classes):
            scores = [
                matthews_corrcoef((y_true == k).long(), (y_pred == k).long())
                for k in range(num_classes)
            ]
            return torch.stack(scores).mean()
        ''',
        expect="not the mean of one-vs-rest",
    ),
    Variant(
        name="evaluate_in_train_mode",
        description="forgets model.eval(): dropout stays on while evaluating",
        replace=(("    model.eval()\n", ""),),
        expect="call model.eval()",
    ),
    Variant(
        name="evaluate_with_gradients",
        description="evaluates without torch.no_grad()",
        replace=(("@torch.no_grad()\ndef evaluate_classifier", "def evaluate_classifier"),
                 ("probabilities.append(logits.softmax(dim=-1)[:, 1])",
                  "probabilities.append(logits.softmax(dim=-1)[:, 1].detach())")),
        expect="torch.no_grad()",
    ),
    Variant(
        name="auc_of_wrong_class",
        description="ranks by P(class 0) when computing the AUC",
        replace=(("logits.softmax(dim=-1)[:, 1]", "logits.softmax(dim=-1)[:, 0]"),),
        expect="the AUC is 1 - expected",
    ),
    Variant(
        name="metric_as_tensor",
        description="evaluate_classifier returns the MCC as a 0-dim tensor, not a Python float",
        replace=(
            (
                '"mcc": matthews_corrcoef(y_true, y_pred).item(),',
                '"mcc": matthews_corrcoef(y_true, y_pred),',
            ),
        ),
        expect="should be a Python float",
    ),
]

ALTERNATIVES = [
    Variant(
        name="numpy_based",
        description="computes counts and MCC with numpy, then returns tensors on the device",
        definitions='''
        import numpy as np

        def confusion_counts(y_true, y_pred):
            y_true, y_pred = _check_binary_labels(y_true, y_pred)
            t, p = y_true.cpu().numpy(), y_pred.cpu().numpy()
            counts = (((t == 1) & (p == 1)).sum(), ((t == 0) & (p == 0)).sum(),
                      ((t == 0) & (p == 1)).sum(), ((t == 1) & (p == 0)).sum())
            return tuple(torch.tensor(int(c), device=y_true.device) for c in counts)

        def matthews_corrcoef(y_true, y_pred):
            tp, tn, fp, fn = (float(c) for c in confusion_counts(y_true, y_pred))
            denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            value = 0.0 if denominator == 0 else (tp * tn - fp * fn) / denominator
            return torch.tensor(value, dtype=torch.float64, device=y_true.device)
        ''',
    ),
    Variant(
        name="float32_result",
        description="returns the MCC in float32, computed from a float64 product",
        replace=(("    return (tp * tn - fp * fn) / denominator.sqrt()\n",
                  "    return ((tp * tn - fp * fn) / denominator.sqrt()).float()\n"),),
    ),
    Variant(
        name="bincount_confusion",
        description="builds the 2x2 confusion matrix with bincount",
        definitions='''
        def confusion_counts(y_true, y_pred):
            y_true, y_pred = _check_binary_labels(y_true, y_pred)
            cells = torch.bincount(2 * y_true + y_pred, minlength=4)  # tn, fp, fn, tp
            return cells[3], cells[0], cells[1], cells[2]
        ''',
    ),
    Variant(
        name="sqrt_of_each_factor",
        description="takes square roots factor by factor, a numerically gentler form",
        definitions='''
        def matthews_corrcoef(y_true, y_pred):
            tp, tn, fp, fn = (c.double() for c in confusion_counts(y_true, y_pred))
            factors = torch.stack([tp + fp, tp + fn, tn + fp, tn + fn])
            if bool((factors == 0).any()):
                return torch.zeros((), dtype=torch.float64, device=y_true.device)
            return (tp * tn - fp * fn) / factors.sqrt().prod()
        ''',
    ),
]

HOSTILE = [
    Variant(
        name="hangs",
        # In the function fewest checks call: each hang spins a core until its time limit.
        description="loops forever in multiclass_mcc",
        definitions='''
        def multiclass_mcc(y_true, y_pred, num_classes):
            while True:
                pass
        ''',
        expect="timed out",
        keeps=("test_confusion_counts_match_sklearn", "test_mcc_matches_sklearn"),
    ),
    Variant(
        name="os_exit",
        description="kills its own process from multiclass_mcc",
        definitions='''
        import os

        def multiclass_mcc(y_true, y_pred, num_classes):
            os._exit(3)
        ''',
        expect="exited with code 3",
        keeps=("test_confusion_counts_match_sklearn", "test_mcc_matches_sklearn"),
    ),
    Variant(
        name="sys_exit",
        description="calls sys.exit in confusion_counts",
        definitions='''
        import sys

        def confusion_counts(y_true, y_pred):
            sys.exit(0)
        ''',
        expect="called sys.exit(0)",
        keeps=("test_multiclass_mcc_matches_sklearn",),
    ),
    Variant(
        name="segfault",
        description="dies of a segmentation fault in multiclass_mcc",
        definitions='''
        import os
        import signal

        def multiclass_mcc(y_true, y_pred, num_classes):
            os.kill(os.getpid(), signal.SIGSEGV)
        ''',
        expect="segmentation fault",
        keeps=("test_mcc_matches_sklearn",),
    ),
    Variant(
        name="raises_on_import",
        description="raises at import time",
        replace=(("from torch import Tensor\n",
                  "from torch import Tensor\n\nraise RuntimeError('broken at import')\n"),),
        expect="could not import mcc.py: RuntimeError: broken at import",
    ),
    Variant(
        name="syntax_error",
        description="does not parse",
        replace=(("def confusion_counts(", "def confusion_counts(:"),),
        expect="SyntaxError",
    ),
    Variant(
        name="missing_function",
        description="has no multiclass_mcc",
        replace=(("def multiclass_mcc(", "def multiclass_mcc_unused("),),
        expect="has no attribute 'multiclass_mcc'",
        keeps=("test_mcc_matches_sklearn", "test_confusion_counts_match_sklearn"),
    ),
    Variant(
        name="wrong_type",
        description="returns a list from multiclass_mcc",
        definitions='''
        def multiclass_mcc(y_true, y_pred, num_classes):
            return [0.0]
        ''',
        expect="should return a torch.Tensor, but returned a list",
        keeps=("test_mcc_matches_sklearn",),
    ),
    Variant(
        name="exhausts_memory",
        description="asks for 50 GB in multiclass_mcc",
        definitions='''
        def multiclass_mcc(y_true, y_pred, num_classes):
            torch.ones(50 * 2**30, dtype=torch.uint8)
        ''',
        expect="ran out of memory",
        keeps=("test_mcc_matches_sklearn",),
    ),
    Variant(
        name="floods_output",
        description="prints megabytes in every call, and is otherwise correct",
        replace=(("    tp = ((y_true == 1) & (y_pred == 1)).sum()\n",
                  "    print('x' * 2_000_000)\n    tp = ((y_true == 1) & (y_pred == 1)).sum()\n"),),
        keeps=("test_confusion_counts_match_sklearn", "test_mcc_matches_sklearn",
               "test_evaluate_classifier_matches_reference"),
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "confusion_counts": Batched("y_true"),
    "matthews_corrcoef": Batched("y_true"),
    "multiclass_mcc": Batched("y_true"),
    "evaluate_classifier": Batched("loader", batches=True),
}
