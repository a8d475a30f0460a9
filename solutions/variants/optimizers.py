"""Known mistakes and correct alternatives for the `optimizers` exercise."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

_ADAM_BIAS_CORRECTIONS = """\
    bias_correction1 = 1 - beta1 ** state["step"]
    bias_correction2 = 1 - beta2 ** state["step"]
"""
_ADAM_DENOMINATOR = (
    'denominator = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])'
)
_ADAMW_DECAY_AND_UPDATE = """\
                param.mul_(1 - group["lr"] * group["weight_decay"])
                _adam_moments_and_update(self.state[param], param, param.grad, group, beta1, beta2)
"""
_SGD_DECAY_AND_MOMENTUM = """\
                grad = param.grad
                if group["weight_decay"] != 0:
                    grad = grad.add(param, alpha=group["weight_decay"])
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = grad.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(grad)
                param.add_(state["momentum_buffer"], alpha=-group["lr"])
"""
_COMPARE_LOOP = """\
    for name in names:
        # Reseeding gives every run the same initial weights and the same dropout masks.
        torch.manual_seed(seed)
        model = model_factory().to(device)
"""

MUTANTS = [
    Variant(
        name="classes_are_torch_optim",
        description="subclasses torch.optim.SGD, Adam and AdamW instead of writing the rules",
        definitions='''
        class SGDMomentum(torch.optim.SGD):
            def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
                super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


        class Adam(torch.optim.Adam):
            pass


        class AdamW(torch.optim.AdamW):
            pass
        ''',
        expect="subclasses torch.optim.SGD; write the update rule yourself",
    ),
    # --- the update rules -------------------------------------------------------------
    Variant(
        name="adam_no_bias_correction",
        description="Adam/AdamW use m and v directly, without dividing by 1 - beta^t",
        replace=((_ADAM_BIAS_CORRECTIONS, "    bias_correction1 = bias_correction2 = 1.0\n"),),
        expect="bias correction",
    ),
    Variant(
        name="adam_eps_inside_sqrt",
        description="Adam divides by sqrt(v_hat + eps) instead of sqrt(v_hat) + eps",
        replace=(
            (
                _ADAM_DENOMINATOR,
                'denominator = (exp_avg_sq / bias_correction2 + group["eps"]).sqrt()',
            ),
        ),
        expect="eps",
    ),
    Variant(
        name="adam_global_step_counter",
        description="Adam counts step() calls for the bias correction, not steps per parameter",
        definitions="""
        class Adam(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
                super().__init__(params, defaults)
                self.t = 0

            @torch.no_grad()
            def step(self, closure=None):
                self.t += 1
                for group in self.param_groups:
                    beta1, beta2 = group["betas"]
                    for param in group["params"]:
                        if param.grad is None:
                            continue
                        grad = param.grad.add(param, alpha=group["weight_decay"])
                        state = self.state[param]
                        if not state:
                            state["m"] = torch.zeros_like(param)
                            state["v"] = torch.zeros_like(param)
                        state["m"].mul_(beta1).add_(grad, alpha=1 - beta1)
                        state["v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                        m_hat = state["m"] / (1 - beta1**self.t)
                        v_hat = state["v"] / (1 - beta2**self.t)
                        param.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
                return None
        """,
        expect="per parameter",
    ),
    Variant(
        name="adam_ignores_weight_decay",
        description="Adam never adds the L2 penalty weight_decay * p to the gradient",
        definitions="""
        class Adam(torch.optim.Optimizer):
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
                super().__init__(params, defaults)

            @torch.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    beta1, beta2 = group["betas"]
                    for param in group["params"]:
                        if param.grad is not None:
                            state = self.state[param]
                            _adam_moments_and_update(state, param, param.grad, group, beta1, beta2)
                return None
        """,
        expect="weight_decay * p",
    ),
    Variant(
        name="adamw_coupled_decay",
        description="AdamW adds weight_decay * p to the gradient (Adam's L2), not decoupled",
        replace=(
            (
                _ADAMW_DECAY_AND_UPDATE,
                """\
                grad = param.grad.add(param, alpha=group["weight_decay"])
                _adam_moments_and_update(self.state[param], param, grad, group, beta1, beta2)
""",
            ),
        ),
        expect="decoupled",
    ),
    Variant(
        name="adamw_decay_without_lr",
        description="AdamW shrinks the weights by (1 - weight_decay), forgetting the lr factor",
        replace=(
            (
                'param.mul_(1 - group["lr"] * group["weight_decay"])',
                'param.mul_(1 - group["weight_decay"])',
            ),
        ),
        expect="lr * weight_decay",
    ),
    Variant(
        name="adamw_decay_after_update",
        description="AdamW applies the decay to the already updated weights",
        replace=(
            (
                _ADAMW_DECAY_AND_UPDATE,
                """\
                _adam_moments_and_update(self.state[param], param, param.grad, group, beta1, beta2)
                param.mul_(1 - group["lr"] * group["weight_decay"])
""",
            ),
        ),
        expect="before",
    ),
    Variant(
        name="sgd_dampened_momentum",
        description="SGD momentum averages: b = momentum * b + (1 - momentum) * g",
        replace=(
            (
                'state["momentum_buffer"].mul_(group["momentum"]).add_(grad)',
                'state["momentum_buffer"].mul_(group["momentum"])'
                '.add_(grad, alpha=1 - group["momentum"])',
            ),
        ),
        expect="dampening",
    ),
    Variant(
        name="sgd_weight_decay_after_momentum",
        description="SGD adds weight_decay * p to the update instead of into the momentum",
        replace=(
            (
                _SGD_DECAY_AND_MOMENTUM,
                """\
                grad = param.grad
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = grad.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(grad)
                update = state["momentum_buffer"].add(param, alpha=group["weight_decay"])
                param.add_(update, alpha=-group["lr"])
""",
            ),
        ),
        expect="weight decay",
    ),
    Variant(
        name="sgd_steps_parameters_without_grad",
        description="SGD treats a missing .grad as zero, so momentum keeps moving the parameter",
        replace=(
            (
                "                if param.grad is None:\n                    continue\n"
                + _SGD_DECAY_AND_MOMENTUM,
                _SGD_DECAY_AND_MOMENTUM.replace(
                    "grad = param.grad\n",
                    "grad = param.grad if param.grad is not None else torch.zeros_like(param)\n",
                ),
            ),
        ),
        expect="grad is None",
    ),
    Variant(
        name="sgd_lr_from_defaults",
        description="SGD reads lr from the constructor's defaults, ignoring each group's own",
        replace=(
            (
                'param.add_(state["momentum_buffer"], alpha=-group["lr"])',
                'param.add_(state["momentum_buffer"], alpha=-self.defaults["lr"])',
            ),
        ),
        expect="group's own",
    ),
    Variant(
        name="adam_state_outside_self_state",
        description="Adam keeps m, v and t in a dict attribute instead of self.state",
        replace=(
            (
                "                _adam_moments_and_update(self.state[param], param, grad, group, "
                "beta1, beta2)\n",
                '                if not hasattr(self, "moments"):\n'
                "                    self.moments = {}\n"
                "                state = self.moments.setdefault(param, {})\n"
                "                _adam_moments_and_update(state, param, grad, group, beta1, beta2)\n",
            ),
        ),
        expect="self.state",
    ),
    # --- make_optimizer ---------------------------------------------------------------
    Variant(
        name="make_optimizer_returns_torch_builtins",
        description="make_optimizer returns torch.optim's classes instead of this module's",
        replace=(
            (
                "return SGDMomentum(params, lr=0.01, momentum=0.9)",
                "return torch.optim.SGD(params, lr=0.01, momentum=0.9)",
            ),
            ("return Adam(params, lr=1e-3)", "return torch.optim.Adam(params, lr=1e-3)"),
            (
                "return AdamW(params, lr=1e-3, weight_decay=0.01)",
                "return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)",
            ),
        ),
        expect="this module's",
    ),
    Variant(
        name="make_optimizer_sgd_default_lr",
        description="make_optimizer('sgd') keeps a learning rate of 1e-3",
        replace=(
            (
                "return SGDMomentum(params, lr=0.01, momentum=0.9)",
                "return SGDMomentum(params, lr=1e-3, momentum=0.9)",
            ),
        ),
        expect="lr",
    ),
    Variant(
        name="make_optimizer_unknown_name_falls_back",
        description="make_optimizer returns SGD for an unknown name instead of raising",
        replace=(
            (
                'raise ValueError(f"unknown optimizer',
                'return SGDMomentum(params)\n    raise ValueError(f"unknown optimizer',
            ),
        ),
        expect="ValueError",
    ),
    # --- train_with_optimizer ---------------------------------------------------------
    Variant(
        name="train_loss_mean_of_batch_means",
        description="the epoch losses average the batch means, over-weighting the short batch",
        replace=(
            (
                "loss_sum += loss.item() * labels.shape[0]\n"
                "            sample_count += labels.shape[0]",
                "loss_sum += loss.item()\n            sample_count += 1",
            ),
            (
                "loss_sum += criterion(logits, labels).item() * labels.shape[0]\n"
                "            sample_count += labels.shape[0]",
                "loss_sum += criterion(logits, labels).item()\n            sample_count += 1",
            ),
        ),
        expect="per sample",
    ),
    Variant(
        name="validation_in_train_mode",
        description="validation runs without model.eval()",
        replace=(("    model.eval()\n", ""),),
        expect="model.eval()",
    ),
    Variant(
        name="validation_with_gradients",
        description="validation runs without torch.no_grad()",
        replace=(("    with torch.no_grad():\n", "    if True:\n"),),
        expect="no_grad",
    ),
    Variant(
        name="train_mode_set_once",
        description="model.train() is called once before the loop: later epochs train in eval mode",
        replace=(
            (
                "    for _ in range(epochs):\n        model.train()\n",
                "    model.train()\n    for _ in range(epochs):\n",
            ),
        ),
        expect="model.train()",
    ),
    Variant(
        name="no_zero_grad",
        description="gradients are never zeroed and pile up over the batches",
        replace=(("            optimizer.zero_grad()\n", ""),),
        expect="zero_grad",
    ),
    Variant(
        name="history_keeps_graph",
        description="train_with_optimizer sums the batch losses as tensors: the history holds "
        "the autograd graph of every epoch",
        replace=(
            (
                "            loss_sum += loss.item() * labels.shape[0]\n",
                "            loss_sum += loss * labels.shape[0]\n",
            ),
        ),
        expect="memory leak",
        knock_on=(("test_compare_optimizers_runs", "fix `train_with_optimizer` first"),),
    ),
    # --- compare_optimizers -----------------------------------------------------------
    Variant(
        name="runs_from_different_weights",
        description="the seed is set once, so every run builds the model from other random weights",
        replace=(
            (
                _COMPARE_LOOP,
                """\
    torch.manual_seed(seed)
    for name in names:
        model = model_factory().to(device)
""",
            ),
        ),
        expect="same initial weights",
    ),
    Variant(
        name="one_model_trained_three_times",
        description="one model is built and each optimizer continues training it",
        replace=(
            (
                _COMPARE_LOOP,
                """\
    torch.manual_seed(seed)
    model = model_factory().to(device)
    for name in names:
""",
            ),
        ),
        expect="own fresh",
    ),
    Variant(
        name="compare_ignores_names",
        description="compare_optimizers builds every run's optimizer as Adam",
        replace=(
            (
                "optimizer = make_optimizer(name, model.parameters())",
                'optimizer = make_optimizer("adam", model.parameters())',
            ),
        ),
        expect="optimizer its name says",
    ),
    # --- plot_loss_curves -------------------------------------------------------------
    Variant(
        name="plot_validation_solid",
        description="validation curves are drawn solid like the training curves",
        replace=(('linestyle="--",', 'linestyle="-",'),),
        expect="dashed",
    ),
    Variant(
        name="plot_default_colours",
        description="no colour is passed, so every line takes the next colour of the cycle",
        replace=(("colour = colours(index % colours.N)", "colour = None"),),
        expect="colour",
    ),
    Variant(
        name="plot_not_saved",
        description="the figure is never written to `path`",
        replace=(('        figure.savefig(path, format="png", dpi=120)\n', "        pass\n"),),
        expect="PNG",
    ),
    Variant(
        name="plot_without_labels",
        description="no axis labels and no legend",
        replace=(
            (
                '    axes.set_xlabel("epoch")\n'
                '    axes.set_ylabel("cross-entropy loss (mean per sample)")\n',
                "",
            ),
            ("    axes.legend()\n    if path is not None:\n", "    if path is not None:\n"),
        ),
        expect="label",
    ),
    # --- summarize --------------------------------------------------------------------
    Variant(
        name="summarize_ties_to_first_name",
        description="a tie in the epoch goes to the first name, not the lower loss",
        replace=(("(epoch, loss) < fastest_key", "epoch < fastest_key[0]"),),
        expect="tie",
    ),
    Variant(
        name="summarize_best_val_over_epochs",
        description="lowest_val_loss uses each run's best epoch instead of its final one",
        replace=(('histories[name]["val_loss"][-1]', 'min(histories[name]["val_loss"])'),),
        expect="final",
    ),
    Variant(
        name="summarize_strict_threshold",
        description="a loss equal to the threshold does not count as reaching it",
        replace=(("if loss <= threshold:", "if loss < threshold:"),),
        expect="<=",
    ),
]

ALTERNATIVES = [
    Variant(
        name="plot_float32_tensors",
        description="plots each history as a float32 tensor: the same picture",
        replace=(('            history["train_loss"],\n',
                  '            torch.tensor(history["train_loss"]),\n'),
                 ('            history["val_loss"],\n            color=colour,\n',
                  '            torch.tensor(history["val_loss"]),\n            color=colour,\n')),
    ),
    Variant(
        name="adam_textbook_formula",
        description="Adam/AdamW with explicit m_hat and v_hat, as in the paper",
        definitions="""
        def _adam_moments_and_update(state, param, grad, group, beta1, beta2):
            state["t"] = state.get("t", 0) + 1
            if "m" not in state:
                state["m"] = torch.zeros_like(param)
                state["v"] = torch.zeros_like(param)
            state["m"] = beta1 * state["m"] + (1 - beta1) * grad
            state["v"] = beta2 * state["v"] + (1 - beta2) * grad**2
            m_hat = state["m"] / (1 - beta1 ** state["t"])
            v_hat = state["v"] / (1 - beta2 ** state["t"])
            param -= group["lr"] * m_hat / (torch.sqrt(v_hat) + group["eps"])
        """,
    ),
    Variant(
        name="adamw_subclasses_adam",
        description="AdamW as a subclass of Adam with the decay switched to decoupled",
        definitions="""
        class AdamW(Adam):
            decoupled = True

            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
                super().__init__(params, lr, betas, eps, weight_decay)


        class Adam(torch.optim.Optimizer):
            decoupled = False

            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
                super().__init__(params, defaults)

            @torch.no_grad()
            def step(self, closure=None):
                loss = None
                if closure is not None:
                    with torch.enable_grad():
                        loss = closure()
                for group in self.param_groups:
                    beta1, beta2 = group["betas"]
                    lr, decay = group["lr"], group["weight_decay"]
                    for param in [p for p in group["params"] if p.grad is not None]:
                        grad = param.grad
                        if self.decoupled:
                            param.mul_(1 - lr * decay)
                        else:
                            grad = grad + decay * param
                        state = self.state[param]
                        _adam_moments_and_update(state, param, grad, group, beta1, beta2)
                return loss
        """,
    ),
    Variant(
        name="sgd_functional_buffer",
        description="SGD momentum written out of place, buffer kept under another key",
        definitions="""
        class SGDMomentum(torch.optim.Optimizer):
            def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
                super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

            def step(self, closure=None):
                with torch.no_grad():
                    for group in self.param_groups:
                        for p in group["params"]:
                            if p.grad is None:
                                continue
                            d_p = p.grad + group["weight_decay"] * p
                            velocity = self.state[p].get("velocity")
                            if velocity is not None:
                                d_p = group["momentum"] * velocity + d_p
                            velocity = d_p
                            self.state[p]["velocity"] = velocity
                            p.copy_(p - group["lr"] * velocity)
                return None
        """,
    ),
    Variant(
        name="compare_with_deepcopy",
        description="one model built after seeding, each run trains a deep copy of it",
        replace=(
            (
                _COMPARE_LOOP,
                """\
    torch.manual_seed(seed)
    template = model_factory()
    for name in names:
        model = copy.deepcopy(template).to(device)
""",
            ),
        ),
        definitions="import copy\n",
    ),
    Variant(
        name="compare_with_state_dict",
        description="initial state saved once and loaded into a new model per run",
        replace=(
            (
                _COMPARE_LOOP,
                """\
    torch.manual_seed(seed)
    initial_state = {key: value.clone() for key, value in model_factory().state_dict().items()}
    for name in names:
        model = model_factory()
        model.load_state_dict(initial_state)
        model = model.to(device)
""",
            ),
        ),
    ),
    Variant(
        name="losses_summed_as_tensors",
        description="epoch losses summed as tensors on the device (reduction='sum'), one .item()",
        definitions="""
        def train_with_optimizer(model, optimizer, train_loader, val_loader, criterion, epochs,
                                 device):
            history = {"train_loss": [], "val_loss": []}
            for _epoch in range(epochs):
                model.train()
                total = torch.zeros((), device=device)
                count = 0
                for batch in train_loader:
                    batch = {key: value.to(device) for key, value in batch.items()}
                    logits = model(batch["sequence"], batch["mask"])
                    loss = criterion(logits, batch["label"])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach() * len(batch["label"])
                    count += len(batch["label"])
                history["train_loss"].append(float(total / count))
                model.eval()
                with torch.inference_mode():
                    total = torch.zeros((), device=device)
                    count = 0
                    for batch in val_loader:
                        logits = model(batch["sequence"].to(device), batch["mask"].to(device))
                        labels = batch["label"].to(device)
                        total += torch.nn.functional.cross_entropy(logits, labels, reduction="sum")
                        count += len(labels)
                history["val_loss"].append(float(total / count))
            return history
        """,
    ),
    Variant(
        name="plot_with_pyplot_two_panels",
        description="pyplot on the Agg backend, training and validation in two panels",
        definitions="""
        def plot_loss_curves(histories, path=None):
            import matplotlib.pyplot as plt

            plt.switch_backend("Agg")
            figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
            for index, (name, history) in enumerate(histories.items()):
                epochs = list(range(len(history["train_loss"])))
                colour = f"C{index}"
                left.plot(epochs, history["train_loss"], "-", color=colour, label=name)
                right.plot(epochs, history["val_loss"], ls="dashed", c=colour, label=name)
            for axes, title in ((left, "training"), (right, "validation")):
                axes.set_title(title)
                axes.set_xlabel("epoch")
                axes.set_ylabel("loss")
                axes.legend()
            if path:
                figure.savefig(path)
            plt.close(figure)
            return figure
        """,
    ),
    Variant(
        name="summarize_by_sorting",
        description="summarize by sorting (epoch, loss) keys",
        definitions="""
        def summarize(histories, threshold):
            reached = []
            for order, (name, history) in enumerate(histories.items()):
                epochs = [e for e, loss in enumerate(history["train_loss"]) if loss <= threshold]
                if epochs:
                    first = epochs[0]
                    reached.append((first, history["train_loss"][first], order, name))
            finals = sorted(
                (history["val_loss"][-1], order, name)
                for order, (name, history) in enumerate(histories.items())
            )
            return {
                "fastest": min(reached)[3] if reached else None,
                "lowest_val_loss": finals[0][2] if finals else None,
            }
        """,
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "train_with_optimizer": Batched("train_loader", batches=True),
    "validation_loss": Batched("loader", batches=True),
    "compare_optimizers": Batched("train_loader", batches=True),
}
