"""Grading suite of the `network_basics` exercise.

Oracles computed here judge every check: the classifier's logits from F.linear with the
case's weights; parameter counts and the expected module tree from networks built here
from the very cases the submission is given (tests/probes/network_basics.build_network).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings

from grader.isolation.wire import Returned
from grader.judging.judge import (
    assert_close,
    describe_type,
    expect_tensor,
    fail,
    known_mistake,
    per_case,
)
from tests import strategies
from tests.probes import network_basics as probes

EXERCISE_POINTS = 20

# --- EnzymeClassifier ---------------------------------------------------------------------

SIZES = "20 -> 128 -> 64 -> 32 -> 4"
EXPECTED_PARAMETERS = {
    f"{name}.{kind}": list(shape) if kind == "weight" else [shape[0]]
    for name, shape in probes.LAYER_SHAPES.items() for kind in ("weight", "bias")
}
CLASSIFIER_CASES = ({"seed": 0, "batch": 6}, {"seed": 1, "batch": 1}, {"seed": 2, "batch": 32})


def parameters_hint(got: dict) -> str:
    names = ("four nn.Linear layers named fc1, fc2, fc3, fc4 (each with a bias) and no other "
             f"parameters: {SIZES}")
    missing = [name for name in EXPECTED_PARAMETERS if name not in got]
    unexpected = [name for name in got if name not in EXPECTED_PARAMETERS]
    if missing or unexpected:
        found = (f"missing {missing}" if missing else "") + (
            f"{'; ' if missing else ''}unexpected {unexpected}" if unexpected else "")
        return f"{found}: the classifier has {names}"
    name = next(name for name, shape in EXPECTED_PARAMETERS.items() if got[name] != shape)
    return (f"{name} has shape {got[name]}, expected {EXPECTED_PARAMETERS[name]}: the sizes are "
            f"{SIZES} (nn.Linear(in_features, out_features) stores its weight as (out, in))")


def check_loaded(got: dict, case: dict, what: str) -> None:
    """Fail when the case's weights could not be loaded into the classifier."""
    if not got["fits"]:
        fail(f"{what}: the case's weights cannot be loaded, because EnzymeClassifier's "
             "parameters are not fc1..fc4 with the handout's shapes (see the parameter check)",
             case=case, hint=f"four nn.Linear layers named fc1, fc2, fc3, fc4: {SIZES}")


