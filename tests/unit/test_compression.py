"""Reading `Accept-Encoding` (RFC 9110 §12.5.3) and the gzip variant of an answer."""

from __future__ import annotations

import gzip

import pytest

from planapi.api.runtime.compression import MIN_BYTES, encoded, gzipped, takes_gzip


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        (b"gzip, deflate, br", True),  # what browsers send
        (b"gzip", True),
        (b"GZIP;Q=0.5", True),
        (b"x-gzip", True),
        (b"*", True),
        (b"br;q=1.0, *;q=0.1", True),
        (b"gzip;q=0", False),
        (b"gzip;q=0.000, *", False),  # gzip named: `*` does not speak for it
        (b"identity", False),
        (b"br, deflate", False),
        (b"*;q=0", False),
        (b"identity;q=1, gzip;q=0.5", False),  # identity preferred
        (b"gzip;q=nonsense", False),
        (b"gzip;q=2", False),
        (b"", False),
        (b" , ;", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(header: bytes, takes: bool) -> None:
    assert takes_gzip(header) is takes


def test_the_variant_decompresses_to_the_body_with_its_own_headers() -> None:
    body = b'{"data": "' + b"x" * MIN_BYTES + b'"}'
    headers = [
        (b"etag", b'"h-abc"'),
        (b"cache-control", b"public, no-cache"),
        (b"vary", b"Accept, Origin"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    packed, sent = gzipped(body, headers)
    assert gzip.decompress(packed) == body
    assert gzipped(body, headers) == (packed, sent)  # no timestamp: the same bytes each time
    assert sent == [
        (b"etag", b'"h-abc-gzip"'),
        (b"cache-control", b"public, no-cache"),
        (b"vary", b"Accept, Origin, Accept-Encoding"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(packed)).encode()),
        (b"content-encoding", b"gzip"),
    ]


def test_a_small_answer_or_compression_off_stays_identity() -> None:
    small = b'{"data": {}}'
    headers = [(b"content-length", str(len(small)).encode())]
    assert encoded(small, headers, True, True) == (small, headers)
    large = b"x" * MIN_BYTES
    assert encoded(large, headers, False, True) == (large, headers)
    assert encoded(large, headers, True, False) == (
        large,
        [*headers, (b"vary", b"Accept-Encoding")],
    )
