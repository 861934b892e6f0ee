"""Companies: the operator's legal entities (one is enough for most)."""
