"""Probes: `probe(impl, case, device) -> plain data`, run in the worker on one implementation.

A probe builds its inputs from a small printable case, calls the implementation, and
returns what it observed. It must be a pure function of (case, device): the worker
re-seeds before every call and the reference's results are cached.

This package's own module is the kit every exercise's probes share: `raised`, spies that
record what a submission did with a model, an optimizer or a loss, the random protein
batches and small linear problems they train on, and `plotted`, the description of a
figure. A judge reads them with `grader.judging.judge` (`expect_raises`, `expect_returned`,
`expect_modes`; figures: `grader.judging.figures`).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable

import torch
from torch import nn

from grader.isolation.by_hand import ByHandViolation

DTYPES = {"bool": torch.bool, "int32": torch.int32, "int64": torch.int64,
          "float32": torch.float32, "float64": torch.float64}


def raised(call, impl=None) -> dict:
    """Run `call()`; report the exception it raised, or what it returned.

    impl: the submission `call` runs; given, the report also says where in it the
    exception went (`functions`, outermost first; `where`, its lines; `arguments`, the
    tensors the first was given), for `grader.judging.judge.fail_raised`.
    """
    try:
        return {"raised": None, "returned": call()}
    except (NotImplementedError, ByHandViolation):
        raise  # a stub is "not started", and a by-hand finding is the grader's, not an error
    except Exception as exc:  # noqa: BLE001 - the exception type is the observation
        outcome = {"raised": type(exc).__name__, "message": str(exc)[:200]}
        if impl is not None:
            from grader.isolation.worker import student_frames

            frames = student_frames(exc, getattr(impl, "__file__", None))
            outcome.update(functions=list(frames.functions), where=list(frames.lines[-3:]),
                           arguments=frames.arguments)
        return outcome


def flat_parameters(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """Every parameter's values in one detached vector (P,), on their device."""
    return torch.cat([p.detach().reshape(-1) for p in parameters])


def flat_gradient(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """Every `.grad` in one detached vector (P,), zeros where a gradient is None."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1)
                      for p in parameters])


def linear_problem(case: dict, *, planted: bool = False) -> dict[str, torch.Tensor]:
    """A small linear problem drawn from case["seed"]: {"x": (N, F), "y": (N, O), "W": (O, F),
    "b": (O,)}, N = case["samples"], F = case["features"], O = case.get("outputs", 1), in
    DTYPES[case.get("dtype", "float64")] on the CPU; W and b are where training starts.

    Every value drawn is a multiple of 1/8 in [-1, 1]: their products and sums are exact even
    in float32, so that a judge's float64 oracle differs from a right answer by rounding only.
    planted: y is linear in x (a planted weight and bias, plus noise of multiples of 1/32),
    so that a fit gets far below where it started, and not to zero; else y is drawn too.
    """
    generator = torch.Generator().manual_seed(case["seed"])
    n, f, o = case["samples"], case["features"], case.get("outputs", 1)
    shapes = ({"x": (n, f), "W": (o, f), "b": (o,), "planted_W": (o, f), "planted_b": (o,),
               "noise": (n, o)} if planted else
              {"W": (o, f), "b": (o,), "x": (n, f), "y": (n, o)})
    drawn = {name: (torch.randint(-8, 9, shape, generator=generator) / 8).double()
             for name, shape in shapes.items()}
    if planted:
        drawn = {"x": drawn["x"], "W": drawn["W"], "b": drawn["b"],
                 "y": drawn["x"] @ (2 * drawn["planted_W"]).T + drawn["planted_b"]
                 + drawn["noise"] / 4}
    dtype = DTYPES[case.get("dtype", "float64")]
    return {name: tensor.to(dtype) for name, tensor in drawn.items()}


# --- spies ---------------------------------------------------------------------------------


def forward_call(model: nn.Module, inputs: torch.Tensor, **observed) -> dict:
    """One record of a forward call: the mode, grad mode and device it ran with (and more)."""
    return {"training": model.training, "grad_enabled": torch.is_grad_enabled(),
            "device": inputs.device.type, **observed}


class SpyModule(nn.Module):
    """A probe's model that records what the code under test did with it.

    `calls`: a `forward_call` record per forward pass (subclasses call `self.record`).
    `events`: "forward" and "zero_grad" in order; pass the list of a `SpySGD` to see the
    order of the model's and the optimizer's calls in one list.
    """

    def __init__(self, events: list[str] | None = None) -> None:
        super().__init__()
        self.calls: list[dict] = []
        self.events: list[str] = [] if events is None else events

    def record(self, inputs: torch.Tensor, **observed) -> None:
        self.events.append("forward")
        self.calls.append(forward_call(self, inputs, **observed))

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.events.append("zero_grad")
        super().zero_grad(set_to_none)


class SpyClassifier(SpyModule):
    """A small solubility-style classifier: model(sequence, mask) -> logits (B, 2).

    sequence (B, L) int64 (0 = padding), mask (B, L) float. Embedding (row 0 is padding),
    mean over the masked positions, dropout, linear. Weights from `seed` when given, else
    from torch's global generator.
    """

    def __init__(self, dropout: float = 0.0, *, width: int = 8, seed: int | None = None,
                 events: list[str] | None = None) -> None:
        super().__init__(events)
        self.embedding = nn.Embedding(21, width, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width, 2)
        if seed is not None:
            generator = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                self.embedding.weight.copy_(torch.randn(21, width, generator=generator))
                self.embedding.weight[0] = 0.0
                self.fc.weight.copy_(torch.randn(2, width, generator=generator) * 0.5)
                self.fc.bias.copy_(torch.randn(2, generator=generator) * 0.1)

    def forward(self, sequence: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.record(sequence)
        embedded = self.embedding(sequence) * mask.unsqueeze(-1)  # (B, L, width)
        pooled = embedded.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)  # (B, width)
        return self.fc(self.dropout(pooled))  # (B, 2)


class SpySGD(torch.optim.SGD):
    """torch.optim.SGD (an update shows any gradient error) that records its calls.

    `events`: "zero_grad" and "step" in order (shareable with a `SpyModule`);
    `step_gradients`: the flat gradient (P,) each step used.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0,
                 events: list[str] | None = None) -> None:
        super().__init__(params, lr=lr, momentum=momentum)
        self.events: list[str] = [] if events is None else events
        self.step_gradients: list[torch.Tensor] = []

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.events.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        self.events.append("step")
        self.step_gradients.append(
            flat_gradient(p for group in self.param_groups for p in group["params"]).clone())
        return super().step(closure)


