"""Known mistakes and correct alternatives for `grad_accumulation`."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

_CLIP_THEN_STEP = """\
        if max_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
"""

MUTANTS = [
    Variant(
        name="no_loss_scaling",
        description="backward() on each micro-batch's mean loss: the gradient is k times too large",
        replace=(("(loss * (count / total_samples)).backward()", "loss.backward()"),),
        expect="x the one-batch gradient",
        knock_on=(("test_epoch_equals_large_batch_training", "fix `accumulate_gradients` first"),),
    ),
    Variant(
        name="scale_by_micro_batch_count",
        description="divides each loss by the number of micro-batches, wrong for unequal sizes",
        replace=(
            ("(loss * (count / total_samples)).backward()", "(loss / len(micro_batches)).backward()"),
        ),
        expect="not by 1 / number of micro-batches",
    ),
    Variant(
        name="zero_inside_accumulate",
        description="zeroes the gradients inside accumulate_gradients: replaces existing .grad",
        replace=(
            (
                "    loss_sum = 0.0\n    for (inputs, targets), count",
                "    model.zero_grad()\n    loss_sum = 0.0\n    for (inputs, targets), count",
            ),
        ),
        expect="replaced instead of added to",
    ),
    Variant(
        name="accumulate_returns_last_loss",
        description="accumulate_gradients returns the last micro-batch's loss",
        replace=(
            (
                "    return loss_sum / total_samples\n    # END SOLUTION\n\n\ndef _grouped",
                "    return loss.item()\n    # END SOLUTION\n\n\ndef _grouped",
            ),
        ),
        expect="loss of the last micro-batch",
    ),
    Variant(
        name="zero_grad_every_micro_batch",
        description="calls zero_grad before every micro-batch: only the last one's gradient is kept",
        definitions='''
        def train_epoch_accumulated(
            model, loader, criterion, optimizer, accumulation_steps, device, max_grad_norm=None
        ):
            model.train()
            loss_sum, total_samples = 0.0, 0
            for group in _grouped(loader, accumulation_steps):
                group_samples = sum(targets.shape[0] for _, targets in group)
                for inputs, targets in group:
                    inputs, targets = inputs.to(device), targets.to(device)
                    optimizer.zero_grad()
                    loss = criterion(model(inputs), targets)
                    (loss * targets.shape[0] / group_samples).backward()
                    loss_sum += loss.item() * targets.shape[0]
                    total_samples += targets.shape[0]
                if max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
            return loss_sum / total_samples
        ''',
        expect="once per effective batch",
    ),
    Variant(
        name="step_every_micro_batch",
        description="steps after every micro-batch instead of once per effective batch",
        definitions='''
        def train_epoch_accumulated(
            model, loader, criterion, optimizer, accumulation_steps, device, max_grad_norm=None
        ):
            model.train()
            loss_sum, total_samples = 0.0, 0
            for group in _grouped(loader, accumulation_steps):
                optimizer.zero_grad()
                group_samples = sum(targets.shape[0] for _, targets in group)
                for inputs, targets in group:
                    inputs, targets = inputs.to(device), targets.to(device)
                    loss = criterion(model(inputs), targets)
                    (loss * targets.shape[0] / group_samples).backward()
                    if max_grad_norm is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                    optimizer.step()
                    loss_sum += loss.item() * targets.shape[0]
                    total_samples += targets.shape[0]
            return loss_sum / total_samples
        ''',
        expect="after every micro-batch",
    ),
    Variant(
        name="drop_last_group",
        description="a trailing group shorter than accumulation_steps is never stepped",
        replace=(("    if group:\n        yield group\n", ""),),
        expect="trailing shorter group was not stepped",
    ),
    Variant(
        name="scale_by_accumulation_steps",
        description="divides each loss by accumulation_steps: the trailing group is under-weighted",
        definitions='''
        def train_epoch_accumulated(
            model, loader, criterion, optimizer, accumulation_steps, device, max_grad_norm=None
        ):
            model.train()
            loss_sum, total_samples = 0.0, 0
            for group in _grouped(loader, accumulation_steps):
                optimizer.zero_grad()
                for inputs, targets in group:
                    inputs, targets = inputs.to(device), targets.to(device)
                    loss = criterion(model(inputs), targets)
                    (loss / accumulation_steps).backward()
                    loss_sum += loss.item() * targets.shape[0]
                    total_samples += targets.shape[0]
                if max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
            return loss_sum / total_samples
        ''',
        expect="its own samples",
    ),
    Variant(
        name="clip_each_micro_batch",
        description="clips each micro-batch's gradient instead of the accumulated one",
        definitions='''
        def train_epoch_accumulated(
            model, loader, criterion, optimizer, accumulation_steps, device, max_grad_norm=None
        ):
            model.train()
            loss_sum, total_samples = 0.0, 0
            for group in _grouped(loader, accumulation_steps):
                optimizer.zero_grad()
                group_samples = sum(targets.shape[0] for _, targets in group)
                for inputs, targets in group:
                    inputs, targets = inputs.to(device), targets.to(device)
                    loss = criterion(model(inputs), targets)
                    (loss * targets.shape[0] / group_samples).backward()
                    if max_grad_norm is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                    loss_sum += loss.item() * targets.shape[0]
                    total_samples += targets.shape[0]
                optimizer.step()
            return loss_sum / total_samples
        ''',
        expect="not each micro-batch",
    ),
    Variant(
        name="clip_after_step",
        description="clips after optimizer.step(): the step used the unclipped gradient",
        replace=(
            (
                _CLIP_THEN_STEP,
                """\
        optimizer.step()
        if max_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
