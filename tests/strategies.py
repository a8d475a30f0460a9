"""Hypothesis strategies for the grading suites, in one place."""

from __future__ import annotations

from hypothesis import strategies as st

from data.amino_acids import AMBIGUOUS_LETTERS, AMINO_ACIDS, RARE_LETTERS

LABEL_DTYPES = ("int64", "bool", "float32", "int32")


@st.composite
def binary_labels(draw, max_size: int = 40) -> dict:
    """Two equal-length 0/1 label lists and a dtype; one-class and tiny cases come early."""
    size = draw(st.integers(1, max_size))
    y_true = draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
    y_pred = draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
    return {"y_true": y_true, "y_pred": y_pred, "dtype": draw(st.sampled_from(LABEL_DTYPES))}


@st.composite
def class_labels(draw, min_classes: int = 2, max_classes: int = 6, max_size: int = 60) -> dict:
    """Two equal-length lists of class indices in [0, K) and K."""
    k = draw(st.integers(min_classes, max_classes))
    size = draw(st.integers(1, max_size))
    labels = st.lists(st.integers(0, k - 1), min_size=size, max_size=size)
    return {"y_true": draw(labels), "y_pred": draw(labels), "num_classes": k}


# ---------------------------------------------------------------------------- solubility

# Letters of real data sets besides the 20 (unknown, rare, ambiguous): each encoded as unknown.
OTHER_LETTERS = RARE_LETTERS + AMBIGUOUS_LETTERS


@st.composite
def protein_records(draw, max_proteins: int = 5, max_length: int = 30) -> dict:
    """Sequences (about 1 letter in 10 rare), 0/1 labels, and a max_len that truncates some."""
    count = draw(st.integers(1, max_proteins))
    letter = st.sampled_from(AMINO_ACIDS * 2 + OTHER_LETTERS)
    sequence = st.lists(letter, min_size=1, max_size=max_length).map("".join)
    return {
        "sequences": draw(st.lists(sequence, min_size=count, max_size=count)),
        "labels": draw(st.lists(st.integers(0, 1), min_size=count, max_size=count)),
        "max_len": draw(st.integers(1, max_length)),
    }


@st.composite
def token_items(draw, max_items: int = 6, max_length: int = 12) -> dict:
    """Unpadded token lists (0 = unknown residue, still a real position) and their labels."""
    count = draw(st.integers(1, max_items))
    tokens = st.lists(st.integers(0, 20), min_size=1, max_size=max_length)
    return {
        "tokens": draw(st.lists(tokens, min_size=count, max_size=count)),
        "labels": draw(st.lists(st.integers(0, 1), min_size=count, max_size=count)),
    }


# --- secondary_structure ---------------------------------------------------------------


@st.composite
def protein_batches(draw, max_batch: int = 4, max_length: int = 12) -> dict:
    """1-4 sequences of 0-12 letters, mostly amino acids, sometimes X, B, Z, U, O."""
    letters = st.one_of(st.sampled_from(AMINO_ACIDS), st.sampled_from(OTHER_LETTERS))
    sequence = st.lists(letters, max_size=max_length).map("".join)
    return {"sequences": draw(st.lists(sequence, min_size=1, max_size=max_batch))}


@st.composite
def state_batches(draw, max_batch: int = 4, max_length: int = 10) -> dict:
    """1-4 strings over HEC and a padded length at least as long as the longest."""
    states = st.lists(st.sampled_from("HEC"), max_size=max_length).map("".join)
    strings = draw(st.lists(states, min_size=1, max_size=max_batch))
    longest = max(len(s) for s in strings)
    return {"states": strings, "length": longest + draw(st.integers(0, 3))}


@st.composite
def scored_masks(draw, max_batch: int = 4, max_length: int = 10) -> dict:
    """A 0/1 mask (B, L) with at least one 1, a seed, and what the targets off the mask are."""
    batch = draw(st.integers(1, max_batch))
    length = draw(st.integers(1, max_length))
    rows = st.lists(st.integers(0, 1), min_size=length, max_size=length)
    mask = draw(st.lists(rows, min_size=batch, max_size=batch).filter(
        lambda m: any(any(row) for row in m)))
    return {"mask": mask, "seed": draw(st.integers(0, 10_000)),
            "padding_targets": draw(st.sampled_from(("-100", "classes")))}