class SpyLoss(nn.Module):
    """A criterion (cross-entropy by default) that records each call in `calls`.

    A record: {"loss": float, "size": batch size, "grad_enabled": bool}.
    """

    def __init__(self, criterion: nn.Module | None = None) -> None:
        super().__init__()
        self.criterion = nn.CrossEntropyLoss() if criterion is None else criterion
        self.reduction = self.criterion.reduction
        self.calls: list[dict] = []

    def forward(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = self.criterion(predictions, targets)
        self.calls.append({"loss": loss.item(), "size": int(targets.shape[0]),
                           "grad_enabled": torch.is_grad_enabled()})
        return loss


# --- random protein batches ------------------------------------------------------------------


def random_proteins(generator: torch.Generator, count: int, min_length: int = 1,
                    max_length: int = 24) -> list[torch.Tensor]:
    """`count` token sequences (L,) int64 over 1..20 (no unknowns), lengths in the range."""
    lengths = torch.randint(min_length, max_length + 1, (count,), generator=generator)
    return [torch.randint(1, 21, (int(n),), generator=generator) for n in lengths]


def padded_batch(sequences: list[torch.Tensor], labels: torch.Tensor) -> dict:
    """The solubility batch layout: {"sequence": (B, L) int64 zero-padded,
    "mask": (B, L) float32, 1.0 at real residues, "label": (B,) int64}."""
    width = max(len(sequence) for sequence in sequences)
    tokens = torch.zeros(len(sequences), width, dtype=torch.int64)  # (B, L)
    mask = torch.zeros(len(sequences), width)  # (B, L)
    for row, sequence in enumerate(sequences):
        tokens[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1.0
    return {"sequence": tokens, "mask": mask, "label": labels}


def solubility_batches(seed: int, sizes: list[int], min_length: int = 1,
                       max_length: int = 24) -> list[dict]:
    """Batches of random proteins and 0/1 labels on the CPU, one per size in `sizes`."""
    generator = torch.Generator().manual_seed(seed)
    return [padded_batch(random_proteins(generator, size, min_length, max_length),
                         torch.randint(0, 2, (size,), generator=generator))
            for size in sizes]


def describe_axes(axes) -> dict:
    """An axes as plain data: title, axis labels, y scale, legend texts (None: no legend),
    and each line's label, linestyle, RGBA colour and the x and y values it holds, inf and
    nan included (matplotlib draws no point where x or y is one of them)."""
    import matplotlib
    import numpy as np

    legend = axes.get_legend()
    return {
        "title": axes.get_title(),
        "xlabel": axes.get_xlabel(),
        "ylabel": axes.get_ylabel(),
        "yscale": axes.get_yscale(),
        "legend": None if legend is None else [text.get_text() for text in legend.get_texts()],
        "lines": [{"label": str(line.get_label()), "linestyle": str(line.get_linestyle()),
                   "color": [float(c) for c in matplotlib.colors.to_rgba(line.get_color())],
                   "x": [float(x) for x in np.asarray(line.get_xdata(), dtype=float).ravel()],
                   "y": [float(y) for y in np.asarray(line.get_ydata(), dtype=float).ravel()]}
                  for line in axes.get_lines()],
    }


def plotted(draw: Callable[[str | None], object], filename: str | None) -> dict:
    """What a plotting function made: `draw(path)` is called with a path named `filename`
    in a fresh folder (None: no file asked), under the Agg backend whatever the submission
    asked for. Returns the figure's type, each axes as `describe_axes` tells it, the figure
    legends, and for each file written whether it is a PNG (`grader.judging.judge`'s
    `expect_figure` and `expect_labels_legend_and_png` read it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # In the worker's own folder, which the grader removes with the worker.
    folder = tempfile.mkdtemp(prefix="plot-", dir=os.getcwd())
    figure = draw(os.path.join(folder, filename) if filename else None)
    description: dict = {"type": type(figure).__name__, "is_figure": isinstance(figure, Figure)}
    if description["is_figure"]:
        description["axes"] = [describe_axes(axes) for axes in figure.axes]
        description["figure_legends"] = [
            [text.get_text() for text in legend.get_texts()] for legend in figure.legends]
    description["files"] = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            description["files"][name] = f.read(8) == b"\x89PNG\r\n\x1a\n"
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")  # pyplot keeps figures alive otherwise
    return description
