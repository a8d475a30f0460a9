"""Probes for the `network_basics` exercise.

The classifier's weights and inputs, and the small networks that `count_trainable_parameters`
and `replace_activations` are given, are built here from printable cases (seeded, on the
CPU, then moved to the device), so the judge can build the very same ones for its oracles.

A network case describes a module tree (see `build_network`): a runnable `body` over
`width` features, `extras` that are only held (counted and searched, never run), weight
`tied` between leaves, and for `replace_activations` the `old` and `new` activation names.
"""

from __future__ import annotations

import torch
from torch import nn

NUM_FEATURES, NUM_CLASSES = 20, 4
LAYER_SHAPES = {"fc1": (128, NUM_FEATURES), "fc2": (64, 128), "fc3": (32, 64),
                "fc4": (NUM_CLASSES, 32)}
"""The classifier's nn.Linear layers by name: weight shape (out, in); each has a bias."""

# --- the classifier -------------------------------------------------------------------------


def classifier_weights(seed: int) -> dict[str, torch.Tensor]:
    """fc1..fc4 weights and biases drawn from `seed` (CPU), in state_dict layout."""
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for name, (rows, columns) in LAYER_SHAPES.items():
        # fc1 sees compositions (fractions around 0.05): a larger scale lets them matter.
        scale = 4.0 if name == "fc1" else columns ** -0.5
        weights[f"{name}.weight"] = torch.randn(rows, columns, generator=generator) * scale
        weights[f"{name}.bias"] = torch.randn(rows, generator=generator) * 0.5
    return weights


def compositions(case: dict) -> torch.Tensor:
    """(batch, 20) random amino-acid compositions (rows of fractions summing to 1), CPU."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    counts = -torch.rand(case["batch"], NUM_FEATURES, generator=generator).log()
    return counts / counts.sum(dim=1, keepdim=True)


def classifier_parameters(impl, case: dict, device: str) -> dict:
    """{name: shape} of the submission's EnzymeClassifier()'s parameters."""
    model = impl.EnzymeClassifier()
    return {name: list(parameter.shape) for name, parameter in model.named_parameters()}


def _loaded_classifier(impl, case: dict, device: str) -> nn.Module | None:
    """EnzymeClassifier() with the case's weights on `device`, or None if they do not fit."""
    model = impl.EnzymeClassifier()
    weights = classifier_weights(case["seed"])
    shapes = {name: list(parameter.shape) for name, parameter in model.named_parameters()}
    if shapes != {name: list(weight.shape) for name, weight in weights.items()}:
        return None
    model.load_state_dict(weights)
    return model.to(device)


def classifier_logits(impl, case: dict, device: str) -> dict:
    """The logits in eval mode with the case's weights ({"fits": False} if they cannot load)."""
    model = _loaded_classifier(impl, case, device)
    if model is None:
        return {"fits": False}
    with torch.no_grad():
        return {"fits": True, "logits": model.eval()(compositions(case).to(device))}


def classifier_relu_calls(impl, case: dict, device: str) -> dict:
    """How many nn.ReLU and nn.Linear submodules EnzymeClassifier() holds, and how often a
    forward pass calls the nn.ReLU ones."""
    model = impl.EnzymeClassifier().to(device)
    calls = []
    relus = [module for module in model.modules() if isinstance(module, nn.ReLU)]
    for relu in relus:
        relu.register_forward_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        model.eval()(compositions(case).to(device))
    linears = sum(isinstance(module, nn.Linear) for module in model.modules())
    return {"modules": len(relus), "calls": len(calls), "linears": linears}


def classifier_swap(impl, case: dict, device: str) -> dict:
    """The logits of replace_activations(classifier, nn.ReLU, nn.GELU) with the case's weights."""
    model = _loaded_classifier(impl, case, device)
    if model is None:
        return {"fits": False}
    swapped = impl.replace_activations(model, nn.ReLU, nn.GELU)
    if not isinstance(swapped, nn.Module):
        return {"fits": True, "returned": type(swapped).__name__}
    with torch.no_grad():
        return {"fits": True, "logits": swapped.eval()(compositions(case).to(device))}


# --- small networks ---------------------------------------------------------------------------


