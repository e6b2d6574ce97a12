"""The vectorizer: turns each counted loop into the least sequential program
that computes the same values (see DESIGN.md, "Vectorizing"). The order of
its steps is in looptrace/pipeline.py.

Modules:
  driver             the vectorize pass: every loop, innermost first, through the steps
  loop_rewrite       the per-loop steps (LoopJob) and the rewrite: pre / scan / post / sinks
  analysis           the classification of carried values (map, reduction, scatter, stream, rec)
  simplify           exact local rewrites of a body (forwarding, LICM, promotion)
  select             if-conversion of pure conditionals
  regroup            sums regrouped so recurrence-free terms are added first
  batch_interpreter  the batching interpreter (one batched op per body op)
  fold               peepholes after the rewrite (einsum folding, CSE, reshapes)
  linear_recurrence  residual linear recurrences -> prefix scans, product chains -> squaring
The batching rules themselves live with each primitive (ops/<family>.py).
"""
