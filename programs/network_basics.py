"""The enzyme classifier of `exercises/network_basics.py`: its parameter shapes and counts,
and ReLU against GELU side by side (seconds).
"""

from __future__ import annotations

import torch
from torch import nn

from data import load_solubility
from data.features import composition_features
from programs.options import ProgramParser


def _parameter_table(model: nn.Module) -> list[str]:
    """One line per named parameter: name, shape, number of values, trainable or frozen."""
    return [f"  {name:<12} {str(tuple(parameter.shape)):<11} {parameter.numel():>7,}"
            f"{'' if parameter.requires_grad else '  (frozen)'}"
            for name, parameter in model.named_parameters()]


def _activation_summary(model: nn.Module) -> str:
    """The activation modules of `model`, counted by type, e.g. '3 x ReLU'."""
    kinds: dict[str, int] = {}
    for submodule in model.modules():
        if isinstance(submodule, nn.ReLU | nn.GELU | nn.PReLU):
            name = type(submodule).__name__
            kinds[name] = kinds.get(name, 0) + 1
    return ", ".join(f"{count} x {name}" for name, count in kinds.items()) or "none found"


def main(argv: list[str] | None = None) -> None:
    """Build the enzyme classifier, count its parameters, and swap ReLU for GELU."""
    parser = ProgramParser("network_basics", main.__doc__)
    parser.add_argument("--proteins", type=int, default=5,
                        help="embedded proteins whose compositions go through the network")
    parser.add_argument("--seed", type=int, default=0)
    args, impl = parser.start(argv)
    torch.manual_seed(args.seed)
    model = impl.EnzymeClassifier().to(args.device)
    print("EnzymeClassifier: 20 -> 128 -> 64 -> 32 -> 4")
    print("\n".join(_parameter_table(model)))
    by_hand = (20 * 128 + 128) + (128 * 64 + 64) + (64 * 32 + 32) + (32 * 4 + 4)
    relu_count = impl.count_trainable_parameters(model)
    print(f"trainable parameters: {relu_count:,} (by hand: 20*128+128 + 128*64+64 + "
          f"64*32+32 + 32*4+4 = {by_hand:,})")

    gelu_model = impl.replace_activations(model, nn.ReLU, nn.GELU)
    gelu_count = impl.count_trainable_parameters(gelu_model)
    print(f"\n{'':<22} {'original':>16} {'ReLU -> GELU copy':>20}")
    print(f"{'activations':<22} {_activation_summary(model):>16} "
          f"{_activation_summary(gelu_model):>20}")
    print(f"{'trainable parameters':<22} {relu_count:>16,} {gelu_count:>20,}")

    sequences = [record.sequence for record in load_solubility("train")[: args.proteins]]
    compositions = torch.tensor(composition_features(sequences)[:, :impl.NUM_FEATURES],
                                dtype=torch.float32, device=args.device)  # (N, 20)
    model.eval()
    gelu_model.eval()
    with torch.no_grad():
        relu_logits, gelu_logits = model(compositions), gelu_model(compositions)  # (N, 4)
    print(f"\nlogits of {len(sequences)} embedded proteins' compositions, shape "
          f"{tuple(relu_logits.shape)} (untrained weights: the classes mean nothing yet)")
    for relu_row, gelu_row in zip(relu_logits.tolist(), gelu_logits.tolist(), strict=True):
        print("  ReLU " + " ".join(f"{v:+.4f}" for v in relu_row)
              + "   GELU " + " ".join(f"{v:+.4f}" for v in gelu_row))
    print(f"largest |ReLU - GELU| logit difference: "
          f"{(relu_logits - gelu_logits).abs().max().item():.4f} (GELU is not 0 below 0)")

    prelu_model = impl.replace_activations(model, nn.ReLU, nn.PReLU)
    prelu_count = impl.count_trainable_parameters(prelu_model)
    print("\nThe count does not change: ReLU and GELU are fixed functions, with no parameters.")
    print(f"A learnable activation does add some: nn.PReLU learns one slope per module, and "
          f"its copy has {prelu_count:,} trainable parameters.")


if __name__ == "__main__":
    main()