class CountingReLU(nn.ReLU):
    """A ReLU that counts its calls: a subclass of nn.ReLU, so isinstance(m, nn.ReLU) holds."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return super().forward(x)


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU, "relu6": nn.ReLU6, "prelu": nn.PReLU,
    "counting_relu": CountingReLU,
}


class Chain(nn.Module):
    """A custom module that runs the modules of its ModuleList or ModuleDict `steps` in order."""

    def __init__(self, steps: nn.ModuleList | nn.ModuleDict) -> None:
        super().__init__()
        self.steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for step in (self.steps.values() if isinstance(self.steps, nn.ModuleDict)
                     else self.steps):
            x = step(x)
        return x


class Block(nn.Module):
    """A custom module whose layers are plain attributes m0, m1, ..., run in that order."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.count = len(layers)
        for index, layer in enumerate(layers):
            setattr(self, f"m{index}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index in range(self.count):
            x = getattr(self, f"m{index}")(x)
        return x


class Net(nn.Module):
    """The root of a network case: runs `body`; `extras` (a ModuleList) is only held."""

    def __init__(self, body: nn.Module, extras: list[nn.Module]) -> None:
        super().__init__()
        self.body = body
        self.extras = nn.ModuleList(extras)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _leaf(kind: str, args: list) -> nn.Module:
    sizes = [a for a in args if isinstance(a, int)]
    bias = "nobias" not in args
    if kind == "linear":
        return nn.Linear(*sizes, bias=bias)
    if kind == "conv1d":
        return nn.Conv1d(*sizes, bias=bias)
    if kind == "embedding":
        return nn.Embedding(*sizes)
    if kind == "batchnorm":
        return nn.BatchNorm1d(*sizes)
    raise ValueError(f"unknown layer {kind!r}")


def build_network(case: dict, substitute: dict[str, str] | None = None) -> nn.Module:
    """The network a case describes, on the CPU, in eval mode.

    Nodes are lists: ["linear", in, out, *flags], ["conv1d", in, out, kernel, *flags],
    ["embedding", num, dim, *flags], ["batchnorm", features, *flags] (flags: "nobias",
    "frozen"); an activation [name] of ACTIVATIONS; ["same", k], the k-th layer above
    registered once more; ["again", k], the k-th activation above registered once more
    (activations are numbered depth first too); containers
    ["seq" | "list" | "dict" | "block", [nodes]] make an nn.Sequential, a Chain of an
    nn.ModuleList or nn.ModuleDict (keys k0, k1, ...), or a Block. Layers are numbered
    depth first, body before extras; case["tied"] = [[i, j]] makes layer j use layer i's
    weight. With case["flat"] the body itself is the root (there are no extras).
    `substitute` maps activation names to others. Parameters come from case["seed"]
    (torch's generator is restored afterwards).
    """
    substitute = substitute or {}
    layers: list[nn.Module] = []
    activations: list[nn.Module] = []

    def build(node: list) -> nn.Module:
        kind, *args = node
        if kind in ACTIVATIONS:
            activations.append(ACTIVATIONS[substitute.get(kind, kind)]())
            return activations[-1]
        if kind == "same":
            return layers[args[0]]
        if kind == "again":
            return activations[args[0]]
        if kind in ("seq", "list", "dict", "block"):
            children = [build(child) for child in args[0]]
            if kind == "seq":
                return nn.Sequential(*children)
            if kind == "list":
                return Chain(nn.ModuleList(children))
            if kind == "dict":
                return Chain(nn.ModuleDict({f"k{i}": c for i, c in enumerate(children)}))
            return Block(children)
        layer = _leaf(kind, args)
        if "frozen" in args:
            layer.requires_grad_(False)
        layers.append(layer)
        return layer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(case["seed"])
        body = build(case["body"])
        network = body if case.get("flat") else Net(
            body, [build(node) for node in case.get("extras", [])])
    for source, target in case.get("tied", []):
        layers[target].weight = layers[source].weight
    return network.eval()


def network_inputs(case: dict) -> torch.Tensor:
    """(3, width) standard-normal inputs for a network's body, from the case's seed (CPU)."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    return torch.randn(3, case["width"], generator=generator)


def module_listing(module: nn.Module) -> list[list]:
    """[path, type name] of every submodule at every place it is registered (root excluded)."""
    return [[path, type(submodule).__name__]
            for path, submodule in module.named_modules(remove_duplicate=False) if path]


def parameter_summary(module: nn.Module) -> list[list]:
    """[numel, requires_grad] of each distinct parameter (module.parameters() order)."""
    return [[parameter.numel(), parameter.requires_grad] for parameter in module.parameters()]


def count(impl, case: dict, device: str):
    return impl.count_trainable_parameters(build_network(case).to(device))


def replace(impl, case: dict, device: str) -> dict:
    """What replace_activations(network, old, new) returned, and what it did to the network.

    "listing": [path, type name, object number, whether the input holds that object] for
    every place in the result (objects numbered in order of first appearance);
    "input_changed": places of the input whose object changed during the call;
    "shared_parameters": the result's parameter names whose tensor the input holds too;
    "parameters": parameter_summary of the result.
    """
    network = build_network(case).to(device)
    before = dict(network.named_modules(remove_duplicate=False))
    input_modules = {id(submodule) for submodule in before.values()}
    input_parameters = {id(parameter) for parameter in network.parameters()}
    result = impl.replace_activations(network, ACTIVATIONS[case["old"]],
                                      ACTIVATIONS[case["new"]])
    after = dict(network.named_modules(remove_duplicate=False))
    observed = {
        "returned": type(result).__name__,
        "same_object": result is network,
        "input_changed": sorted(path for path in before.keys() | after.keys()
                                if before.get(path) is not after.get(path)),
    }
    if not isinstance(result, nn.Module):
        return observed
    numbers: dict[int, int] = {}
    observed["listing"] = [
        [path, type(submodule).__name__, numbers.setdefault(id(submodule), len(numbers)),
         id(submodule) in input_modules]
        for path, submodule in result.named_modules(remove_duplicate=False) if path]
    observed["shared_parameters"] = [
        name for name, parameter in result.named_parameters(remove_duplicate=False)
        if id(parameter) in input_parameters]
    observed["parameters"] = parameter_summary(result)
    return observed


def replace_output(impl, case: dict, device: str):
    """The output of replace_activations(network, old, new) on network_inputs, in eval mode."""
    network = build_network(case).to(device)
    result = impl.replace_activations(network, ACTIVATIONS[case["old"]],
                                      ACTIVATIONS[case["new"]])
    if not isinstance(result, nn.Module):
        return {"returned": type(result).__name__}
    with torch.no_grad():
        return result.eval()(network_inputs(case).to(device))
