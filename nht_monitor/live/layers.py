"""Which parameter tensors make up which named layer, and which layer is the head."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import torch
from torch import nn

logger = logging.getLogger(__name__)

ROOT_NAME = "<root>"
_WRAPPER_PREFIXES = ("_orig_mod.", "module.", "_fsdp_wrapped_module.", "_checkpoint_wrapped_module.")


def clean_name(name: str) -> str:
    """A module name without the prefixes wrappers add (torch.compile, DDP, FSDP1)."""
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                changed = True
        for infix in _WRAPPER_PREFIXES:
            token = "." + infix
            if token in name:
                name = name.replace(token, ".")
                changed = True
    for prefix in _WRAPPER_PREFIXES:
        bare = prefix.rstrip(".")
        if name == bare:
            return ""
        if name.endswith("." + bare):
            name = name[: -len(bare) - 1]
    return name


@dataclass(frozen=True)
class LayerMap:
    """Parameter tensors grouped into named layers.

    ``params[i]`` belongs to layer ``layer_of[i]`` (an index into ``names``);
    ``modules[name]`` is the module that owns the layer's parameters; ``undecayed``: the
    layers whose parameters weight decay does not act on (:func:`undecayed_params`).
    """

    names: tuple[str, ...]
    params: tuple[torch.Tensor, ...]
    layer_of: tuple[int, ...]
    modules: dict[str, nn.Module]
    undecayed: frozenset[int] = frozenset()

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.params)

    @property
    def decayed(self) -> list[int] | None:
        """The layers the weight norm is taken over: those weight decay acts on, or
        ``None`` (all) when it acts on every layer."""
        if not self.undecayed:
            return None
        return [i for i in range(len(self.names)) if i not in self.undecayed]


def undecayed_params(model: nn.Module, optimizer: torch.optim.Optimizer) -> frozenset[int]:
    """The ids of ``model``'s parameters weight decay does not act on: in a param group
    with weight decay 0 (biases and norm gains, as many scripts group them) or in none
    (frozen). Empty when it acts on none of them (the norm then stays over all)."""
    decayed = {id(p) for group in optimizer.param_groups
               if float(group.get("weight_decay", 0.0) or 0.0) > 0 for p in group["params"]}
    ids = {id(p) for p in model.parameters()}
    return frozenset(ids - decayed) if ids & decayed else frozenset()


def build_layer_map(model: nn.Module, *, split_bias: bool = False,
                    undecayed: frozenset[int] = frozenset()) -> LayerMap:
    """Group ``model``'s parameters by owning module (or per tensor with ``split_bias``);
    a parameter in ``undecayed`` whose module also holds decayed ones is a layer of its
    own (``fc.bias``), so that every layer is decayed or not as a whole.

    A parameter shared by several modules counts once, for the first owner.
    """
    seen: set[int] = set()
    names: list[str] = []
    index: dict[str, int] = {}
    params: list[torch.Tensor] = []
    layer_of: list[int] = []
    modules: dict[str, nn.Module] = {}
    for module_name, module in model.named_modules(remove_duplicate=True):
        base = clean_name(module_name) or ROOT_NAME
        own = [(n, p) for n, p in module.named_parameters(recurse=False) if id(p) not in seen]
        mixed = len({id(p) in undecayed for _, p in own}) > 1
        for param_name, param in own:
            seen.add(id(param))
            split = split_bias or (mixed and id(param) in undecayed)
            layer = f"{base}.{param_name}" if split else base
            if layer == f"{ROOT_NAME}.{param_name}":
                layer = param_name
            if layer not in index:
                index[layer] = len(names)
                names.append(layer)
                modules[layer] = module
            params.append(param)
            layer_of.append(index[layer])
    if not params:
        raise ValueError(f"{type(model).__name__} has no parameters to watch")
    left_out = frozenset(layer_of[i] for i, p in enumerate(params) if id(p) in undecayed)
    return LayerMap(tuple(names), tuple(params), tuple(layer_of), modules, left_out)


_NORMALIZATION = re.compile(r"(Layer|RMS|Group|Batch|Instance)Norm")


def normalization_layers(model: nn.Module) -> list[str]:
    """The sorted class names of ``model``'s normalization layers (torch's LayerNorm,
    RMSNorm, GroupNorm, BatchNorm*, InstanceNorm*, and custom ones named so, such as
    LlamaRMSNorm): weights behind them are scale-invariant, which weakens the norm's
    link to the transition."""
    return sorted({type(m).__name__ for m in model.modules()
                   if _NORMALIZATION.search(type(m).__name__)})


def layers_of_module(layer_map: LayerMap, module_name: str) -> list[int]:
    """Indices of the layers that belong to module ``module_name`` (or its children)."""
    hits = [i for i, name in enumerate(layer_map.names)
            if name == module_name or name.startswith(module_name + ".")]
    return hits


def resolve_head(layer_map: LayerMap, head: str) -> list[int]:
    """The layer indices of a user-named head; ``ValueError`` listing valid names."""
    hits = layers_of_module(layer_map, clean_name(head))
    if not hits:
        valid = ", ".join(layer_map.names[:50]) + (" …" if len(layer_map.names) > 50 else "")
        raise ValueError(f"head {head!r} is not a layer of this model; valid names: {valid}")
    return hits


class HeadFinder:
    """Finds the module name of the last ``nn.Linear`` reached in the first forward pass.

    Installs forward hooks on every Linear that owns a layer, and one on the model that
    :meth:`settle` s once the first forward completes — or, when that hook never fires (a
    script calling ``model.forward(x)`` skips the model's hooks, not its layers'), at the
    monitor's first sampled optimizer step; then removes them all. ``head`` is the layer
    name found (``None`` until then).
    """

    def __init__(self, model: nn.Module, layer_map: LayerMap) -> None:
        self.head: str | None = None
        self._last: str | None = None
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        linears: dict[str, nn.Module] = {}
        for name, module in model.named_modules():
            if isinstance(module, nn.Linear) and any(True for _ in module.parameters(recurse=False)):
                linears.setdefault(clean_name(name) or ROOT_NAME, module)
        self.fallback = next(reversed(linears)) if linears else layer_map.names[-1]
        if not linears:
            self.head = self.fallback
            logger.info("no nn.Linear in the model: head defaults to the last layer %r",
                        self.head)
            return
        for name, module in linears.items():
            self._handles.append(module.register_forward_hook(self._linear_hook(name)))
        self._handles.append(model.register_forward_hook(self._model_done))

    def _linear_hook(self, name: str):
        def hook(_module, _inputs, _output) -> None:
            self._last = name
        return hook

    def _model_done(self, _module, _inputs, _output) -> None:
        self.settle()

    def settle(self) -> None:
        """The last Linear reached so far is the head (the last registered when none was);
        the hooks are removed."""
        if self.head is None:
            self.head = self._last or self.fallback
        self.remove()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
