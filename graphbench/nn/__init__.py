"""Shared building blocks: feature encoders, MLPs, readouts and prediction heads."""

from graphbench.nn.encoders import FeatureEncoder
from graphbench.nn.mlp import MLP, make_norm
from graphbench.nn.readout import READOUTS, readout
from graphbench.nn.relational import RelationalConv, relation_graphs

__all__ = ["MLP", "READOUTS", "FeatureEncoder", "RelationalConv", "make_norm", "readout", "relation_graphs"]