@st.composite
def window_cases(draw, max_batch: int = 4, max_length: int = 10) -> dict:
    """Sequence lengths (the longest fills the batch unless extra_padding), F and k."""
    lengths = draw(st.lists(st.integers(1, max_length), min_size=1, max_size=max_batch))
    return {"lengths": lengths, "extra_padding": draw(st.integers(0, 2)),
            "features": draw(st.integers(1, 4)), "half_window": draw(st.integers(0, 4)),
            "seed": draw(st.integers(0, 10_000))}


# --- grad_accumulation ------------------------------------------------------------------


@st.composite
def accumulation_cases(draw, ragged: bool = False) -> dict:
    """A small MLP (F, hidden, outputs), a task, and micro-batch sizes (equal unless ragged)."""
    task = draw(st.sampled_from(("classification", "regression")))
    count = draw(st.integers(2 if ragged else 1, 5))
    if ragged:
        sizes = draw(st.lists(st.integers(1, 9), min_size=count, max_size=count).filter(
            lambda s: len(set(s)) > 1))
    else:
        sizes = [draw(st.integers(1, 8))] * count
    return {"seed": draw(st.integers(0, 10_000)), "task": task,
            "in_features": draw(st.integers(1, 6)), "hidden": draw(st.integers(1, 8)),
            "outputs": draw(st.integers(2 if task == "classification" else 1, 4)),
            "sizes": sizes}


# --- optimizers -------------------------------------------------------------------------

PARAMETER_SHAPES = st.lists(st.lists(st.integers(1, 4), max_size=2), min_size=1, max_size=3)


@st.composite
def optimizer_settings(draw, optimizer: str) -> dict:
    """All hyperparameters of one optimizer ('sgd', 'adam' or 'adamw'), betas as a list."""
    settings = {"lr": draw(st.sampled_from((1e-3, 0.01, 0.1, 0.3)))}
    if optimizer == "sgd":
        settings["momentum"] = draw(st.sampled_from((0.0, 0.5, 0.9, 0.99)))
    else:
        settings["betas"] = [draw(st.sampled_from((0.0, 0.5, 0.9))),
                             draw(st.sampled_from((0.9, 0.99, 0.999)))]
        settings["eps"] = draw(st.sampled_from((1e-8, 1e-6, 1e-3, 0.1)))
    settings["weight_decay"] = draw(st.sampled_from((0.0, 0.01, 0.1)))
    return settings


@st.composite
def optimizer_cases(draw, optimizer: str | None = None, groups: int = 1,
                    skip: bool = False) -> dict:
    """Parameter shapes per group, hyperparameters and a gradient schedule (float64).

    The constructor gets all, some or none of the hyperparameters (none: its defaults);
    with several groups each group overrides some of them. With `skip`, some parameters
    have no gradient at some steps, the first one always at step 0.
    """
    optimizer = optimizer or draw(st.sampled_from(("sgd", "adam", "adamw")))
    defaults = draw(optimizer_settings(optimizer))
    defaults = {key: defaults[key] for key in draw(st.sampled_from(
        (tuple(defaults), (), ("lr",), ("weight_decay",))))}
    group_list = []
    for _ in range(groups):
        group = {"shapes": draw(PARAMETER_SHAPES)}
        if groups > 1:
            overrides = draw(optimizer_settings(optimizer))
            keys = draw(st.sets(st.sampled_from(tuple(overrides)), min_size=1))
            group.update({key: overrides[key] for key in sorted(keys)})
        group_list.append(group)
    steps = draw(st.integers(3 if skip else 1, 10))
    case = {"optimizer": optimizer, "defaults": defaults, "groups": group_list, "steps": steps,
            "grad_scale": draw(st.sampled_from((1e-3, 1.0, 10.0))),
            "seed": draw(st.integers(0, 10_000))}
    if skip:
        count = sum(len(group["shapes"]) for group in group_list)
        pairs = st.tuples(st.integers(0, steps - 1), st.integers(0, count - 1))
        case["skip"] = sorted({(0, 0), *draw(st.lists(pairs, max_size=6))})
    return case


LOSS_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def loss_histories():
    """2-3 optimizers' histories on a coarse grid (ties are common), and a threshold.

    Final validation losses differ, and no two runs reach the threshold at the same
    epoch with the same loss (EXERCISES.md leaves those ties open).
    """
    return _any_loss_histories().filter(_no_open_tie)


