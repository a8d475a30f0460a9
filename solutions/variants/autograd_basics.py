"""Known mistakes and correct alternatives for `autograd_basics`."""

from __future__ import annotations

from grader.tests.batch_of_one import Batched
from solutions.variants import Variant

# The fewest known mistakes and correct alternatives this exercise keeps (its issue's).
MINIMUMS = (10, 3)

_MANUAL_RESIDUALS = "    residuals = x @ W.T + b - y  # (N, O)\n    grad_predictions"
_AUTOGRAD_STEP = """\
            loss.backward()
            losses.append(loss.item())
            with torch.no_grad():
                W -= lr * W.grad
                b -= lr * b.grad
            W.grad.zero_()
            b.grad.zero_()
"""

MUTANTS = [
    # --- mse_loss
    Variant(
        name="loss_sum",
        description="sums the squared residuals instead of averaging them",
        replace=(("    return (residuals**2).mean()\n", "    return (residuals**2).sum()\n"),),
        expect="you took the sum",
    ),
    Variant(
        name="loss_mean_over_samples",
        description="divides the summed squared residuals by N, not N*O",
        replace=(("    return (residuals**2).mean()\n",
                  "    return (residuals**2).sum() / x.shape[0]\n"),),
        expect="not over the N samples only",
    ),
    Variant(
        name="model_without_bias",
        description="leaves b out of the model in mse_loss",
        replace=(("    residuals = x @ W.T + b - y  # (N, O)\n    return",
                  "    residuals = x @ W.T - y  # (N, O)\n    return"),),
        expect="you left out b",
        knock_on=(("test_autograd_gradients", "fix `mse_loss` first"),),
    ),
    Variant(
        name="loss_rmse",
        description="returns the root of the mean squared error",
        replace=(("    return (residuals**2).mean()\n",
                  "    return (residuals**2).mean().sqrt()\n"),),
        expect="that is the RMSE",
    ),
    Variant(
        name="loss_item",
        description="returns the loss as a Python float",
        replace=(("    return (residuals**2).mean()\n",
                  "    return (residuals**2).mean().item()\n"),),
        expect="should return a torch.Tensor",
    ),
    # --- manual_gradients
    Variant(
        name="gradient_missing_factor_2",
        description="differentiates r^2 as r: both gradients are half the right ones",
        replace=(("grad_predictions = 2.0 * residuals / residuals.numel()",
                  "grad_predictions = residuals / residuals.numel()"),),
        expect="the factor 2 is missing",
        knock_on=(("test_gradient_descent_manual", "fix `manual_gradients` first"),),
    ),
    Variant(
        name="gradient_of_sum",
        description="forgets to divide by N*O: the gradient of the summed squared error",
        replace=(("grad_predictions = 2.0 * residuals / residuals.numel()",
                  "grad_predictions = 2.0 * residuals"),),
        expect="your gradient is that of the sum",
    ),
    Variant(
        name="gradient_mean_over_samples",
        description="divides by N instead of N*O (right for one output only)",
        replace=(("grad_predictions = 2.0 * residuals / residuals.numel()",
                  "grad_predictions = 2.0 * residuals / x.shape[0]"),),
        expect="not over the N samples only",
    ),
    Variant(
        name="gradient_W_transposed",
        description="returns x.T @ (dL/dy_hat), the (F, O) transpose of dL/dW",
        replace=(("return grad_predictions.T @ x, grad_predictions.sum(dim=0)",
                  "return x.T @ grad_predictions, grad_predictions.sum(dim=0)"),),
        expect="grad_W is transposed",
    ),
    Variant(
        name="gradient_b_zero",
        description="returns zeros for dL/db",
        replace=(("return grad_predictions.T @ x, grad_predictions.sum(dim=0)",
                  "return grad_predictions.T @ x, torch.zeros_like(b)"),),
        expect="dL/db is not zero",
    ),
    Variant(
        name="gradient_sign_flipped",
        description="uses the residual y - y_hat: both gradients point uphill",
        replace=((_MANUAL_RESIDUALS,
                  "    residuals = y - x @ W.T - b  # (N, O)\n    grad_predictions"),),
        expect="the sign is flipped",
    ),
    Variant(
        name="manual_uses_autograd",
        description="computes manual_gradients with torch.autograd.grad",
        definitions='''
        def manual_gradients(W, b, x, y):
            W_leaf = W.detach().requires_grad_(True)
            b_leaf = b.detach().requires_grad_(True)
            return torch.autograd.grad(mse_loss(W_leaf, b_leaf, x, y), (W_leaf, b_leaf))
        ''',
        expect="write the chain rule yourself, without autograd",
        knock_on=(("test_gradient_descent_manual", "fix `manual_gradients` first"),),
    ),
    Variant(
        name="manual_descent_through_autograd",
        description="gradient_descent(use_autograd=False) takes its gradients from a helper "
                    "that re-enables grad and calls torch.autograd.grad",
        replace=(("            grad_W, grad_b = manual_gradients(W, b, x, y)\n",
                  "            grad_W, grad_b = _step_gradients(W, b, x, y)\n"),),
        definitions='''
        def _step_gradients(W, b, x, y):
            with torch.enable_grad():
                W_leaf = W.detach().requires_grad_(True)
                b_leaf = b.detach().requires_grad_(True)
                return torch.autograd.grad(mse_loss(W_leaf, b_leaf, x, y), (W_leaf, b_leaf))
        ''',
        expect="gradient_descent on its by-hand path uses torch.autograd.grad",
    ),
    # --- autograd_gradients
    Variant(
        name="autograd_on_callers_tensors",
        description="sets requires_grad on the caller's W and b and returns their .grad",
        definitions='''
        def autograd_gradients(W, b, x, y):
            W.requires_grad_(True)
            b.requires_grad_(True)
            mse_loss(W, b, x, y).backward()
            return W.grad, b.grad
        ''',
        expect="added into the caller's .grad",
        keeps=("test_autograd_gradients",),
    ),
    Variant(
        name="autograd_resets_callers_grad",
        description="clears the caller's .grad and turns on its requires_grad",
        definitions='''
        def autograd_gradients(W, b, x, y):
            W.requires_grad_(True)
            b.requires_grad_(True)
            W.grad, b.grad = None, None
            mse_loss(W, b, x, y).backward()
            return W.grad, b.grad
        ''',
        expect="changed requires_grad of the caller's",
        keeps=("test_autograd_gradients",),
    ),
    Variant(
        name="autograd_without_requires_grad",
        description="calls backward() on a loss of copies that do not require grad",
        definitions='''
        def autograd_gradients(W, b, x, y):
            W_copy, b_copy = W.detach().clone(), b.detach().clone()
            mse_loss(W_copy, b_copy, x, y).backward()
            return W_copy.grad, b_copy.grad
        ''',
        expect="set requires_grad=True on copies",
    ),
    # --- gradient_descent
    Variant(
        name="descent_gradient_ascent",
        description="adds lr times the gradient in the manual version",
        replace=(("            W = W - lr * grad_W\n            b = b - lr * grad_b\n",
                  "            W = W + lr * grad_W\n            b = b + lr * grad_b\n"),),
        expect="gradient ascent",
    ),
    Variant(
        name="descent_loss_after_update",
        description="records the loss after each update in the manual version",
        replace=((
            "            losses.append(mse_loss(W, b, x, y).item())\n"
            "            grad_W, grad_b = manual_gradients(W, b, x, y)\n"
            "            W = W - lr * grad_W\n            b = b - lr * grad_b\n",
            "            grad_W, grad_b = manual_gradients(W, b, x, y)\n"
            "            W = W - lr * grad_W\n            b = b - lr * grad_b\n"
            "            losses.append(mse_loss(W, b, x, y).item())\n"),),
        expect="record each loss before its update",
    ),
    Variant(
        name="descent_no_zero_grad",
        description="never zeroes .grad in the autograd loop: the gradients accumulate",
        replace=(("            W.grad.zero_()\n            b.grad.zero_()\n", ""),),
        expect="zero W.grad and b.grad after each update",
    ),
    Variant(
        name="descent_update_without_no_grad",
        description="updates the leaves in place without torch.no_grad()",
        replace=((
            "            with torch.no_grad():\n                W -= lr * W.grad\n"
            "                b -= lr * b.grad\n",
            "            W -= lr * W.grad\n            b -= lr * b.grad\n"),),
        expect="inside `with torch.no_grad():`",
    ),
    Variant(
        name="descent_autograd_calls_manual",
        description="the autograd loop takes its gradients from manual_gradients",
        replace=((_AUTOGRAD_STEP, """\
            losses.append(loss.item())
            grad_W, grad_b = manual_gradients(W, b, x, y)
            with torch.no_grad():
                W -= lr * grad_W
                b -= lr * grad_b
"""),),
        expect="come from loss.backward()",
    ),
    Variant(
        name="descent_modifies_initial",
        description="starts from the caller's initial tensors themselves, not copies",
        replace=(("initial_W.detach().clone()", "initial_W"),
                 ("initial_b.detach().clone()", "initial_b")),
        expect="modified initial_W or initial_b in place",
    ),
    Variant(
        name="descent_keeps_loss_tensors",
        description="keeps each loss as a tensor with its graph in the autograd loop",
        replace=(("            losses.append(loss.item())\n", "            losses.append(loss)\n"),),
        expect="requires_grad=True",
    ),
    Variant(
        name="descent_returns_leaves",
        description="returns the parameters without detaching them",
        replace=(('return {"losses": losses, "W": W.detach(), "b": b.detach()}',
                  'return {"losses": losses, "W": W, "b": b}'),),
        expect="still requires grad",
    ),
]

