"""Customer-archive rules (C1-C9) that do not depend on Flask views."""
