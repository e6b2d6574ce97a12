"""The vectorizer: turns each counted loop into the least sequential program
that computes the same values (see DESIGN.md, "Vectorizing").

Modules:
  batching  rule dispatcher and helpers (rules live in each ops/<family>.py)
  analysis  affine indices and the classification of carried values
  simplify  exact local rewrites of a body (forwarding, LICM, promotion)
  select    if-conversion of pure conditionals
  regroup   sums regrouped so recurrence-free terms are added first
  hoist     the batching interpreter (one batched op per body op)
  loop      per-loop plan (pre / scan / post / sinks) and rewrite
  fold      peepholes after the rewrite (einsum folding, CSE, reshapes)
  passes    the pipeline pass, innermost loops first

Kept light on purpose: ops/<family>.py imports `vectorize.batching` while the
primitives are being registered, so nothing here imports the passes.
"""
