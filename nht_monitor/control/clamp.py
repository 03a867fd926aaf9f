"""NormClamp: pin the total L2 norm of chosen parameters after every optimizer step.

``NormClamp(model, target=40.0).attach(optimizer)`` registers an optimizer step
post-hook that rescales the chosen parameters (default ``params="weights"``: every
parameter except biases and the parameters of normalisation layers) so that their
total L2 norm equals the target. The target is a fixed float or a schedule:

- ``{"kind": "constant", "value": 40.0}`` (same as ``40.0``),
- ``{"kind": "linear", "start": 60.0, "end": 40.0, "steps": 1000}`` (then held at ``end``),
- ``{"kind": "relative", "factor": 0.8}``: the norm at :meth:`NormClamp.attach` (or at
  the first step, ``"capture": "first_step"``) times ``factor``.

The hot path is batched and sync-free: per (device, dtype) bucket one
``torch._foreach_norm`` (:meth:`nht_monitor.live.norms.Bucket.norms`, shared with the
sampler), the squares summed on the device, one ``all_reduce`` of the squared norm for
sharded (DTensor ``Shard``) parameters, and one ``torch._foreach_mul_`` by a
device-tensor scale. No ``.item()``. Under DDP the parameters are replicated, so
every rank computes the same scale. Parameter lists are built once (at construction).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, Union

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from torch import nn

from nht_monitor.live import norms
from nht_monitor.live.layers import clean_name

NORM_LAYERS: tuple[type[nn.Module], ...] = tuple(
    cls for cls in (
        getattr(nn.modules.batchnorm, "_NormBase", None), nn.LayerNorm, nn.GroupNorm,
        nn.LocalResponseNorm, getattr(nn, "RMSNorm", None),
        getattr(nn.modules.instancenorm, "_InstanceNorm", None),
    ) if cls is not None)
"""Module types whose parameters ``params="weights"`` leaves out."""

ParamPredicate = Callable[[str, nn.Parameter, nn.Module], bool]
"""``predicate(name, param, owning_module) -> bool``: whether the clamp covers ``param``."""


class ConstantTarget(BaseModel):
    """Hold the norm at ``value``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["constant"] = "constant"
    value: float = Field(gt=0, allow_inf_nan=False)


class LinearTarget(BaseModel):
    """Move the target linearly from ``start`` to ``end`` over ``steps`` steps, then hold."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["linear"] = "linear"
    start: float = Field(gt=0, allow_inf_nan=False)
    end: float = Field(gt=0, allow_inf_nan=False)
    steps: int = Field(ge=1)


class RelativeTarget(BaseModel):
    """Hold the norm at ``factor`` × the norm captured at attach (or at the first step)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["relative"] = "relative"
    factor: float = Field(gt=0, allow_inf_nan=False)
    capture: Literal["attach", "first_step"] = "attach"


Target = Annotated[Union[ConstantTarget, LinearTarget, RelativeTarget], Field(discriminator="kind")]


