"""PathNN layers — Michel, Nikolentzos, Lutzeyer & Vazirgiannis, "Path Neural Networks: Expressive and Accurate
Graph Neural Networks", ICML 2023, Eq. 2, as the reference code implements it (``EdgePathConv`` of
``gasmichel/PathNNs_expressive@2b8eb712:benchmarks/model_ogb.py``); ``docs/models/pathnn.md`` §2 derives it.

Layer ℓ (ℓ = 1 … K−1, K the cutoff = most nodes on a path) uses **only the paths with exactly ℓ edges**. With the
anchor-last convention of :mod:`graphbench.paths` (a path ``P = (w_0, …, w_ℓ)`` updates its last node ``w_ℓ = v``):

1. token ``t`` of ``P`` is ``[h_{w_t} ‖ DE_t ‖ e_t]`` (the reference's order) where ``DE_t`` is an embedding of
   ``d(w_t, v)`` (the AP distance encoding) and ``e_t`` the (encoded) feature of edge ``w_{t−1} → w_t`` (a zero
   vector at ``t = 0``); dropout on the tokens;
2. **one LSTM shared by all layers** (single layer, unidirectional) reads the tokens; the path embedding is its
   final hidden state;
3. ``m_v = Σ_{P ∈ 𝒫_ℓ(v)} LSTM(P)`` (``path_agg="sum"``; ``"mean"`` as for Peptides-struct);
4. the update (``update``; ``z_v = h_v + m_v`` with ``residual``, else ``m_v``):

   * ``"mlp"`` (the benchmark code's ``EdgePathConv``): ``h_v ← MLP(dropout(BN(z_v)))``, MLP = 2 × (Linear → BN →
     ReLU); as in the reference, the BN exists only for sum aggregation;
   * ``"relu_bn"`` (the TU code's ``PathConv``, ``TUDatasets/model.py``): ``h_v ← ReLU(BN(z_v))``, no dropout
     there (the TU code drops out the LSTM tokens only);
   * ``"relu"`` (the synthetic code's ``PathConv``, ``synthetic/networks/model.py``, whose BN is an identity):
     ``h_v ← ReLU(z_v)``.

Option ``l2_norm`` (the synthetic reference's flag, on in its SR25 and CSL configs of PathNN-AP): ``h`` is
scaled to unit L2 norm per node before each layer.

The inputs are explicit tensors, so a batch of graphs is handled by the caller offsetting each graph's path node
indices by its first node and edge ids by its first edge (the batching of the model-inputs interface); nothing
here depends on how the paths were batched. Nodes that anchor no path of length ℓ get ``m_v = 0``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

PATH_AGGREGATIONS = ("sum", "mean")
#: The layer's update after ``z = h + m`` (see the module docstring): the benchmark code's, the TU code's, the
#: synthetic code's.
PATH_UPDATES = ("mlp", "relu_bn", "relu")


def _mlp(hidden: int) -> nn.Sequential:
    """φ of Eq. 2 in the reference: 2 × (Linear → BN → ReLU)."""
    return nn.Sequential(nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU())


class PathConv(nn.Module):
    """One PathNN layer (Eq. 2) over the paths of one length, with an LSTM it shares with the other layers.

    Shapes: ``h [n, hidden]``, ``paths [P, ℓ+1]`` (anchor last), ``edge_tokens [P, ℓ, d_e]`` (features of the edges
    along each path, or None), ``dist_tokens [P, ℓ+1, d_dist]`` (embedded distances to the anchor, or None);
    returns ``[n, hidden]``. The LSTM's input is ``[h ‖ dist ‖ edge]`` per token, as the reference concatenates them.
    ``update`` (:data:`PATH_UPDATES`) chooses what follows ``h + m``; ``dropout`` acts on the tokens and, for the
    ``"mlp"`` update only, before the MLP.
    """

    def __init__(self, hidden: int, lstm: nn.LSTM, *, path_agg: str = "sum", residual: bool = True,
                 dropout: float = 0.0, update: str = "mlp") -> None:
        super().__init__()
        if path_agg not in PATH_AGGREGATIONS:
            raise ValueError(f"path_agg must be one of {PATH_AGGREGATIONS}, got {path_agg!r}")
        if update not in PATH_UPDATES:
            raise ValueError(f"update must be one of {PATH_UPDATES}, got {update!r}")
        self.hidden, self.lstm, self.path_agg, self.residual, self.dropout = hidden, lstm, path_agg, residual, dropout
        self.update = update
        with_bn = update == "relu_bn" or (update == "mlp" and path_agg == "sum")
        self.bn = nn.BatchNorm1d(hidden) if with_bn else nn.Identity()
        self.mlp = _mlp(hidden) if update == "mlp" else None

    def reset_parameters(self) -> None:  # the shared LSTM is reset by its owner
        for m in [self.bn, *(self.mlp if self.mlp is not None else ())]:
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def tokens(self, h: torch.Tensor, paths: torch.Tensor, edge_tokens: torch.Tensor | None = None,
               dist_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """LSTM inputs ``[P, ℓ+1, d]``: node state ‖ distance embedding ‖ edge feature (zero at the first step)."""
        parts = [h[paths]]
        if dist_tokens is not None:
            parts.append(dist_tokens)
        if edge_tokens is not None:
            parts.append(F.pad(edge_tokens, (0, 0, 1, 0)))  # no edge leads into the first node
        return F.dropout(torch.cat(parts, dim=-1), self.dropout, self.training)

    def messages(self, h: torch.Tensor, paths: torch.Tensor, edge_tokens: torch.Tensor | None = None,
                 dist_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """``m_v``: the sum (or mean) of the LSTM embeddings of the paths anchored at each node, ``[n, hidden]``."""
        out = h.new_zeros(h.shape[0], self.lstm.hidden_size)
        if paths.shape[0] == 0:
            return out
        _, (last, _) = self.lstm(self.tokens(h, paths, edge_tokens, dist_tokens))
        anchors = paths[:, -1]
        out = out.index_add(0, anchors, last[-1])
        if self.path_agg == "mean":
            count = torch.bincount(anchors, minlength=h.shape[0]).clamp(min=1).to(out.dtype)
            out = out / count[:, None]
        return out

    def forward(self, h: torch.Tensor, paths: torch.Tensor, edge_tokens: torch.Tensor | None = None,
                dist_tokens: torch.Tensor | None = None) -> torch.Tensor:
        m = self.messages(h, paths, edge_tokens, dist_tokens)
        z = self.bn(h + m if self.residual else m)
        if self.mlp is None:  # the TU and synthetic codes: φ = ReLU
            return F.relu(z)
        return self.mlp(F.dropout(z, self.dropout, self.training))


class PathNNLayers(nn.Module):
    """The ``cutoff − 1`` layers of PathNN with their shared LSTM and distance embedding.

    ``forward(h, paths, edge_feat=None, edge_ids=None, dists=None)`` takes node states ``[n, hidden]`` and, per
    length ℓ = 1 … cutoff−1, ``paths[ℓ]`` ``[P_ℓ, ℓ+1]`` (node indices, anchor last), ``edge_ids[ℓ]`` ``[P_ℓ, ℓ]``
    (indices into ``edge_feat [E, edge_dim]``, needed when ``edge_dim > 0``) and ``dists[ℓ]`` ``[P_ℓ, ℓ+1]``
    (distances to the anchor, needed when ``distance_encoding``); layer ℓ uses the paths of length ℓ. ``update``:
    every layer's update (:data:`PATH_UPDATES`).
    """

    def __init__(self, hidden: int, cutoff: int, *, edge_dim: int = 0, distance_encoding: bool = False,
                 path_agg: str = "sum", residual: bool = True, dropout: float = 0.0, l2_norm: bool = False,
                 update: str = "mlp") -> None:
        super().__init__()
        if cutoff < 2:
            raise ValueError(f"cutoff (the most nodes on a path, K) must be >= 2, got {cutoff}")
        self.cutoff, self.edge_dim, self.distance_encoding = cutoff, edge_dim, distance_encoding
        self.l2_norm = l2_norm
        # distances to the anchor on a path with at most K−1 edges lie in 0 … K−1
        self.distance_embedding = nn.Embedding(cutoff, hidden) if distance_encoding else None
        width = hidden + edge_dim + (hidden if distance_encoding else 0)
        self.lstm = nn.LSTM(width, hidden, num_layers=1, batch_first=True, bidirectional=False)
        self.convs = nn.ModuleList(PathConv(hidden, self.lstm, path_agg=path_agg, residual=residual, dropout=dropout,
                                            update=update)
                                   for _ in range(cutoff - 1))
        self.reset_parameters()

    def normalise(self, h: torch.Tensor) -> torch.Tensor:
        """The synthetic reference's ``l2_norm``: each node state scaled to unit L2 norm before a layer. Summing
        thousands of path embeddings (SR25 at K = 5: ~13k paths per node) makes states large enough to saturate the
        LSTM's gates, and saturated gates map different inputs to the same float; the scaling prevents that."""
        return F.normalize(h, p=2.0, dim=1) if self.l2_norm else h

    def reset_parameters(self) -> None:
        self.lstm.reset_parameters()
        if self.distance_embedding is not None:
            nn.init.xavier_uniform_(self.distance_embedding.weight)  # as the reference
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, h: torch.Tensor, paths: Mapping[int, torch.Tensor], edge_feat: torch.Tensor | None = None,
                edge_ids: Mapping[int, torch.Tensor] | None = None,
                dists: Mapping[int, torch.Tensor] | None = None) -> torch.Tensor:
        if self.edge_dim and (edge_feat is None or edge_ids is None):
            raise ValueError("this PathNN was built with edge_dim > 0: pass edge_feat and edge_ids")
        if self.distance_encoding and dists is None:
            raise ValueError("this PathNN was built with distance_encoding: pass dists")
        for length, conv in enumerate(self.convs, start=1):
            if length not in paths:
                raise ValueError(f"no paths of length {length} given (cutoff {self.cutoff} needs lengths "
                                 f"1..{self.cutoff - 1})")
            p = paths[length]
            e = edge_feat[edge_ids[length]] if self.edge_dim else None
            d = self.distance_embedding(dists[length]) if self.distance_encoding else None
            h = conv(self.normalise(h), p, e, d)
        return h
