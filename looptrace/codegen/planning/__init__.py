"""What every code-generating target shares: it reads primitive traits and
writes no text.

  fusion     which ops become loop nests and which values are never stored
  ownership  alias roots and last uses: when an array may be updated in place
  sharing    which values may share one value's memory
  walker     the walk over blocks that hands each op to the target's rule
"""