class NormClampConfig(BaseModel):
    """The serialisable settings of a :class:`NormClamp` (``watch(norm_clamp={...})``).

    ``target``: a positive float or a schedule dict (see the module docstring).
    ``params``: ``"weights"`` (default), ``"all"``, or a list of parameter/module names
    or glob patterns (``"fc1"`` covers ``fc1.weight`` and ``fc1.bias``; ``"*.weight"``).
    ``eps``: floor of the norm the scale divides by.
    """

    model_config = ConfigDict(extra="forbid")
    target: Target
    params: Literal["weights", "all"] | list[str] = "weights"
    eps: float = Field(1e-12, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _float_target(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("target"), (int, float)) \
                and not isinstance(data.get("target"), bool):
            data = {**data, "target": {"kind": "constant", "value": float(data["target"])}}
        return data


def _owners(model: nn.Module) -> dict[int, tuple[str, nn.Parameter, nn.Module]]:
    found: dict[int, tuple[str, nn.Parameter, nn.Module]] = {}
    for module_name, module in model.named_modules(remove_duplicate=True):
        base = clean_name(module_name)
        for param_name, param in module.named_parameters(recurse=False):
            if id(param) not in found:
                name = f"{base}.{param_name}" if base else param_name
                found[id(param)] = (name, param, module)
    return found


def default_weights(name: str, param: nn.Parameter, module: nn.Module) -> bool:
    """``params="weights"``: not a bias, not a normalisation layer's parameter."""
    return not name.rsplit(".", 1)[-1].startswith("bias") and not isinstance(module, NORM_LAYERS)


def _name_matcher(patterns: Sequence[str]) -> ParamPredicate:
    def matches(name: str, param: nn.Parameter, module: nn.Module) -> bool:
        for pattern in patterns:
            if name == pattern or name.startswith(pattern + ".") or fnmatch.fnmatchcase(name, pattern):
                return True
        return False
    return matches


class NormClamp:
    """Rescale chosen parameters after every optimizer step so their total L2 norm is the target.

    ``target``: float or schedule dict (see module docstring). ``params``: ``"weights"``,
    ``"all"`` or a list of names/globs; ``predicate(name, param, module)`` overrides
    ``params`` (not serialisable: :meth:`config_dict` then records ``"custom"``).
    Raises ``ValueError`` at construction for a bad target or when nothing is selected.
    """

    def __init__(self, model: nn.Module, target: float | dict[str, Any] | BaseModel,
                 params: Literal["weights", "all"] | Sequence[str] = "weights", *,
                 predicate: ParamPredicate | None = None, eps: float = 1e-12,
                 process_group: Any = None) -> None:
        if isinstance(target, BaseModel):
            target = target.model_dump()
        try:
            self.config = NormClampConfig(target=target, params=params if isinstance(
                params, str) else list(params), eps=eps)
        except ValidationError as exc:
            raise ValueError(f"invalid NormClamp settings: {exc}") from exc
        self._custom_predicate = predicate is not None
        if predicate is None:
            chosen = self.config.params
            predicate = (default_weights if chosen == "weights"
                         else (lambda *_: True) if chosen == "all" else _name_matcher(chosen))
        self.names: list[str] = []
        selected: list[torch.Tensor] = []
        for name, param, module in _owners(model).values():
            if param.requires_grad and predicate(name, param, module):
                self.names.append(name)
                selected.append(param)
        if not selected:
            raise ValueError(f"NormClamp selected no parameters (params={self.config.params!r})")
        self.n_elements = sum(p.numel() for p in selected)
        self._buckets = norms.buckets(selected)
        shard_groups = {b.groups for b in self._buckets if b.groups}
        if len(shard_groups) > 1:
            raise ValueError("NormClamp: the chosen parameters are sharded over different "
                             "process groups; pass process_group= or clamp them separately")
        groups = next(iter(shard_groups), ())
        # the local tensors, rescaled in place; norms accumulated in float64 if any is
        self._tensors = [b.local_params() for b in self._buckets]
        self._accumulate = (torch.float64 if any(b.dtype == torch.float64 for b in self._buckets)
                            else torch.float32)
        self.sharded = bool(shard_groups)
        self._groups: tuple[Any, ...] = (process_group,) if process_group is not None else groups
        self.device = self._buckets[0].device
        self.steps = 0
        self._captured: torch.Tensor | None = None
        self._hook = None

    @classmethod
    def from_config(cls, model: nn.Module, cfg: dict[str, Any]) -> NormClamp:
        """Build from a :class:`NormClampConfig` dict (``target``, ``params``, ``eps``)."""
        cfg = dict(cfg)
        unknown = set(cfg) - {"target", "params", "eps"}
        if unknown:
            raise ValueError(f"unknown norm_clamp keys {sorted(unknown)}; expected target, "
                             "params, eps")
        if "target" not in cfg:
            raise ValueError("norm_clamp needs a 'target' (float or schedule dict)")
        return cls(model, cfg["target"], cfg.get("params", "weights"),
                   eps=cfg.get("eps", 1e-12))

    def config_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready dict (recorded in the run header), plus what was
        selected: ``n_tensors``, ``n_elements``."""
        data = self.config.model_dump(mode="json")
        if self._custom_predicate:
            data["params"] = "custom"
        data["n_tensors"] = len(self.names)
        data["n_elements"] = self.n_elements
        return data

    # -- device side -------------------------------------------------------------
    def _squared_norm(self) -> torch.Tensor:
        """Total squared norm as a 0-dim device tensor (float64 if any bucket is)."""
        local_sq = None
        sharded_sq = None
        for bucket, tensors in zip(self._buckets, self._tensors):
            sq = bucket.norms(tensors, self._accumulate).square().sum().to(self.device)
            if bucket.groups:
                sharded_sq = sq if sharded_sq is None else sharded_sq + sq
            else:
                local_sq = sq if local_sq is None else local_sq + sq
        if sharded_sq is not None:
            norms.all_reduce_sum(sharded_sq, self._groups or (None,))
            local_sq = sharded_sq if local_sq is None else local_sq + sharded_sq
        return local_sq  # type: ignore[return-value]

    def current_norm(self) -> torch.Tensor:
        """The chosen parameters' total L2 norm now (0-dim device tensor, no sync)."""
        with torch.no_grad():
            return self._squared_norm().sqrt()

    def _target(self, norm: torch.Tensor) -> torch.Tensor | float:
        target = self.config.target
        if isinstance(target, ConstantTarget):
            return target.value
        if isinstance(target, LinearTarget):
            frac = min(self.steps / target.steps, 1.0)
            return target.start + (target.end - target.start) * frac
        if self._captured is None:  # relative, capture at the first step
            self._captured = norm * target.factor
        return self._captured

    def apply(self) -> None:
        """Rescale now (what the hook does after each step); counts one step."""
        with torch.no_grad():
            self.steps += 1
            norm = self._squared_norm().sqrt()
            target = self._target(norm)
            scale = norm.clamp_min(self.config.eps).reciprocal().mul_(target)
            for bucket, tensors in zip(self._buckets, self._tensors):
                factor = scale if bucket.device == self.device else scale.to(bucket.device)
                if bucket.dtype != factor.dtype:
                    factor = factor.to(bucket.dtype)
                torch._foreach_mul_(tensors, factor)

    def target_value(self) -> float | None:
        """The current target as a float (syncs for a captured relative target; for
        reporting, never called in the hot path). ``None`` before a relative target
        has been captured."""
        target = self.config.target
        if isinstance(target, RelativeTarget):
            return None if self._captured is None else float(self._captured)
        result = self._target(torch.zeros((), device=self.device))
        return float(result)

    # -- optimizer hook ------------------------------------------------------------
    def attach(self, optimizer: torch.optim.Optimizer) -> NormClamp:
        """Register the step post-hook on ``optimizer`` (captures a relative target now
        unless ``capture="first_step"``); returns self. Raises if already attached."""
        if self._hook is not None:
            raise RuntimeError("NormClamp is already attached; detach() it first")
        target = self.config.target
        if isinstance(target, RelativeTarget) and target.capture == "attach" \
                and self._captured is None:
            self._captured = self.current_norm() * target.factor
        self._hook = optimizer.register_step_post_hook(self._on_step)
        return self

    def _on_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        self.apply()

    def detach(self) -> None:
        """Remove the hook (idempotent)."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    @property
    def attached(self) -> bool:
        return self._hook is not None

    def state_dict(self) -> dict[str, Any]:
        """Steps taken and the captured relative target (for resuming)."""
        return {"steps": self.steps,
                "captured": None if self._captured is None else float(self._captured)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state.get("steps", 0))
        captured = state.get("captured")
        if captured is not None and math.isfinite(captured):
            self._captured = torch.tensor(captured, dtype=self._accumulate, device=self.device)

    def __repr__(self) -> str:
        return (f"NormClamp(target={self.config.target!r}, params={self.config.params!r}, "
                f"tensors={len(self.names)}, attached={self.attached})")