""",
            ),
        ),
        expect="before optimizer.step()",
    ),
    Variant(
        name="ignores_max_grad_norm",
        description="never clips",
        replace=((_CLIP_THEN_STEP, "        optimizer.step()\n"),),
        expect="before optimizer.step()",
    ),
    Variant(
        name="zero_grad_after_step",
        description="zeroes after each step only: gradients from before the epoch leak into "
        "the first effective batch",
        replace=(
            ("        optimizer.zero_grad()\n        mean_loss", "        mean_loss"),
            ("        optimizer.step()\n", "        optimizer.step()\n        optimizer.zero_grad()\n"),
        ),
        expect="left over from before the epoch",
    ),
    Variant(
        name="returns_last_group_loss",
        description="train_epoch_accumulated returns the last effective batch's loss",
        replace=(
            (
                'yielded no samples")\n    return loss_sum / total_samples\n',
                'yielded no samples")\n    return mean_loss\n',
            ),
        ),
        expect="loss of the last effective batch",
    ),
    Variant(
        name="mean_of_group_means",
        description="averages the effective batches' mean losses without weighting by size",
        replace=(
            ("loss_sum += mean_loss * group_samples", "loss_sum += mean_loss"),
            ("total_samples += group_samples", "total_samples += 1"),
        ),
        expect="weight each by its number of samples",
    ),
    Variant(
        name="not_moving_batches_to_device",
        description="feeds the loader's batches to the model without moving them to device",
        replace=(
            (
                "micro_batches = [(inputs.to(device), targets.to(device)) for inputs, targets in group]",
                "micro_batches = list(group)",
            ),
        ),
        expect="to(device)",
    ),
    Variant(
        name="forgets_train_mode",
        description="never calls model.train(): a model left in eval mode trains in eval mode",
        replace=(("    model.train()\n", ""),),
        expect="model.train()",
    ),
    Variant(
        name="accumulated_loss_keeps_graph",
        description="accumulate_gradients sums the micro-batch losses as tensors: the loss it "
        "returns holds their autograd graphs",
        replace=(("        loss_sum += loss.item() * count\n", "        loss_sum += loss * count\n"),),
        expect="memory leak",
        knock_on=(("test_epoch_returns_mean_loss_per_sample", "fix `accumulate_gradients` first"),),
    ),
]

ALTERNATIVES = [
    Variant(
        name="sum_reduction_manual_division",
        description="backward on each micro-batch's summed loss, then divide .grad by N by hand",
        definitions='''
        def accumulate_gradients(model, criterion, micro_batches):
            parameters = [p for p in model.parameters() if p.requires_grad]
            previous = [p.grad for p in parameters]
            for p in parameters:
                p.grad = None
            total_samples = 0
            loss_sum = 0.0
            for inputs, targets in micro_batches:
                summed_loss = criterion(model(inputs), targets) * targets.shape[0]
                summed_loss.backward()
                total_samples += targets.shape[0]
                loss_sum += summed_loss.item()
            for p, old in zip(parameters, previous):
                if p.grad is None:
                    p.grad = old
                    continue
                p.grad.div_(total_samples)
                if old is not None:
                    p.grad.add_(old)
            return loss_sum / total_samples
        ''',
    ),
    Variant(
        name="autograd_grad_by_hand",
        description="torch.autograd.grad per micro-batch, added into .grad by hand",
        definitions='''
        def accumulate_gradients(model, criterion, micro_batches):
            parameters = [p for p in model.parameters() if p.requires_grad]
            total_samples = sum(int(targets.shape[0]) for _, targets in micro_batches)
            mean_loss = torch.zeros(())
            for inputs, targets in micro_batches:
                share = targets.shape[0] / total_samples
                loss = criterion(model(inputs), targets)
                grads = torch.autograd.grad(loss * share, parameters, allow_unused=True)
                for p, grad in zip(parameters, grads):
                    if grad is None:
                        continue
                    if p.grad is None:
                        p.grad = grad.detach().clone()
                    else:
                        p.grad.add_(grad)
                mean_loss = mean_loss + loss.detach().cpu() * share
            return float(mean_loss)
        ''',
    ),
    Variant(
        name="enumerate_modulo_loop",
        description="the classic streaming loop: sum-weighted backward, divide by the group's "
        "sample count at step time, zero before the loop and after each step",
        definitions='''
        def train_epoch_accumulated(
            model, loader, criterion, optimizer, accumulation_steps, device, max_grad_norm=None
        ):
            def finish_group(group_samples):
                for p in model.parameters():
                    if p.grad is not None:
                        p.grad /= group_samples
                if max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)

            model.train()
            optimizer.zero_grad()
            epoch_loss, epoch_samples, group_samples = 0.0, 0, 0
            for step, (inputs, targets) in enumerate(loader, start=1):
                inputs = inputs.to(device, non_blocking=True)
                targets = targets.to(device, non_blocking=True)
                batch_size = targets.size(0)
                loss = criterion(model(inputs), targets)
                (loss * batch_size).backward()
                group_samples += batch_size
                epoch_loss += loss.item() * batch_size
                epoch_samples += batch_size
                if step % accumulation_steps == 0:
                    finish_group(group_samples)
                    group_samples = 0
            if group_samples:
                finish_group(group_samples)
            return epoch_loss / epoch_samples
        ''',
    ),
    Variant(
        name="islice_groups_model_zero_grad",
        description="groups with itertools.islice, zeroes through the model with set_to_none=False",
        definitions='''
        import itertools

        def train_epoch_accumulated(
            model, loader, criterion, optimizer, accumulation_steps, device, max_grad_norm=None
        ):
            model.train()
            batches = iter(loader)
            losses = []
            while group := list(itertools.islice(batches, accumulation_steps)):
                group = [(x.to(device=device), y.to(device=device)) for x, y in group]
                model.zero_grad(set_to_none=False)
                mean_loss = accumulate_gradients(model, criterion, group)
                if max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                losses.append((mean_loss, sum(len(y) for _, y in group)))
            return sum(loss * n for loss, n in losses) / sum(n for _, n in losses)
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "accumulate_gradients": Batched("micro_batches", batches=True),
    "train_epoch_accumulated": Batched("loader", batches=True),
}