@per_case
def classifier_oracle(case: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The right logits (B, 4) in float64 for the case's weights and {advice: logits} of
    known wrong classifiers."""
    weights = {name: w.double() for name, w in probes.classifier_weights(case["seed"]).items()}
    x = probes.compositions(case).double()

    def network(activation, last=lambda z: z) -> torch.Tensor:
        hidden = x
        for layer in ("fc1", "fc2", "fc3"):
            hidden = activation(F.linear(hidden, weights[f"{layer}.weight"],
                                         weights[f"{layer}.bias"]))
        return last(F.linear(hidden, weights["fc4.weight"], weights["fc4.bias"]))

    right = network(F.relu)
    return right, {
        "a ReLU follows fc4: the logits are fc4's raw output, nothing comes after the last "
        "layer": F.relu(right),
        "the logits are softmax probabilities: return fc4's raw output (cross-entropy applies "
        "log-softmax itself)": right.softmax(-1),
        "the logits went through log_softmax: return fc4's raw output": right.log_softmax(-1),
        "no ReLU between the layers: without a nonlinearity four linear layers are one "
        "linear map": network(lambda h: h),
        "the activation must be ReLU, not GELU": network(F.gelu),
        "the activation must be ReLU, not tanh": network(torch.tanh),
        "the activation must be ReLU, not sigmoid": network(torch.sigmoid),
    }


@pytest.mark.points(2)
def test_classifier_parameters(check):
    """EnzymeClassifier has fc1..fc4 with the shapes of 20 -> 128 -> 64 -> 32 -> 4"""
    case = CLASSIFIER_CASES[0]
    got = check.student(probes.classifier_parameters, case)
    if got != EXPECTED_PARAMETERS:
        fail("EnzymeClassifier() has the wrong parameters (name: shape)", case=case,
             expected=EXPECTED_PARAMETERS, got=got, hint=parameters_hint(got))


@pytest.mark.points(2)
def test_classifier_logits(check):
    """EnzymeClassifier computes fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> ReLU -> fc4"""
    for case in CLASSIFIER_CASES:
        got = check.student(probes.classifier_logits, case)
        check_loaded(got, case, "EnzymeClassifier")
        logits = expect_tensor(got["logits"], "EnzymeClassifier.forward", case=case,
                               dtype=torch.float32, shape=(case["batch"], probes.NUM_CLASSES),
                               device=check.device)
        expected, mistakes = classifier_oracle(case)
        assert_close(logits, expected, "EnzymeClassifier logits (eval mode, the case's weights)",
                     case=case, device=check.device,
                     hint=lambda a, e, m=mistakes: known_mistake(
                         a, m, device=check.device,
                         default="compute fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> ReLU -> fc4, "
                         "and return fc4's output"))


@pytest.mark.points(1)
def test_classifier_relu_modules(check):
    """EnzymeClassifier applies its ReLUs as nn.ReLU modules, which a swap can replace"""
    case = CLASSIFIER_CASES[0]
    got = check.student(probes.classifier_relu_calls, case)
    # A network with a missing layer needs one ReLU fewer: that mistake is the parameters'.
    needed = max(got["linears"] - 1, 1)
    if got["calls"] < needed:
        where = ("has no nn.ReLU submodule" if not got["modules"] else
                 f"called its nn.ReLU modules {got['calls']} times in one forward pass")
        fail(f"EnzymeClassifier {where}; the {needed} ReLUs between its {got['linears']} "
             "nn.Linear layers must be nn.ReLU modules", case=case,
             hint="make the ReLUs nn.ReLU modules in __init__ and call them in forward: "
             "F.relu or torch.relu in forward cannot be swapped by replace_activations")


# --- count_trainable_parameters -------------------------------------------------------------

FROZEN_HINT = ("frozen parameters (requires_grad=False) are counted: the optimizer does not "
               "train them; count only the parameters with p.requires_grad")
BUFFERS_HINT = ("buffers are counted: BatchNorm's running_mean, running_var and "
                "num_batches_tracked are in the state_dict, but they are not parameters and "
                "nothing trains them; count module.parameters()")
TIED_HINT = ("a shared parameter is counted twice: a weight tied between two layers, or a layer "
             "registered in two places, is one tensor; module.parameters() lists it once")
TIED_PER_MODULE_HINT = ("a weight tied between two layers is counted twice, once per layer: it "
                        "is one tensor; module.parameters() lists it once")
BIASES_HINT = "the biases are missing: count every parameter, not only the weights"
TENSORS_HINT = ("you count parameter tensors: count their elements, p.numel() (a (4, 3) weight "
                "is 12 values)")
NESTED_HINT = ("the parameters of nested modules are missing: module.parameters() recurses into "
               "submodules at every depth")
COUNT_ADVICE = "sum p.numel() over the parameters p of module.parameters() with p.requires_grad"


@per_case
def count_oracle(case: dict) -> tuple[int, dict[str, int]]:
    """The right count for the case's network and {advice: count} of known mistakes."""
    network = probes.build_network(case)
    parameters = list(network.parameters())
    right = sum(p.numel() for p in parameters if p.requires_grad)
    return right, {
        FROZEN_HINT: sum(p.numel() for p in parameters),
        BUFFERS_HINT: right + sum(b.numel() for b in network.buffers()),
        TIED_HINT: sum(p.numel() for _, p in network.named_parameters(remove_duplicate=False)
                       if p.requires_grad),
        TIED_PER_MODULE_HINT: sum(p.numel() for module in network.modules()
                                  for p in module.parameters(recurse=False) if p.requires_grad),
        BIASES_HINT: sum(p.numel() for name, p in network.named_parameters()
                         if p.requires_grad and not name.endswith("bias")),
        TENSORS_HINT: sum(1 for p in parameters if p.requires_grad),
        NESTED_HINT: sum(p.numel() for child in network.children()
                         for p in child.parameters(recurse=False) if p.requires_grad),
    }


def student_count(check, case: dict, *, strict: bool = False) -> int:
    """The submission's count; `strict`: a Python int, else any whole number."""
    got = check.student(probes.count, case)
    if type(got) is int:
        return got
    if strict or not (isinstance(got, Returned) and got.value.numel() == 1):
        fail("count_trainable_parameters should return a Python int, but returned "
             f"{describe_type(got)}", case=case,
             hint="sum the p.numel() values: they are Python ints already"
             if isinstance(got, Returned) else None)
    return int(got.value.item())


def judge_count(check, case: dict, what: str, *, strict: bool = False) -> None:
    got = student_count(check, case, strict=strict)
    expected, mistakes = count_oracle(case)
    if got != expected:
        fail(f"count_trainable_parameters: wrong count {what}", case=case, expected=expected,
             got=got, hint=known_mistake(got, mistakes, default=COUNT_ADVICE))


@pytest.mark.points(2)
@given(case=strategies.networks())
@example(case={"seed": 0, "width": 3, "body": [
    "seq", [["linear", 3, 4], ["relu"], ["block", [["linear", 4, 2, "nobias"], ["tanh"],
                                                   ["dict", [["linear", 2, 2]]]]]]],
    "extras": [["conv1d", 2, 3, 3], ["list", [["embedding", 5, 2]]]]})
@example(case={"seed": 1, "width": 20, "body": ["seq", [["linear", 20, 5], ["relu"],
                                                        ["linear", 5, 4]]]})
@settings(max_examples=15)
def test_count_nested(check, case):
    """count_trainable_parameters counts every element of nested Linear, Conv1d, Embedding layers"""
    judge_count(check, case, "for a nested network", strict=True)


@pytest.mark.points(2)
@given(case=strategies.networks(frozen=True, flat=True))
@example(case={"seed": 2, "width": 3, "flat": True, "body": [
    "seq", [["linear", 3, 4, "frozen"], ["relu"], ["linear", 4, 2],
            ["embedding", 6, 3, "frozen"]]]})
@settings(max_examples=10)
def test_count_frozen(check, case):
    """count_trainable_parameters skips frozen parameters (requires_grad=False)"""
    judge_count(check, case, "when some layers are frozen")


@pytest.mark.points(1)
@given(case=strategies.networks(batchnorm=True, flat=True).filter(
    lambda case: "batchnorm" in repr(case)))
@example(case={"seed": 3, "width": 3, "flat": True, "body": [
    "block", [["linear", 3, 4], ["batchnorm", 4], ["relu"], ["linear", 4, 2, "nobias"],
              ["batchnorm", 2]]]})
@settings(max_examples=10)
def test_count_buffers(check, case):
    """count_trainable_parameters counts no buffers (BatchNorm running statistics)"""
    judge_count(check, case, "for a network with BatchNorm1d layers")


@pytest.mark.points(2)
@given(case=strategies.networks(tied=True, flat=True))
@example(case={"seed": 4, "width": 3, "flat": True, "body": [
    "seq", [["linear", 3, 5], ["relu"], ["linear", 5, 3], ["embedding", 5, 3]]],
    "tied": [[0, 2]]})
@example(case={"seed": 5, "width": 4, "flat": True, "body": [
    "block", [["linear", 4, 4], ["tanh"], ["same", 0]]]})
@settings(max_examples=10)
def test_count_tied(check, case):
    """count_trainable_parameters counts a tied weight or a shared layer once"""
    judge_count(check, case, "when weights are tied or a layer is registered twice")


# --- replace_activations ------------------------------------------------------------------


def activation_type(name: str) -> str:
    """The class name of the activation called `name` in the cases."""
    return probes.ACTIVATIONS[name].__name__


def substitution(case: dict) -> dict[str, str]:
    """What each activation of the cases becomes: new where it is an instance of old."""
    old = probes.ACTIVATIONS[case["old"]]
    return {name: case["new"] for name, kind in probes.ACTIVATIONS.items()
            if issubclass(kind, old)}


@per_case
def replaced_oracle(case: dict) -> tuple[list[list], list[list], torch.Tensor]:
    """(the right listing of the copy, the input's listing, the copy's output in float32)."""
    network = probes.build_network(case, substitution(case))
    with torch.no_grad():
        output = network(probes.network_inputs(case))
    return (probes.module_listing(network), probes.module_listing(probes.build_network(case)),
            output)


def student_copy(check, case: dict, got: dict | None = None) -> dict:
    """What the probe saw (`got`, else a new call); fails unless a module came back."""
    got = check.student(probes.replace, case) if got is None else got
    if "listing" not in got:
        hint = ("the input changed: return the modified copy, not None"
                if got["input_changed"] else "return the modified copy")
        fail(f"replace_activations should return an nn.Module (the modified copy), but "
             f"returned a {got['returned']}", case=case, hint=hint)
    return got


def ancestors(path: str) -> list[str]:
    """The places above `path`, root excluded: 'a.b.c' -> ['a', 'a.b']."""
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def nested_hint(case: dict, original: list[list], got_types: dict[str, str]) -> str:
    """Why some `old` activations remain: no recursion at all, or only into nn.Sequential."""
    types = dict(original)
    olds = [path for path, name in original if name in
            {activation_type(n) for n in substitution(case)}]
    remaining = [path for path in olds if got_types.get(path) == types[path]]
    replaced = [path for path in olds if path not in remaining]

    def through_sequentials(path: str) -> bool:
        return all(types[above] == "Sequential" for above in ancestors(path))

    if not remaining:
        return "modules that are not instances of old stay as they are"
    if replaced and all(map(through_sequentials, replaced)) and not any(
            map(through_sequentials, remaining)):
        return ("the activations inside ModuleList, ModuleDict or custom modules remain: recurse "
                "into every child module, not only nn.Sequential (named_children() lists the "
                "children of any module)")
    return ("nested activations remain: children have children of their own; recurse into "
            "every child module, at every depth")


def other_names(case: dict, path: str) -> list[str]:
    """The other places of the input that hold the module at `path` (a module held under
    several names)."""
    places = dict(probes.build_network(case).named_modules(remove_duplicate=False))
    return [other for other, module in places.items()
            if module is places[path] and other != path]


def check_listing(got: dict, case: dict, expected: list[list], original: list[list]) -> None:
    """Fail at the first place whose module type differs from the expected copy's."""
    got_types = {path: name for path, name, *_ in got["listing"]}
    for path, name in expected:
        if got_types.get(path) != name:
            names = [other for other in other_names(case, path) if got_types.get(other) == name]
            hint = (f"the same module is held at `{path}` and at `{names[0]}`, and only the "
                    "latter was replaced: named_children() and named_modules() list a module "
                    "held under two names once; walk every place, "
                    "named_modules(remove_duplicate=False)" if names
                    else nested_hint(case, original, got_types))
            fail(f"replace_activations: the copy holds {got_types.get(path, 'nothing')} at "
                 f"`{path}`, expected {name}", case=case, hint=hint)
    extra = [path for path in got_types if path not in dict(expected)]
    if extra:
        fail(f"replace_activations: the copy has modules the input does not have: {extra}",
             case=case, hint="replace each old activation by one new() in its place; add "
             "nothing else")


NESTED_EXAMPLE = {
    "old": "relu", "new": "gelu", "seed": 6, "width": 3, "body": [
        "seq", [["linear", 3, 4], ["relu"], ["list", [["relu"], ["linear", 4, 2]]],
                ["block", [["tanh"], ["relu"]]], ["dict", [["seq", [["relu"]]]]]]],
    "extras": [["relu"]]}


@pytest.mark.points(2)
@given(case=strategies.activation_swaps(batchnorm=True, shared=True))
@example(case=NESTED_EXAMPLE)
@example(case={"old": "relu", "new": "gelu", "seed": 11, "width": 2, "body": [
    "block", [["linear", 2, 2], ["relu"], ["linear", 2, 2], ["again", 0]]]})
@example(case={"old": "tanh", "new": "sigmoid", "seed": 7, "width": 2, "body": [
    "block", [["tanh"], ["linear", 2, 3], ["seq", [["seq", [["tanh"], ["relu"]]]]]]]})
@settings(max_examples=15)
def test_replace_nested(check, case):
    """replace_activations swaps old for new at every depth and in every kind of container"""
    got = student_copy(check, case)
    expected, original, output = replaced_oracle(case)
    check_listing(got, case, expected, original)
    value = check.student(probes.replace_output, case)
    value = expect_tensor(value, "the copy's output", case=case, dtype=torch.float32,
                          shape=tuple(output.shape), device=check.device)
    assert_close(value, output, "the copy's output (eval mode)", case=case, device=check.device,
                 hint="the copy must hold the input's layers with the same weights in the same "
                 "places; only the old activations change")


@pytest.mark.points(1)
@given(case=strategies.relu_lookalike_swaps())
@example(case={"old": "relu", "new": "gelu", "seed": 8, "width": 3, "body": [
    "seq", [["linear", 3, 3], ["counting_relu"], ["leaky_relu"], ["relu6"], ["prelu"],
            ["relu"]]]})
@settings(max_examples=10)
def test_replace_isinstance(check, case):
    """replace_activations replaces subclasses of old, and keeps look-alikes (LeakyReLU, ReLU6)"""
    got = student_copy(check, case)
    expected, original, _ = replaced_oracle(case)
    got_types = {path: name for path, name, *_ in got["listing"]}
    old, new = activation_type(case["old"]), activation_type(case["new"])
    # Whether an nn.ReLU is found at all is test_replace_nested's: a subclass left in place
    # counts here only where the submission replaced a plain ReLU beside it.
    replaced_beside = {path.rpartition(".")[0] for path, name in original
                       if name == old and got_types.get(path) == new}
    for (path, was), (_, right) in zip(original, expected, strict=True):
        got_type = got_types.get(path, was)
        if right == was and got_type != was:
            fail(f"replace_activations: the copy holds {got_type} at `{path}`, expected {was}",
                 case=case, hint=f"{was} is not an nn.ReLU (nor a subclass of it) and must "
                 "stay: test isinstance(child, old), do not compare class names")
        if right != was != old and got_type == was and path.rpartition(".")[0] in replaced_beside:
            fail(f"replace_activations: the copy holds {was} at `{path}`, expected {right}",
                 case=case, hint=f"{was} subclasses nn.ReLU, so it is an nn.ReLU and must be "
                 "replaced: test isinstance(child, old), not type(child) is old")


@pytest.mark.points(1)
@given(case=strategies.activation_swaps(olds=("relu",), news=("gelu", "prelu"), sites=2,
                                        shared=True))
@example(case={"old": "relu", "new": "prelu", "seed": 9, "width": 2, "body": [
    "seq", [["linear", 2, 2], ["relu"], ["list", [["relu"], ["linear", 2, 2], ["relu"]]]]]})
@settings(max_examples=10)
def test_replace_fresh_instances(check, case):
    """replace_activations calls new() once per replaced activation"""
    got = student_copy(check, case)
    original = dict(replaced_oracle(case)[1])
    old, new = activation_type(case["old"]), activation_type(case["new"])
    objects = {number for path, name, number, _ in got["listing"]
               if name == new and original.get(path) == old}
    places = [path for path, name, *_ in got["listing"]
              if name == new and original.get(path) == old]
    if len(objects) < len(places):
        fail(f"replace_activations put {len(objects)} {new} object(s) in {len(places)} places "
             f"({', '.join(places)})", case=case,
             hint="call new() once per replaced module, so that each place gets its own "
             "instance: a shared nn.PReLU would tie one learnable slope across all of them")


UNCHANGED_EXAMPLE = {
    "old": "relu", "new": "gelu", "seed": 10, "width": 3, "body": [
        "seq", [["linear", 3, 4], ["relu"], ["block", [["linear", 4, 4, "frozen"], ["relu"]]]]],
    "extras": [["embedding", 4, 3], ["same", 1]], "tied": [[0, 2]]}


@pytest.mark.points(2)
@given(case=strategies.activation_swaps(frozen=True, batchnorm=True, tied=True))
@example(case=UNCHANGED_EXAMPLE)
@settings(max_examples=10)
def test_replace_leaves_input_unchanged(check, case):
    """replace_activations returns a deep copy: the input is unchanged, nothing is shared"""
    got = check.student(probes.replace, case)
    if got["same_object"]:
        fail("replace_activations changed the module it was given and returned it", case=case,
             hint="the handout promises a copy and an unchanged input: start from "
             "copy.deepcopy(module) and replace in the copy, not in place")
    if got["input_changed"]:
        fail(f"replace_activations changed the input module at `{got['input_changed'][0]}`",
             case=case, hint="a shallow copy (copy.copy) shares its submodules with the input, "
             "so replacing in the copy replaces in the input too: use copy.deepcopy(module)")
    got = student_copy(check, case, got)
    shared = [(path, name) for path, name, _, in_input in got["listing"] if in_input]
    if shared:
        fail(f"the copy shares the {shared[0][1]} at `{shared[0][0]}` with the input", case=case,
             hint="a deep copy shares no module with the input: use copy.deepcopy(module)")
    if got["shared_parameters"]:
        fail(f"the copy shares the parameter `{got['shared_parameters'][0]}` with the input",
             case=case, hint="training the copy would change the input: a deep copy shares "
             "no parameter (copy.copy of a layer shares its parameters; use copy.deepcopy)")


@pytest.mark.points(1)
@given(case=strategies.activation_swaps(frozen=True, batchnorm=True, tied=True))
@example(case=UNCHANGED_EXAMPLE)
@settings(max_examples=10)
def test_replace_keeps_parameter_count(check, case):
    """replace_activations keeps the trainable parameter count (parameter-free activations)"""
    got = student_copy(check, case)
    trainable = sum(numel for numel, requires_grad in got["parameters"] if requires_grad)
    expected = count_oracle(case)[0]
    if trainable != expected:
        total = sum(numel for numel, _ in got["parameters"])
        untied = total > sum(p.numel() for p in probes.build_network(case).parameters())
        fail("the copy's trainable parameter count (sum of numel over parameters() with "
             "requires_grad) differs from the input's", case=case, expected=expected,
             got=trainable,
             hint="weights that were tied, or a layer registered twice, are separate tensors "
             "in the copy: copy the whole module with one copy.deepcopy(module), which keeps "
             "shared parameters shared, not layer by layer" if untied else
             "frozen parameters must stay frozen in the copy (copy.deepcopy keeps "
             "requires_grad)")


# --- both ---------------------------------------------------------------------------------


@pytest.mark.points(1)
@pytest.mark.uses(
    EnzymeClassifier=[test_classifier_parameters, test_classifier_logits,
                      test_classifier_relu_modules],
    replace_activations=[test_replace_nested, test_replace_leaves_input_unchanged])
def test_classifier_swap(check):
    """replace_activations turns EnzymeClassifier's nn.ReLU into nn.GELU, which it computes with"""
    for case in CLASSIFIER_CASES[:2]:
        got = check.student(probes.classifier_swap, case)
        check_loaded(got, case, "replace_activations(EnzymeClassifier, nn.ReLU, nn.GELU)")
        if "logits" not in got:
            fail("replace_activations should return an nn.Module (the modified copy), but "
                 f"returned a {got['returned']}", case=case)
        logits = expect_tensor(got["logits"], "the GELU copy's forward", case=case,
                               dtype=torch.float32, shape=(case["batch"], probes.NUM_CLASSES),
                               device=check.device)
        expected, mistakes = classifier_oracle(case)
        gelu = mistakes["the activation must be ReLU, not GELU"]
        assert_close(logits, gelu, "the GELU copy's logits (eval mode, the case's weights)",
                     case=case, device=check.device,
                     hint=lambda a, e, relu=expected: "the copy still computes with ReLU: its "
                     "ReLUs must be nn.ReLU modules, each replaced by nn.GELU()"
                     if known_mistake(a, {"relu": relu}, device=check.device) else None)