@st.composite
def _any_loss_histories(draw) -> dict:
    names = draw(st.sampled_from((("sgd", "adam", "adamw"), ("adamw", "sgd"), ("adam", "sgd"))))
    epochs = draw(st.integers(1, 5))
    finals = draw(st.permutations(LOSS_GRID))[: len(names)]
    histories = {}
    for name, final in zip(names, finals, strict=False):
        train = draw(st.lists(st.sampled_from(LOSS_GRID), min_size=epochs, max_size=epochs))
        val = draw(st.lists(st.sampled_from(LOSS_GRID), min_size=epochs - 1,
                            max_size=epochs - 1))
        histories[name] = {"train_loss": train, "val_loss": [*val, final]}
    return {"histories": histories, "threshold": draw(st.sampled_from(LOSS_GRID))}


def _no_open_tie(case: dict) -> bool:
    firsts = []
    for history in case["histories"].values():
        reached = [(e, loss) for e, loss in enumerate(history["train_loss"])
                   if loss <= case["threshold"]]
        firsts += reached[:1]
    return len(set(firsts)) == len(firsts)


# --- protein_features ----------------------------------------------------------------------

# Letters outside the 20 that encode_sequences maps to its unknown index.
NON_STANDARD_LETTERS = RARE_LETTERS + AMBIGUOUS_LETTERS


@st.composite
def standard_sequence_batches(draw, max_batch: int = 5, min_length: int = 0,
                              max_length: int = 30) -> dict:
    """1-5 strings of the 20 letters only (empty ones allowed), not all empty."""
    sequence = st.text(alphabet=AMINO_ACIDS, min_size=min_length, max_size=max_length)
    sequences = draw(st.lists(sequence, min_size=1, max_size=max_batch).filter(
        lambda batch: any(batch)))
    return {"sequences": sequences}


@st.composite
def sequence_batches_with_unknowns(draw, max_batch: int = 4, max_length: int = 16) -> dict:
    """1-4 non-empty strings of the 20 letters, X, U, O, B, Z, J and some lower-case letters;
    at least one of those."""
    letter = st.sampled_from(AMINO_ACIDS * 2 + NON_STANDARD_LETTERS + "acmkvy")
    sequence = st.text(alphabet=letter, min_size=1, max_size=max_length)
    sequences = draw(st.lists(sequence, min_size=1, max_size=max_batch).filter(
        lambda batch: any(set(s) - set(AMINO_ACIDS) for s in batch)))
    return {"sequences": sequences}


CONSTANT_VALUES = (0.0, 1.0, -2.5, 7.25, 18.0)
"""Constant columns' values, exact in binary: their mean is exact and their std exactly 0."""


@st.composite
def standardization_cases(draw, split: bool = True, constant: bool = False) -> dict:
    """A seeded (rows, columns) float64 table and the training rows (indices, any order).

    split: 2 .. rows - 1 training rows (the others must not count); else every row.
    constant: some columns hold one value in every row, as [column, value] pairs.
    """
    rows = draw(st.integers(3, 10))
    columns = draw(st.integers(1, 5))
    if split:
        chosen = draw(st.sets(st.integers(0, rows - 1), min_size=2, max_size=rows - 1))
        train_rows = draw(st.permutations(sorted(chosen)))
    else:
        train_rows = draw(st.permutations(range(rows)))
    case = {"rows": rows, "columns": columns, "seed": draw(st.integers(0, 10_000)),
            "train_rows": list(train_rows)}
    if constant:
        which = draw(st.sets(st.integers(0, columns - 1), min_size=1))
        case["constant"] = [[column, draw(st.sampled_from(CONSTANT_VALUES))]
                            for column in sorted(which)]
    return case


# --- network_basics ------------------------------------------------------------------------

NETWORK_ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid")
RELU_LOOKALIKES = ("leaky_relu", "relu6", "prelu")  # names with "ReLU", not subclasses of it
NETWORK_CONTAINERS = ("seq", "list", "dict", "block")


