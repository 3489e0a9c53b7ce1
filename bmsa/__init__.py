"""Dynamic sparse training for fastai: Brain-Mimetic Synapse Adjustment (BMSA), SET and AccSET

Modules:

- `bmsa.accset`: The second baseline (Lapshyna 2020, reference [16]) and the growth count that BMSA inherits: remove as SET does, then add a number of connections that shrinks as the accuracy rises (Algorithm 1, lines 13–17).
- `bmsa.bmsa`: The paper's algorithm (section 3.1, Algorithm 1, Equations 1–3): a connection is removed only after it has been close to zero for three epochs in a row, and new connections avoid the positions that were removed most often.
- `bmsa.dst`: `DynamicSparseTraining`: the fastai callback that SET, AccSET and BMSA share. It makes a model sparse, keeps it sparse while it trains, and after every epoch but the last lets its subclass prune and regrow connections.
- `bmsa.runs`: Everything a long experiment needs: a per-epoch CSV log, its settings, a summary, atomic checkpoints, and a resume that ends exactly where an uninterrupted run would.
- `bmsa.set`: The first baseline of the paper (Mocanu et al. 2018, reference [22]): after every epoch remove the weights closest to zero and regrow as many connections at random.
- `bmsa.sparse`: Erdős–Rényi initialisation (paper section 2.2 and Algorithm 1, lines 3–5), connectivity masks kept in the model, and a view of a layer as a *set of connections* that the prune and grow rules work on."""

__version__ = "0.0.1"
