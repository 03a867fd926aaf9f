"""Models of the image demos: the 6-layer CNN without normalisation and torchvision ResNets.

Each builder returns ``(model, head)`` where ``head`` names the classifier module for
``nht_monitor.watch(head=...)``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

CNN6_WIDTHS = (32, 32, 64, 64, 128, 128)


class CNN6(nn.Module):
    """Six 3×3 conv layers (ReLU, max-pool after layers 2 and 4), global average pool, head.

    No normalisation layers: the weight norm is not scale-invariant, so weight decay
    acts on the function. With 10 classes and the default widths: 288,298 parameters.
    """

    def __init__(self, n_classes: int, widths: tuple[int, ...] = CNN6_WIDTHS) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for i, width in enumerate(widths):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            if i in (1, 3):
                layers.append(nn.MaxPool2d(2))
            channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


def build_image_model(name: str, n_classes: int, *, cifar_stem: bool,
                      weights: Path | None = None) -> tuple[nn.Module, str]:
    """``"cnn6"``, ``"cnn6-small"`` (quarter widths, for smoke runs), ``"resnet18"``/
    ``"resnet50"`` (torchvision, ``weights=None``; ``weights`` a local state-dict file to
    start from, e.g. ImageNet weights downloaded elsewhere; ``cifar_stem``: 3×3 stride-1
    first conv and no max-pool, for 32×32 inputs). Returns ``(model, head_name)``."""
    if name == "cnn6":
        return CNN6(n_classes), "head"
    if name == "cnn6-small":
        return CNN6(n_classes, widths=tuple(w // 4 for w in CNN6_WIDTHS)), "head"
    if name in ("resnet18", "resnet50"):
        import torchvision

        model = getattr(torchvision.models, name)(weights=None)
        if weights is not None:
            state = torch.load(Path(weights), map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        if cifar_stem:
            model.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
            model.maxpool = nn.Identity()
        model.fc = nn.Linear(model.fc.in_features, n_classes)
        return model, "fc"
    raise ValueError(f"model must be cnn6, cnn6-small, resnet18 or resnet50, got {name!r}")
