"""Merkle tree hashing and proofs exactly as RFC 9162 §2.1 defines them (same as RFC 6962 §2.1).

A tree of n leaves is addressed by its *complete subtrees*: node (level, index) covers leaves
[index·2^level, (index+1)·2^level). Every range the RFC's recursion visits starts at a multiple
of a power of two at least as large as its own size's top bit, so its hash (MTH of that range)
is the right-to-left fold of the complete subtrees its size decomposes into (`subtrees`). A store
that keeps every complete subtree can therefore answer any root or proof from O(log n) nodes:
the proof functions here say *which* nodes (`*_ranges`), the caller fetches them in one go, and
`range_hash` folds them. Verification (§2.1.3.2, §2.1.4.2) needs nothing but hashes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH() (§2.1.1)

Node = tuple[int, int]  # (level, index): a complete subtree
Range = tuple[int, int]  # [start, end) of leaf indices


class ProofError(ValueError):
    """A proof was asked for or offered with impossible sizes, or does not verify."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0)) (§2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(left) || MTH(right)) (§2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1) (§2.1.1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtrees(start: int, end: int) -> list[Node]:
    """The complete subtrees making up [start, end), left to right (start suitably aligned)."""
    found: list[Node] = []
    size = end - start
    while size:
        level = size.bit_length() - 1
        found.append((level, start >> level))
        start += 1 << level
        size -= 1 << level
    return found


def fold(hashes: Sequence[bytes]) -> bytes:
    """The MTH of a range from its complete subtrees' hashes (left to right)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def range_hash(span: Range, lookup: Mapping[Node, bytes]) -> bytes:
    return fold([lookup[node] for node in subtrees(*span)])


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose MTHs form PATH(index, D[size]), leaf end first (§2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index - start < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose MTHs form PROOF(first, D[second]) (§2.1.4.1); empty when first is 0 or
    equal to second."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from {first} leaves to {second}")
    if first in (0, second):
        return []
    proof: list[Range] = []
    start, end, whole = 0, second, True
    m = first
    while m != end - start:
        k = split(end - start)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append((start, end))
    proof.reverse()
    return proof


def proof_nodes(ranges: Iterable[Range]) -> set[Node]:
    """Every complete subtree a list of ranges needs: the rows a store reads."""
    return {node for span in ranges for node in subtrees(*span)}


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """§2.1.3.2; raises ProofError saying why the proof fails."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    _sized([leaf, root, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if not hmac.compare_digest(r, root):
        raise ProofError("the proof does not lead to the root hash")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """§2.1.4.2, with the two cases it leaves to the caller (first = 0, first = second)."""
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {second} leaves cannot extend one of {first}")
    _sized([first_root, second_root, *proof])
    if first in (0, second):
        if proof:
            raise ProofError("the proof should be empty")
        if first and not hmac.compare_digest(first_root, second_root):
            raise ProofError("two trees of the same size have different roots")
        return
    if not proof:
        raise ProofError("the proof is empty")
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if not hmac.compare_digest(fr, first_root):
        raise ProofError(f"the proof does not lead to the root of the first {first} leaves")
    if not hmac.compare_digest(sr, second_root):
        raise ProofError(f"the proof does not lead to the root of the {second} leaves")


def _sized(hashes: Iterable[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"every hash must be {HASH_SIZE} bytes")


@dataclass
class Frontier:
    """The complete subtrees of a growing tree's left-to-right decomposition (a "compact range").

    Appending a leaf yields the complete subtrees it completes (the leaf itself, then each node
    whose right edge it closes) — the only rows an incremental store has to add — and the root
    of any size is a fold of the frontier, so a reader streaming leaves needs O(log n) memory.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def of(cls, size: int, lookup: Callable[[Node], bytes]) -> Frontier:
        return cls(size, [lookup(node) for node in subtrees(0, size)])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds a leaf hash; returns the (level, index, hash) of every subtree it completes."""
        made = [(0, self.size, leaf)]
        acc, level, index = leaf, 0, self.size
        self.size += 1
        while index & 1:  # a right child: its left sibling is the frontier's last entry
            acc = node_hash(self.hashes.pop(), acc)
            level, index = level + 1, index >> 1
            made.append((level, index, acc))
        self.hashes.append(acc)
        return made

    def push(self, leaf: bytes) -> None:
        """`append` without the list of what it completed: for readers that store nothing."""
        index = self.size
        self.size += 1
        while index & 1:
            leaf = node_hash(self.hashes.pop(), leaf)
            index >>= 1
        self.hashes.append(leaf)

    def root(self) -> bytes:
        return fold(self.hashes)