@st.composite
def networks(draw, *, frozen: bool = False, batchnorm: bool = False, tied: bool = False,
             flat: bool = False, activations: tuple[str, ...] = NETWORK_ACTIVATIONS,
             require: tuple[str, ...] = (), shared: bool = False) -> dict:
    """A module tree for tests/probes/network_basics.build_network (its docstring: the nodes).

    body: a container of 1-3 steps nested up to 3 deep, runnable on `width` features
    (Linear, activations, BatchNorm1d with `batchnorm`); extras: 0-2 layers (Conv1d,
    Embedding, Linear, activations) or containers of them, only held. With `frozen` at least
    one layer is frozen; with `tied` at least one Linear's weight is tied to another layer
    or the Linear is registered twice. With `flat` the root is an nn.Sequential or a custom
    module whose children are all layers (extras included): nothing is nested. `require`:
    activations that must occur (a name twice: twice), appended to the body's top level
    when the draw lacks them. With `shared` (not `flat`), one of the body's activations is
    registered once more, under another name of the body's top level, or in the extras at
    depth 1 or 2 (`["again", k]`).
    """
    layers: list[tuple] = []  # ("linear", in, out) or (kind,), in build_network's order

    def flags(bias: bool = True) -> list[str]:
        drawn = ["nobias"] if bias and draw(st.integers(0, 3)) == 0 else []
        return drawn + (["frozen"] if frozen and draw(st.integers(0, 2)) == 0 else [])

    def body_step(width: int, depth: int) -> tuple[list, int]:
        kinds = ["linear", "activation", "activation"] + ["batchnorm"] * batchnorm
        kind = draw(st.sampled_from(kinds + ["container"] * (depth > 0)))
        if kind == "linear":
            out = draw(st.integers(1, 5))
            layers.append(("linear", width, out))
            return ["linear", width, out, *flags()], out
        if kind == "batchnorm":
            layers.append(("batchnorm",))
            return ["batchnorm", width, *flags(bias=False)], width
        if kind == "activation":
            return [draw(st.sampled_from(activations))], width
        return body_container(width, depth - 1)

    def body_container(width: int, depth: int) -> tuple[list, int]:
        steps = []
        for _ in range(draw(st.integers(1, 3))):
            step, width = body_step(width, depth)
            steps.append(step)
        return [draw(st.sampled_from(NETWORK_CONTAINERS)), steps], width

    def extra(depth: int) -> list:
        kinds = ["conv1d", "embedding", "linear", "activation"] + ["container"] * (depth > 0)
        kind = draw(st.sampled_from(kinds))
        if kind == "activation":
            return [draw(st.sampled_from(activations))]
        if kind == "container":
            return [draw(st.sampled_from(NETWORK_CONTAINERS)),
                    [extra(depth - 1) for _ in range(draw(st.integers(1, 2)))]]
        sizes = [draw(st.integers(1, 4)) for _ in range(3 if kind == "conv1d" else 2)]
        layers.append((kind, *sizes))
        return [kind, *sizes, *flags(bias=kind != "embedding")]

    width = draw(st.integers(1, 4))
    body, _ = body_container(width, 0 if flat else 2)
    if flat:
        body[0] = draw(st.sampled_from(("seq", "block")))
    extras = [extra(0 if flat else 1) for _ in range(draw(st.integers(0, 2)))]
    case: dict = {"seed": draw(st.integers(0, 10_000)), "width": width, "body": body}
    if frozen and "frozen" not in repr([body, extras]):
        layers.append(("linear", 2, 3))
        extras.append(["linear", 2, 3, "frozen"])
    if tied:
        linears = [index for index, layer in enumerate(layers) if layer[0] == "linear"]
        if not linears:
            linears.append(len(layers))
            layers.append(("linear", 2, 3))
            extras.append(["linear", 2, 3])
        case["tied"] = []
        for _ in range(draw(st.integers(1, 2))):
            source = draw(st.sampled_from(linears))
            _, fan_in, fan_out = layers[source]
            how = draw(st.sampled_from(("embedding", "linear", "same")))
            if how == "same":
                extras.append(["same", source])
                continue
            extras.append(["embedding", fan_out, fan_in] if how == "embedding"
                          else ["linear", fan_in, fan_out])
            case["tied"].append([source, len(layers)])
            layers.append((how,))
        if not case["tied"]:
            del case["tied"]
    for name in dict.fromkeys(require):
        missing = require.count(name) - repr([body, extras]).count(f"['{name}']")
        body[1] += [[name]] * max(missing, 0)
    if shared and not flat and _activation_nodes(body):
        again = ["again", draw(st.integers(0, _activation_nodes(body) - 1))]
        where = draw(st.sampled_from(("body", "extras", "nested")))
        if where == "body":
            body[1].append(again)
        else:
            extras.append(again if where == "extras"
                          else [draw(st.sampled_from(NETWORK_CONTAINERS)), [again]])
    if flat:
        body[1] += extras
        case["flat"] = True
    elif extras:
        case["extras"] = extras
    return case


