"""RFC 9162 §2.1 Merkle hashing and proofs against published vectors and a naive oracle."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planapi.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    subtrees,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 test vectors as published by transparency-dev/merkle (proof/verify_test.go):
# eight leaves, the root for each size 1..8, and some proofs. Used as data.
LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]  # fmt: skip
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
H = {
    name: bytes.fromhex(value)
    for name, value in {
        "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b086": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    }.items()
}
INCLUSION = [  # (leaf index, tree size, path)
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
    (0, 1, []),
]
CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
    (6, 7, ["0ebc", "b086", "d37e"]),
]


# -- an oracle written straight from the RFC's recursive definitions, sharing no code -------
def oracle_mth(data: list[bytes]) -> bytes:
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + oracle_mth(data[:k]) + oracle_mth(data[k:])).digest()


def oracle_path(m: int, data: list[bytes]) -> list[bytes]:
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*oracle_path(m, data[:k]), oracle_mth(data[k:])]
    return [*oracle_path(m - k, data[k:]), oracle_mth(data[:k])]


def oracle_subproof(m: int, data: list[bytes], whole: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if whole else [oracle_mth(data)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*oracle_subproof(m, data[:k], whole), oracle_mth(data[k:])]
    return [*oracle_subproof(m - k, data[k:], False), oracle_mth(data[:k])]


class MemoryTree:
    """Every complete subtree kept, as the storage keeps them, built through `Frontier`."""

    def __init__(self, data: list[bytes]) -> None:
        self.frontier = Frontier()
        self.nodes: dict[tuple[int, int], bytes] = {}
        for item in data:
            for level, index, digest in self.frontier.append(leaf_hash(item)):
                self.nodes[(level, index)] = digest

    def root(self, size: int) -> bytes:
        return range_hash((0, size), self.nodes)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return [range_hash(span, self.nodes) for span in inclusion_ranges(index, size)]

    def consistency(self, first: int, second: int) -> list[bytes]:
        return [range_hash(span, self.nodes) for span in consistency_ranges(first, second)]


REFERENCE = MemoryTree(LEAVES)


def test_roots_match_the_published_tree_heads_for_every_size() -> None:
    assert REFERENCE.root(0) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for size in range(1, 9):
        assert REFERENCE.root(size) == ROOTS[size - 1], size


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_published_ones(index: int, size: int, path: list[str]) -> None:
    expected = [H[p] for p in path]
    assert REFERENCE.inclusion(index, size) == expected
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), expected, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_published_ones(
    first: int, second: int, path: list[str]
) -> None:
    expected = [H[p] for p in path]
    assert REFERENCE.consistency(first, second) == expected
    verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], expected)


def _data(n: int, salt: int = 0) -> list[bytes]:
    return [f"{salt}:{i}".encode() for i in range(n)]


def test_every_proof_of_every_tree_up_to_70_leaves_agrees_with_the_oracle() -> None:
    data = _data(70)
    tree = MemoryTree(data)
    for size in range(1, 71):
        root = oracle_mth(data[:size])
        assert tree.root(size) == root
        for index in range(size):
            path = tree.inclusion(index, size)
            assert path == oracle_path(index, data[:size])
            verify_inclusion(index, size, leaf_hash(data[index]), path, root)
        for first in range(1, size + 1):
            proof = tree.consistency(first, size)
            assert proof == oracle_subproof(first, data[:size], True)
            verify_consistency(first, size, oracle_mth(data[:first]), root, proof)


BIG = _data(4100, salt=1)
BIG_TREE = MemoryTree(BIG)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_proofs_in_trees_of_any_size_up_to_4100_verify_and_match_the_oracle(
    data: st.DataObject,
) -> None:
    size = data.draw(st.integers(1, 4100), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(0, size), label="first")
    root = BIG_TREE.root(size)
    assert root == oracle_mth(BIG[:size])
    path = BIG_TREE.inclusion(index, size)
    assert path == oracle_path(index, BIG[:size])
    verify_inclusion(index, size, leaf_hash(BIG[index]), path, root)
    proof = BIG_TREE.consistency(first, size)
    if 0 < first < size:
        assert proof == oracle_subproof(first, BIG[:size], True)
    verify_consistency(first, size, BIG_TREE.root(first), root, proof)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 4100), st.data())
def test_a_proof_altered_in_any_way_is_refused(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    first = data.draw(st.integers(1, size - 1))
    root, leaf = BIG_TREE.root(size), leaf_hash(BIG[index])
    path = BIG_TREE.inclusion(index, size)
    proof = BIG_TREE.consistency(first, size)
    which = data.draw(st.integers(0, len(path) - 1))
    flipped = [*path]
    flipped[which] = bytes([flipped[which][0] ^ 8]) + flipped[which][1:]
    for wrong in (flipped, path[:-1], [*path, root], [root, *path]):
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, wrong, root)
    for other_index in {index - 1, index + 1} - {-1, size}:
        if leaf_hash(BIG[other_index]) != leaf:
            with pytest.raises(ProofError):
                verify_inclusion(other_index, size, leaf, path, root)
    first_root = BIG_TREE.root(first)
    for wrong in (proof[:-1], [*proof, root], [proof[0], *proof], []):
        with pytest.raises(ProofError):
            verify_consistency(first, size, first_root, root, wrong)
    with pytest.raises(ProofError):
        verify_consistency(first, size, BIG_TREE.root(first - 1) or root, root, proof)


def test_impossible_sizes_are_refused_with_a_reason() -> None:
    with pytest.raises(ProofError, match="leaf 8 is not in a tree of 8 leaves"):
        inclusion_ranges(8, 8)
    with pytest.raises(ProofError, match="from 5 leaves to 3"):
        consistency_ranges(5, 3)
    with pytest.raises(ProofError, match="32 bytes"):
        verify_inclusion(0, 1, b"short", [], ROOTS[0])
    with pytest.raises(ProofError, match="same size have different roots"):
        verify_consistency(4, 4, ROOTS[3], ROOTS[4], [])


def test_a_store_reads_logarithmically_many_nodes_for_a_proof() -> None:
    n = 10_000_000
    for index in (0, 1, n // 2, n - 1):
        nodes = {node for span in inclusion_ranges(index, n) for node in subtrees(*span)}
        assert len(nodes) <= 2 * n.bit_length()
    for first in (1, 3, n // 3, n - 1):
        nodes = {node for span in consistency_ranges(first, n) for node in subtrees(*span)}
        assert len(nodes) <= 2 * n.bit_length()


# -- pymerkle (PyPI), an independent implementation with RFC 9162's prefixes (its default) ---
def verify_theirs(first_root: bytes, root: bytes, proof: object) -> None:
    from pymerkle import verify_consistency as pymerkle_verify

    pymerkle_verify(first_root, root, proof)  # raises InvalidProof


def _pymerkle(data: list[bytes]) -> object:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")  # security on: 0x00 leaves, 0x01 nodes
    for item in data:
        tree.append_entry(item)
    return tree


PYMERKLE = _pymerkle(BIG)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_roots_and_proofs_agree_with_pymerkle(data: st.DataObject) -> None:
    tree: Any = PYMERKLE
    size = data.draw(st.integers(1, len(BIG)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(1, size), label="first")
    assert tree.get_root(size) == BIG_TREE.root(size)
    # pymerkle's inclusion path is the leaf hash, then RFC 9162's audit path.
    assert tree.prove_inclusion(index + 1, size).path == [
        leaf_hash(BIG[index]),
        *BIG_TREE.inclusion(index, size),
    ]
    # Its consistency proofs (another layout than RFC 9162's) join our roots of both sizes;
    # ours are checked against the RFC's own definition above.
    verify_theirs(BIG_TREE.root(first), BIG_TREE.root(size), tree.prove_consistency(first, size))
