# Exercise network_basics: replace each `raise NotImplementedError(...)` with your code, and
# keep the names and signatures. Grade it with `make grade EX=network_basics` (QUICK=1: the
# fast checks only).
# Generated from solutions/network_basics.py by `make stubs`: never edit it by hand.
"""Building and inspecting a network: an enzyme-class classifier, its parameters, its activations.

A protein's amino-acid composition (the fraction of each of the 20 amino acids, in
AMINO_ACIDS order) is a 20-dimensional vector; a small feedforward network maps it to
the logits of 4 enzyme classes. You build that network as an `nn.Module`, count the
parameters it trains, and swap its ReLU activations for GELU in a copy. The count does
not change: an activation function has no parameters, so the swap changes what the
network computes, not what it learns.

Course notes: Preliminary Note 2, section 6 ("nn.Module", "Activation Functions", "Common
Layer Types", "Managing Parameters") and its Exercise 2.

Its program: `python -m programs.network_basics` (seconds).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from torch import Tensor, nn

from data.amino_acids import AMINO_ACIDS

NUM_FEATURES = len(AMINO_ACIDS)
NUM_CLASSES = 4


class EnzymeClassifier(nn.Module):
    """A 4-layer feedforward network: 20 composition features -> 4 enzyme-class logits.

    forward(x): x (B, 20) float -> logits (B, 4) on x's device and dtype, computed as

        fc1 -> ReLU -> fc2 -> ReLU -> fc3 -> ReLU -> fc4

    with fc1 = nn.Linear(20, 128), fc2 = nn.Linear(128, 64), fc3 = nn.Linear(64, 32) and
    fc4 = nn.Linear(32, 4): exactly these four layers, under these names (the grader loads
    weights by name), and no other parameters. The logits are raw scores: nothing follows
    fc4 (no ReLU, no softmax).

    Apply the ReLUs as nn.ReLU modules made in __init__ (one per place, or one you call
    three times), not as F.relu or torch.relu in forward: `replace_activations` can only
    swap a submodule, never a function call.

    Hint: Preliminary Note 2, section 6, "nn.Module: PyTorch's Building Block".
    """

    def __init__(self) -> None:
        super().__init__()
        raise NotImplementedError("network_basics: EnzymeClassifier.__init__")

    def forward(self, x: Tensor) -> Tensor:
        """(B, 20) compositions -> (B, 4) logits."""
        raise NotImplementedError("network_basics: EnzymeClassifier.forward")


def count_trainable_parameters(module: nn.Module) -> int:
    """The number of values the optimizer would train in `module`, as a Python int.

    Count every element of every parameter of `module` and of all its submodules, at any
    depth, that has requires_grad=True. Not counted:
    - frozen parameters (requires_grad=False);
    - buffers, such as BatchNorm's running_mean, running_var and num_batches_tracked: they
      are in the state_dict, but they are not parameters and no optimizer updates them;
    - a parameter more than once: a weight shared by two layers (tied), or a layer
      registered in two places, is one set of values.

    Hint: Preliminary Note 2, section 6, "Managing Parameters" (module.parameters() lists
    each parameter once, whatever its depth).
    """
    raise NotImplementedError("network_basics: count_trainable_parameters")


def replace_activations(module: nn.Module, old: type[nn.Module],
                        new: Callable[[], nn.Module]) -> nn.Module:
    """A deep copy of `module` in which every activation of type `old` is a fresh `new()`.

    Args:
        module: any network; it is left unchanged (same submodules, same parameters).
        old: the class to replace, e.g. nn.ReLU. A submodule is replaced when
            isinstance(submodule, old) is True, so subclasses of `old` are replaced too,
            and look-alikes that are not subclasses (nn.LeakyReLU, nn.ReLU6, nn.PReLU when
            old is nn.ReLU) are kept.
        new: called with no arguments, once per replaced submodule, e.g. nn.GELU or
            `lambda: nn.LeakyReLU(0.1)`: every replaced place gets its own instance.

    Returns:
        The copy, made with copy.deepcopy (which keeps tied weights tied and frozen
        parameters frozen), with each `old` submodule at any depth replaced: inside
        nn.Sequential, nn.ModuleList, nn.ModuleDict and attributes of custom modules
        alike. `module` itself is never replaced, only its submodules; the copy shares no
        submodule and no parameter with `module`, and a new module is not searched again.

    A module may be held under several names (self.act1 = self.act2 = nn.ReLU()), at
    one depth or at several: every name is a place, and each place gets its own new().

    Hint: Preliminary Note 2, section 6 ("Activation Functions", "nn.Module");
    named_modules(remove_duplicate=False) lists every place of every submodule by its
    path ("block.act2"; a list entry's name is its index as a string), while
    named_children() and named_modules() list a module held under two names only once.
    setattr(parent, name, child) puts a child in place; module.get_submodule("block")
    finds a parent by its path.
    """
    raise NotImplementedError("network_basics: replace_activations")