ALTERNATIVES = [
    Variant(
        name="functional_and_einsum",
        description="F.mse_loss of F.linear; the chain rule with einsum",
        definitions='''
        import torch.nn.functional as F

        def mse_loss(W, b, x, y):
            return F.mse_loss(F.linear(x, W, b), y)

        def manual_gradients(W, b, x, y):
            samples, outputs = y.shape
            residuals = torch.einsum("nf,of->no", x, W) + b - y
            grad_W = torch.einsum("no,nf->of", residuals, x) * (2.0 / (samples * outputs))
            grad_b = 2.0 * residuals.mean(dim=0) / outputs
            return grad_W, grad_b
        ''',
    ),
    Variant(
        name="notes_style_autograd",
        description="torch.autograd.grad; the loop updates .data and sets .grad to None",
        definitions='''
        def autograd_gradients(W, b, x, y):
            W_leaf = W.detach().clone().requires_grad_(True)
            b_leaf = b.detach().clone().requires_grad_(True)
            grad_W, grad_b = torch.autograd.grad(mse_loss(W_leaf, b_leaf, x, y), [W_leaf, b_leaf])
            return grad_W, grad_b

        def gradient_descent(x, y, lr, steps, *, use_autograd=False, initial_W=None,
                             initial_b=None):
            W = torch.zeros(y.shape[1], x.shape[1], dtype=x.dtype, device=x.device)
            b = torch.zeros(y.shape[1], dtype=x.dtype, device=x.device)
            if initial_W is not None:
                W.copy_(initial_W)
            if initial_b is not None:
                b.copy_(initial_b)
            losses = []
            if use_autograd:
                W.requires_grad = True
                b.requires_grad = True
                for _ in range(steps):
                    loss = mse_loss(W, b, x, y)
                    losses.append(float(loss))
                    loss.backward()
                    W.data -= lr * W.grad
                    b.data -= lr * b.grad
                    W.grad = None
                    b.grad = None
                return {"losses": losses, "W": W.detach(), "b": b.detach()}
            for _ in range(steps):
                grad_W, grad_b = manual_gradients(W, b, x, y)
                losses.append(float(mse_loss(W, b, x, y)))
                W -= lr * grad_W
                b -= lr * grad_b
            return {"losses": losses, "W": W, "b": b}
        ''',
    ),
    Variant(
        name="per_output_loops",
        description="the notes' one-output formulas, output by output, with Python loops",
        definitions='''
        def manual_gradients(W, b, x, y):
            samples, outputs = y.shape
            grad_W, grad_b = torch.zeros_like(W), torch.zeros_like(b)
            for o in range(outputs):
                for n in range(samples):
                    error = x[n] @ W[o] + b[o] - y[n, o]
                    grad_W[o] += 2.0 * error * x[n] / (samples * outputs)
                    grad_b[o] += 2.0 * error / (samples * outputs)
            return grad_W, grad_b
        ''',
    ),
    Variant(
        name="descent_through_autograd_gradients",
        description="the autograd version calls autograd_gradients every step",
        definitions='''
        def gradient_descent(x, y, lr, steps, *, use_autograd=False, initial_W=None,
                             initial_b=None):
            zeros_W = torch.zeros(y.shape[1], x.shape[1], dtype=x.dtype, device=x.device)
            zeros_b = torch.zeros(y.shape[1], dtype=x.dtype, device=x.device)
            W = zeros_W if initial_W is None else initial_W.clone()
            b = zeros_b if initial_b is None else initial_b.clone()
            gradients = autograd_gradients if use_autograd else manual_gradients
            losses = []
            for _ in range(steps):
                losses.append(mse_loss(W, b, x, y).item())
                grad_W, grad_b = gradients(W, b, x, y)
                W, b = W - lr * grad_W, b - lr * grad_b
            return {"losses": losses, "W": W, "b": b}
        ''',
    ),
]

# The kit's batch-of-one rule (grader.tests.batch_of_one): what takes a batch (the argument
# that holds it), and what is exempt, with its reason.
BATCHED = {
    "mse_loss": Batched("x"),
    "manual_gradients": Batched("x"),
    "gradient_descent": Batched("x"),
}