def _activation_nodes(node: list) -> int:
    """How many activations a node of `networks` builds ([name]; ["again", k] builds none)."""
    if len(node) == 1:
        return 1
    return sum(map(_activation_nodes, node[1])) if isinstance(node[1], list) else 0


@st.composite
def activation_swaps(draw, *, olds: tuple[str, ...] = ("relu", "gelu", "tanh"),
                     news: tuple[str, ...] = ("gelu", "relu", "tanh", "sigmoid"),
                     sites: int = 1, **options) -> dict:
    """`old` and `new` activation names (different) and a network with `sites` olds or more.

    options: those of `networks`.
    """
    old = draw(st.sampled_from(olds))
    new = draw(st.sampled_from([name for name in news if name != old]))
    require = (old,) * sites + options.pop("require", ())
    return {"old": old, "new": new, **draw(networks(require=require, **options))}


def relu_lookalike_swaps():
    """ReLU -> GELU in networks holding CountingReLU (a subclass) and a ReLU look-alike."""
    return st.sampled_from(RELU_LOOKALIKES).flatmap(lambda lookalike: activation_swaps(
        olds=("relu",), news=("gelu",),
        activations=("relu", "counting_relu", "gelu", *RELU_LOOKALIKES),
        require=("counting_relu", lookalike)))


# --- autograd_basics -----------------------------------------------------------------------


@st.composite
def linear_problems(draw, max_samples: int = 12, max_features: int = 4,
                    max_outputs: int = 3) -> dict:
    """Sizes of a linear model y_hat = x @ W.T + b (N samples, F features, O outputs), a seed
    and a float dtype; one output comes first (the shrunk case)."""
    return {"samples": draw(st.integers(1, max_samples)),
            "features": draw(st.integers(1, max_features)),
            "outputs": draw(st.integers(1, max_outputs)),
            "seed": draw(st.integers(0, 10_000)),
            "dtype": draw(st.sampled_from(("float32", "float64")))}


@st.composite
def descent_problems(draw, use_autograd: bool) -> dict:
    """A small linear problem, a learning rate, 1-8 steps, and whether to start from given
    parameters (`initial`) or from zeros."""
    case = draw(linear_problems(max_samples=8))
    case.update(lr=draw(st.sampled_from((0.05, 0.1, 0.2))), steps=draw(st.integers(1, 8)),
                initial=draw(st.booleans()), use_autograd=use_autograd)
    return case


# --- variant_classifier --------------------------------------------------------------------


@st.composite
def binary_logits(draw, max_size: int = 30) -> dict:
    """Logits (non-zero multiples of 1/4 in [-3, 3]: no tie at the threshold), 0/1 labels of
    the same length, and the labels' dtype."""
    size = draw(st.integers(1, max_size))
    nonzero = st.integers(-12, 12).filter(bool).map(lambda quarter: quarter / 4)
    return {"logits": draw(st.lists(nonzero, min_size=size, max_size=size)),
            "labels": draw(st.lists(st.integers(0, 1), min_size=size, max_size=size)),
            "dtype": draw(st.sampled_from(("int64", "float32", "bool")))}


@st.composite
def class_samples(draw, max_classes: int = 5, max_size: int = 30) -> dict:
    """K classes, N true classes in [0, K) (a class may be absent), and a seed for the
    logits the probe draws."""
    classes = draw(st.integers(2, max_classes))
    size = draw(st.integers(1, max_size))
    return {"classes": classes,
            "labels": draw(st.lists(st.integers(0, classes - 1), min_size=size,
                                    max_size=size)),
            "seed": draw(st.integers(0, 10_000))}


