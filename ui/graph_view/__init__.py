"""The graph view: the live backward DAG (scene of C++ items, view with input and LOD)."""

from .scene import GraphScene, node_size
from .spec import GraphLook, GraphSpec, NodeSpec, Placement
from .view import GraphView

__all__ = ["GraphScene", "GraphView", "GraphLook", "GraphSpec", "NodeSpec", "Placement",
           "node_size"]
