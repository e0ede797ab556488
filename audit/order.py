"""Whether a chain's rows follow each other (`audit.verification`)."""

from __future__ import annotations

# How many recent rows of each chain the order check keeps (seq → hash): rows moved further than
# this from their place are still found, as a gap and a step back, but their prev_hash is not
# matched.
_ORDER_WINDOW = 256
_PREV_MISMATCH = "prev_hash does not match the previous row: inserted or reordered"


class SeqOrder:
    """Whether a chain's seqs follow each other without gaps, reporting a disorder once.

    A gap (seqs skipped) stays open until the end of the range: if a skipped seq turns up
    later, the rows were reordered (one problem, at that row); if not, rows were removed (one
    problem, at the row after the gap). Each row's prev_hash is matched with the hash of the row
    whose seq precedes its own, wherever that row stands, so a swap does not make every later
    row look out of place.
    """

    def __init__(self, add, expected_seq: int | None, prev_hash: str | None) -> None:
        self.add = add
        self.expected = expected_seq
        # Rows read recently, by seq: (hash, prev_hash, id).
        self.recent: dict[int, tuple[str, str, int]] = {}
        if expected_seq is not None and prev_hash is not None:
            self.recent[expected_seq - 1] = (prev_hash, "", 0)
        # Open gaps: [first missing seq, last missing seq, id and seq of the row after them].
        self.gaps: list[list[int]] = []

    def row(self, event_id: int, seq: int, prev_hash: str, row_hash: str) -> None:
        expected = self.expected
        if expected is None or seq == expected:
            self.expected = seq + 1
        elif seq > expected:
            self.gaps.append([expected, seq - 1, event_id, seq])
            self.expected = seq + 1
        elif not self._fill_gap(seq):
            self.add(event_id, seq, f"seq {seq} out of order (expected {expected})")
        else:
            self.add(event_id, seq, f"seq {seq} out of order: rows reordered")
        before = self.recent.get(seq - 1)
        if before is not None and before[0] != prev_hash:
            self.add(event_id, seq, _PREV_MISMATCH)
        after = self.recent.get(seq + 1)
        if after is not None and after[1] != row_hash:
            self.add(after[2], seq + 1, _PREV_MISMATCH)
        self.recent[seq] = (row_hash, prev_hash, event_id)
        if len(self.recent) > _ORDER_WINDOW:
            del self.recent[next(iter(self.recent))]

    def _fill_gap(self, seq: int) -> bool:
        for index, (low, high, event_id, after) in enumerate(self.gaps):
            if low <= seq <= high:
                pieces = [[low, seq - 1, event_id, after], [seq + 1, high, event_id, after]]
                self.gaps[index : index + 1] = [p for p in pieces if p[0] <= p[1]]
                return True
        return False

    def finish(self) -> None:
        for low, high, event_id, after in self.gaps:
            gap = f"{low}" if low == high else f"{low}–{high}"
            self.add(event_id, after, f"seq {gap} missing before it: rows removed or reordered")