@st.composite
def split_labels(draw, max_classes: int = 3, max_size: int = 60) -> dict:
    """Class labels (2 to `max_size` samples, often unbalanced), a validation fraction, and
    three consecutive seeds."""
    classes = draw(st.integers(2, max_classes))
    size = draw(st.integers(2, max_size))
    # An unbalanced class mix: each label drawn with its own weight.
    weights = draw(st.lists(st.integers(1, 5), min_size=classes, max_size=classes))
    pool = [label for label, weight in enumerate(weights) for _ in range(weight)]
    seed = draw(st.integers(0, 10_000))
    return {"labels": draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size)),
            "val_fraction": draw(st.sampled_from((0.2, 0.25, 0.3, 0.5))),
            "seeds": [seed, seed + 1, seed + 2]}



# A train_model run on random data whose validation loss the probe scripts (val_script).
PLATEAU_RUN = {"train": 6, "val": 4, "features": 2, "seed": 5, "lr": 0.5}


@st.composite
def validation_plateaus(draw) -> dict:
    """A `PLATEAU_RUN` with 2-10 scripted validation losses (four values: plateaus and exact
    ties with the best are common), as many epochs, and a patience of 0-3 or None."""
    script = draw(st.lists(st.sampled_from((0.25, 0.5, 0.75, 1.0)), min_size=2, max_size=10))
    return {**PLATEAU_RUN, "seed": draw(st.integers(0, 10_000)), "val_script": script,
            "epochs": len(script), "patience": draw(st.sampled_from((0, 1, 2, 3, None)))}


# --- learning_rates ------------------------------------------------------------------------

# Multiples of 1/4 (exact in binary, and so are their products with the factors below);
# inf and nan are strings in a case, floats in the probe.
RUN_LOSSES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, "inf", "nan")


@st.composite
def run_histories(draw) -> dict:
    """A run's losses (1-6), best_loss and slow_factor for classify_run; the last loss is
    sometimes exactly slow_factor * best_loss, or exactly the first loss."""
    best_loss = draw(st.sampled_from((0.25, 0.5, 1.0)))
    slow_factor = draw(st.sampled_from((1.5, 2.0, 4.0)))
    losses = draw(st.lists(st.sampled_from(RUN_LOSSES), min_size=1, max_size=6))
    edge = draw(st.sampled_from((None, "threshold", "first")))
    if edge == "threshold":
        losses[-1] = best_loss * slow_factor
    elif edge == "first":
        losses[-1] = losses[0]
    return {"losses": losses, "best_loss": best_loss, "slow_factor": slow_factor}


@st.composite
def train_step_problems(draw) -> dict:
    """A small linear problem for train_steps: SGD at lr, 1-6 full-batch steps."""
    return {"samples": draw(st.integers(1, 10)), "features": draw(st.integers(1, 3)),
            "outputs": draw(st.integers(1, 2)), "seed": draw(st.integers(0, 10_000)),
            "lr": draw(st.sampled_from((0.01, 0.05, 0.1))), "steps": draw(st.integers(1, 6))}


@st.composite
def schedule_settings(draw, function: str) -> dict:
    """Settings of one hand-written schedule (`function`) and how many epochs to ask for:
    past the end of the schedule too (the cosine climbs back after T_max)."""
    base_lr = draw(st.sampled_from((0.01, 0.1, 0.5, 1.0)))
    floor = draw(st.sampled_from((0.0, 0.01, 0.1, 0.5)))
    if function == "step_decay":
        settings = {"base_lr": base_lr, "step_size": draw(st.integers(1, 8)),
                    "gamma": draw(st.sampled_from((0.1, 0.5, 0.75, 0.9)))}
        last = 3 * settings["step_size"] + 2
    elif function == "cosine_annealing":
        settings = {"base_lr": base_lr, "T_max": draw(st.integers(1, 20)),
                    "eta_min": base_lr * floor}
        last = 2 * settings["T_max"] + 3
    else:
        warmup = draw(st.integers(1, 6))
        settings = {"base_lr": base_lr, "warmup_epochs": warmup,
                    "start_factor": draw(st.sampled_from((0.01, 0.1, 0.25, 0.5, 1.0))),
                    "total_epochs": warmup + draw(st.integers(1, 20)), "eta_min": base_lr * floor}
        last = settings["total_epochs"] + 3
    return {"function": function, "settings": settings, "epochs": draw(st.integers(1, last))}
