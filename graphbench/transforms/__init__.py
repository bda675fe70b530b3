"""Pure graph → tensor/graph functions (positional encodings, and later rewiring, paths, subgraphs)."""
