"""Known mistakes and correct alternatives for `learning_rates`."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

_STEP = """\
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
"""
_SET_RATE = """\
        rate = float(schedule(epoch))
        for group in optimizer.param_groups:
            group["lr"] = rate
        lrs.append(rate)
"""
_EPOCH_STEPS = """\
        for start in range(0, rows, size):
            losses += train_steps(model, optimizer, x[start:start + size],
                                  y[start:start + size], 1)
"""

PLOT = '            axes.plot(range(len(run["losses"])), run["losses"], label=label)\n'

MUTANTS = [
    # --- train_steps
    Variant(
        name="loss_after_update",
        description="records each loss after its update, from the updated parameters",
        replace=((_STEP, """\
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            history.append(nn.functional.mse_loss(model(x), y).item())
"""),),
        expect="record each loss before its update",
        knock_on=(("test_lr_sweep", "fix `train_steps` first"),
                  ("test_train_with_schedule_returns", "fix `train_steps` first")),
    ),
    Variant(
        name="no_zero_grad",
        description="never clears the gradients: each step follows their running sum",
        replace=(("        optimizer.zero_grad()\n        loss = nn.functional.mse_loss",
                  "        loss = nn.functional.mse_loss"),),
        expect="the gradients accumulate",
    ),
    # --- classify_run
    Variant(
        name="nan_not_diverged",
        description="compares the last loss with the first only: a nan run counts as good",
        replace=(("    if any(not math.isfinite(value) for value in losses) or last > losses[0]:",
                  "    if last > losses[0]:"),),
        expect="nan compares False",
    ),
    # --- lr_sweep
    Variant(
        name="sweep_reuses_model",
        description="makes one model per optimizer and trains it on for every rate",
        definitions='''
        def lr_sweep(x, y, rates=DEFAULT_RATES, steps=100, optimizers=OPTIMIZER_NAMES,
                     slow_factor=2.0):
            runs = []
            for name in optimizers:
                model = nn.Linear(x.shape[1], y.shape[1], device=x.device, dtype=x.dtype)
                with torch.no_grad():
                    model.weight.zero_()
                    model.bias.zero_()
                for lr in rates:
                    optimizer = make_sweep_optimizer(name, model.parameters(), lr)
                    history = train_steps(model, optimizer, x, y, steps)
                    runs.append({"optimizer": name, "lr": lr, "losses": history,
                                 "final_loss": history[-1]})
            best = min((r["final_loss"] for r in runs if math.isfinite(r["final_loss"])),
                       default=math.inf)
            for run in runs:
                run["regime"] = classify_run(run["losses"], best, slow_factor)
            return runs
        ''',
        expect="every run must start from scratch",
    ),
    # A student's case: classify_run blind to nan, and lr_sweep's models in float32 while
    # x is float64. lr_sweep raises before classify_run runs: the feedback shows the
    # float64 arguments and blames no helper; on float32 data the regimes are wrong, and
    # that comes from classify_run's value.
    Variant(
        name="float32_models_and_nan_blind_regimes",
        description="lr_sweep makes float32 models whatever x's dtype; classify_run misses nan",
        replace=(("            model = nn.Linear(x.shape[1], y.shape[1], device=x.device, "
                  "dtype=x.dtype)\n",
                  "            model = nn.Linear(x.shape[1], y.shape[1], device=x.device)\n"),
                 ("    if any(not math.isfinite(value) for value in losses) or last > losses[0]:"
                  "\n", "    if last > losses[0]:\n")),
        expect="test every loss with math.isfinite",
        unblamed=(("test_lr_sweep", "tensor arguments: x float64 (24, 3) on cpu"),),
    ),
    Variant(
        name="sweep_defaults_ten_steps",
        description="lr_sweep defaults to 10 steps per run, not 100",
        replace=(("def lr_sweep(x: Tensor, y: Tensor, rates: Sequence[float] = DEFAULT_RATES, "
                  "steps: int = 100,\n",
                  "def lr_sweep(x: Tensor, y: Tensor, rates: Sequence[float] = DEFAULT_RATES, "
                  "steps: int = 10,\n"),),
        expect="check the defaults (rates, 100 steps",
        full=True,  # only the gene-expression sweep (a full-grade check) uses the defaults
    ),
    # --- plot_sweep
    Variant(
        name="plot_linear_scale",
        description="leaves the y axis linear",
        replace=(('        axes.set_yscale("log")\n', ""),),
        expect="log scale",
    ),
    Variant(
        name="plot_not_saved",
        description="never saves the figure",
        replace=(('    if path is not None:\n        figure.savefig(path, format="png", dpi=100)\n',
                  ""),),
        expect="should write a PNG at path",
    ),
    Variant(
        name="plot_leaves_out_diverged_runs",
        description="draws no line for a run whose losses reach inf",
        replace=(('            if run["optimizer"] != name:\n',
                  '            if run["optimizer"] != name or not math.isfinite(run["losses"][-1]):'
                  '\n'),),
        expect="has no line that draws the losses of lr 5.0",
    ),
    # --- the schedules
    Variant(
        name="step_decay_every_epoch",
        description="multiplies by gamma every epoch, ignoring step_size",
        replace=(("    decays = epoch // step_size\n", "    decays = epoch\n"),),
        expect="once every step_size epochs",
    ),
    Variant(
        name="step_decay_one_epoch_early",
        description="counts epochs from 1: the first decay comes one epoch early",
        replace=(("    decays = epoch // step_size\n", "    decays = (epoch + 1) // step_size\n"),),
        expect="the first decay comes at epoch step_size",
    ),
    Variant(
        name="cosine_ignores_eta_min",
        description="anneals from base_lr down to 0 whatever eta_min",
        replace=(("    return float(eta_min + (base_lr - eta_min) * (1.0 + math.cos(phase)) / 2.0)",
                  "    return float(base_lr * (1.0 + math.cos(phase)) / 2.0)"),),
        expect="eta_min is the floor",
        knock_on=(("test_warmup_cosine", "fix `cosine_annealing` first"),),
    ),
    Variant(
        name="warmup_at_full_rate",
        description="runs the warm-up epochs at base_lr: start_factor ignored",
        replace=(("        return float(base_lr * ramp)\n", "        return float(base_lr)\n"),),
        expect="the warm-up starts at start_factor * base_lr",
    ),
    Variant(
        name="cosine_not_shifted",
        description="starts the cosine's clock at epoch 0 instead of at the end of the warm-up",
        replace=(("    return cosine_annealing(epoch - warmup_epochs, base_lr,",
                  "    return cosine_annealing(epoch, base_lr,"),),
        expect="the cosine starts at epoch warmup_epochs",
    ),
    Variant(
        name="step_decay_with_steplr",
        description="steps torch's StepLR `epoch` times and reads the rate",
        definitions='''
        def step_decay(epoch, base_lr, step_size, gamma):
            weight = torch.zeros(1, requires_grad=True)
            optimizer = torch.optim.SGD([weight], lr=base_lr)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
            for _ in range(epoch):
                optimizer.step()
                scheduler.step()
            return optimizer.param_groups[0]["lr"]
        ''',
        expect="step_decay uses torch.optim.lr_scheduler.StepLR; write the schedule as a "
        "formula of the epoch, without torch.optim.lr_scheduler",
    ),
    # --- train_with_schedule
    Variant(
        name="rate_set_after_epoch",
        description="sets each epoch's rate after its updates: every rate one epoch late",
        replace=((_SET_RATE + _EPOCH_STEPS, _EPOCH_STEPS + _SET_RATE),),
        expect="before its first update",
    ),
    Variant(
        name="rate_as_attribute",
        description="stores the rate in optimizer.lr, which torch's SGD never reads",
        replace=(('        for group in optimizer.param_groups:\n            group["lr"] = rate\n',
                  "        optimizer.lr = rate\n"),),
        expect="param_groups",
    ),
]

ALTERNATIVES = [
    # The handout: "infinite and nan losses are simply not drawn". These draw the same
    # picture as the reference, which plots the raw list.
    Variant(
        name="plot_finite_points_only",
        description="plots only the finite losses (a diverged run's trailing inf dropped)",
        replace=((PLOT, '            axes.plot([loss for loss in run["losses"] if '
                  'math.isfinite(loss)], label=label)\n'),),
    ),
    Variant(
        name="plot_inf_as_nan",
        description="plots the losses with inf replaced by nan",
        replace=((PLOT, '            axes.plot([loss if math.isfinite(loss) else math.nan for '
                  'loss in run["losses"]], label=label)\n'),),
    ),
    Variant(
        name="schedules_other_forms",
        description="step decay by repeated products, the cosine as a squared cosine, the "
        "warm-up by interpolation",
        definitions='''
        def step_decay(epoch, base_lr, step_size, gamma):
            rate = base_lr
            for _ in range(epoch // step_size):
                rate *= gamma
            return rate

        def cosine_annealing(epoch, base_lr, T_max, eta_min=0.0):
            return eta_min + (base_lr - eta_min) * math.cos(math.pi * epoch / (2 * T_max)) ** 2

        def warmup_cosine(epoch, base_lr, warmup_epochs, start_factor, total_epochs,
                          eta_min=0.0):
            if epoch >= warmup_epochs:
                return cosine_annealing(epoch - warmup_epochs, base_lr,
                                        total_epochs - warmup_epochs, eta_min)
            fraction = epoch / warmup_epochs
            return (1 - fraction) * start_factor * base_lr + fraction * base_lr
        ''',
    ),
    Variant(
        name="explicit_loss_zero_after_step",
        description="writes the MSE out, clears gradients after each step, keeps floats",
        definitions='''
        def train_steps(model, optimizer, x, y, steps):
            losses = []
            optimizer.zero_grad(set_to_none=True)
            for _ in range(steps):
                loss = ((model(x) - y) ** 2).mean()
                losses.append(float(loss.detach()))
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            return losses

        def classify_run(losses, best_loss, slow_factor=2.0):
            import numpy as np

            values = np.asarray(losses, dtype=float)
            if not np.isfinite(values).all() or values[-1] > values[0]:
                return "diverged"
            if values[-1] <= slow_factor * best_loss:
                return "good"
            return "slow"
        ''',
    ),
    Variant(
        name="sweep_resets_one_model",
        description="keeps one model and zeroes it before every run, with a fresh optimizer; "
        "mini-batches by torch.split",
        definitions='''
        def lr_sweep(x, y, rates=DEFAULT_RATES, steps=100, optimizers=OPTIMIZER_NAMES,
                     slow_factor=2.0):
            model = torch.nn.Linear(x.shape[1], y.shape[1]).to(device=x.device, dtype=x.dtype)
            runs = []
            for name in optimizers:
                for lr in rates:
                    for parameter in model.parameters():
                        parameter.data.fill_(0.0)
                    optimizer = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name](
                        model.parameters(), lr=lr)
                    losses = train_steps(model, optimizer, x, y, steps)
                    runs.append({"optimizer": name, "lr": lr, "losses": losses,
                                 "final_loss": losses[-1]})
            finals = sorted(r["final_loss"] for r in runs if math.isfinite(r["final_loss"]))
            best = finals[0] if finals else math.inf
            return [{**run, "regime": classify_run(run["losses"], best, slow_factor)}
                    for run in runs]

        def train_with_schedule(model, optimizer, x, y, schedule, epochs, batch_size=None):
            pieces = list(zip(torch.split(x, batch_size or len(x)),
                              torch.split(y, batch_size or len(y)), strict=True))
            result = {"lrs": [], "losses": []}
            for epoch in range(epochs):
                result["lrs"].append(schedule(epoch))
                for group in optimizer.param_groups:
                    group.update(lr=result["lrs"][-1])
                for inputs, targets in pieces:
                    result["losses"].extend(train_steps(model, optimizer, inputs, targets, 1))
            return result
        ''',
    ),
    Variant(
        name="pyplot_agg",
        description="draws with pyplot on the Agg backend, one subplot per optimizer",
        definitions='''
        def plot_sweep(runs, path=None):
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            names = sorted({run["optimizer"] for run in runs},
                           key=[run["optimizer"] for run in runs].index)
            figure, panels = plt.subplots(1, len(names), figsize=(10, 4), squeeze=False)
            for axes, name in zip(panels[0], names, strict=True):
                for run in (r for r in runs if r["optimizer"] == name):
                    axes.semilogy(run["losses"], label=f"lr={run['lr']}")
                axes.set(title=f"{name.upper()} / {name}", xlabel="update", ylabel="MSE")
                axes.legend()
            if path:
                figure.savefig(path)
            plt.close(figure)
            return figure
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "train_steps": Batched("x"),
    "lr_sweep": Batched("x"),
    "train_with_schedule": Batched("x"),
}
