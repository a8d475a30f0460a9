"""The judge's reading of a submission's source (isolation.source_rules), and tampering at
run time.

By hand: a named class or function that refers to a library callable its exercise asks
students to write, through any alias. Tampering: a submission that reaches into the grader
is not run (read in its source), or is caught when a probe's world changed under it (at
run time); either way no check of its exercise counts, and results.json says why.
"""

from __future__ import annotations

import pytest

from grader import ROOT
from grader.exercises import exercise_names
from grader.isolation import by_hand, source_rules
from grader.judging import feedback, reports
from grader.tests.grading import BY_HAND_MUTANTS, failing_checks, run_grader, variants

SHORTCUTS = '''
import sys
import torch
import torch.optim as optim
from sklearn import metrics
from torch.optim import Adam as TorchAdam

Base = optim.SGD


class SGDMomentum(Base):
    pass


def _adam_class():
    return TorchAdam


class Adam(torch.optim.Optimizer):
    def step(self, closure=None):
        return _adam_class().step(self, closure)


class AdamW(torch.optim.Optimizer):
    def step(self, closure=None):
        return torch.optim.adamw.AdamW.step(self, closure)


def matthews_corrcoef(y_true, y_pred):
    return metrics.matthews_corrcoef(y_true, y_pred)


def multiclass_mcc(y_true, y_pred, num_classes):
    from sklearn.metrics import matthews_corrcoef as mcc
    return mcc(y_true, y_pred)
'''


def _read(tmp_path, source: str, exercise: str) -> source_rules.SourceFindings:
    path = tmp_path / f"{exercise}.py"
    path.write_text(source)
    return source_rules.read(path, by_hand.rule_of(exercise))


def _by_hand(tmp_path, source: str, exercise: str) -> dict[str, str]:
    """{class or function: the rule it breaks, as the student reads it}."""
    return {finding.owner: feedback.by_hand_rule(finding)
            for finding in _read(tmp_path, source, exercise).by_hand}


def test_by_hand_follows_imports_aliases_subclasses_and_helpers(tmp_path):
    assert _by_hand(tmp_path, SHORTCUTS, "optimizers") == {
        "SGDMomentum": "line 11: SGDMomentum subclasses torch.optim.SGD; write the update "
                       "rule yourself",
        "Adam": "line 16: Adam (through _adam_class) uses torch.optim.Adam; write the update "
                "rule yourself",
        # torch.optim.adamw.AdamW is torch.optim.AdamW: the same class, by another path
        "AdamW": "line 26: AdamW uses torch.optim.AdamW; write the update rule yourself",
    }
    assert _by_hand(tmp_path, SHORTCUTS, "mcc") == {
        "matthews_corrcoef": "line 30: matthews_corrcoef uses sklearn.metrics.matthews_corrcoef;"
                             " compute the MCC yourself",
        "multiclass_mcc": "line 35: multiclass_mcc uses sklearn.metrics.matthews_corrcoef; "
                          "compute the MCC yourself",
    }


@pytest.mark.parametrize(("code", "found"), [
    ("import tests.probes.mcc as probes", "line 1: imports the grader's module tests.probes.mcc"),
    ("from grader import wire", "line 1: imports the grader's module grader"),
    ("import sys\nsys.modules['tests.probes.mcc'].x = 1", "line 2: uses sys.modules"),
    ("import gc\nobjects = gc.get_objects()", "line 2: uses gc.get_objects"),
    ("import builtins\nbuiltins.len = lambda x: 0", "line 2: uses builtins.len"),
    ("def f(model):\n    return model.forward.__globals__", "line 2: reads __globals__"),
    ("import sys\nframe = sys._getframe(1).f_back", "line 2: uses sys._getframe"),
    ("probes = __import__('tests.probes.mcc')", "line 1: uses __import__"),
])
def test_tampering_is_read_in_the_source(tmp_path, code, found):
    messages = [feedback.tampering((fact,)) for fact in _read(tmp_path, code, "mcc").tampering]
    [message] = [m for m in messages if m.startswith(found)]
    assert "never the grader's modules or the interpreter's internals" in message


def test_no_known_correct_or_hostile_submission_is_flagged(tmp_path):
    """False positives: the references, alternatives, mutants (but the by-hand shortcuts)
    and hostile variants of every exercise break no rule in their source."""
    flagged = {}
    for exercise in exercise_names():
        for kind in ("MUTANTS", "ALTERNATIVES", "HOSTILE"):
            for variant in variants(exercise, kind):
                findings = _read(tmp_path, variant.source(exercise), exercise)
                if findings.tampering or findings.by_hand:
                    flagged[f"{exercise}.{variant.name}"] = findings
    assert set(flagged) == {f"{exercise}.{mutant}" for exercise, mutant, _ in BY_HAND_MUTANTS}
    assert not any(findings.tampering for findings in flagged.values())


# Appended to the stub: replaces the probe of confusion_counts with one that answers right.
REPLACES_PROBE = '''
{reach}


def _right_counts(impl, case, device):
    import torch
    y_true, y_pred = torch.tensor(case["y_true"]).long(), torch.tensor(case["y_pred"]).long()
    return tuple(torch.tensor(int(count)) for count in (
        ((y_true == 1) & (y_pred == 1)).sum(), ((y_true == 0) & (y_pred == 0)).sum(),
        ((y_true == 0) & (y_pred == 1)).sum(), ((y_true == 1) & (y_pred == 0)).sum()))


_probes.confusion_counts = _right_counts
'''
REACHES = {
    # named in the source: never run
    "imports_the_probes": ("import tests.probes.mcc as _probes",
                           "imports the grader's module tests.probes.mcc"),
    # hidden from the source: caught when the probe's module changed under it
    "execs_the_import": ('exec("import tests.probes.mcc as _probes", globals())',
                         "changed the grader's tests.probes.mcc.confusion_counts"),
    # ... and when sys.modules holds something else than a module under the probe's name
    "swaps_the_module": ('exec("import sys, tests.probes.mcc as _probes; '
                         'sys.modules[\'tests.probes.mcc\'] = 0", globals())',
                         "changed the grader's tests.probes.mcc.__name__"),
}


def test_a_submission_that_replaces_a_probe_scores_zero_and_is_flagged(tmp_path):
    text = (ROOT / "exercises" / "mcc.py").read_text()
    for name, (reach, _) in REACHES.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "mcc.py").write_text(text + REPLACES_PROBE.format(reach=reach))
    process = run_grader("grade", "--exercise", "mcc", "--device", "cpu", "--quick",
                         "--check", "confusion_counts", "--out", str(tmp_path / "out"),
                         *(f"--target={tmp_path / name}" for name in REACHES))
    assert process.returncode == 0, process.stderr
    for name, (_, phrase) in REACHES.items():
        results = reports.load(tmp_path / "out" / name / "results.json")
        mcc = results.exercise("mcc")
        assert mcc.score == 0 and mcc.max_score > 0, name
        assert any(phrase in line for line in mcc.tampering), (name, mcc.tampering)
        # ... and as the typed fact of the run that found it, which the class report counts
        assert any(phrase in run.tampering for check in mcc.checks for run in check.runs), name
        failing = failing_checks(results)
        assert failing and all("tampering" in text for text in failing.values()), failing
