"""A bounded fuzz run of the entry decoder: random and mutated bytes.

Whatever the bytes, ``decode`` must return an ``EntryPayload`` or raise
``LogFormatError``: no other exception (an ``IndexError`` or ``OverflowError``
would escape replay's handling and look like a bug in MariaDB), no hang, no
unbounded allocation. Mutating valid entries only tests the checksum, which
rejects nearly everything, so most cases re-frame the mutated body with a
correct CRC: that is what a buggy or hostile writer could store, and it
drives the body and value decoders themselves.

The run is a fixed number of seeded cases (deterministic, a few seconds);
``MDBC_FUZZ_CASES`` raises it for a longer hunt, ``MDBC_FUZZ_SEED`` changes
the seed. A failure prints the seed, the case number and the bytes.
"""

from __future__ import annotations

import os
import random
import struct
import tracemalloc
import zlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdbc_py.log import FLAG_ZLIB, FORMAT_VERSION, MAGIC, EntryPayload, LogFormatError, decode
from mdbc_py.log import encode as encode_entry
from mdbc_py.log.envelope import HEADER_SIZE, TRAILER_SIZE
from tests.unit.log.strategies import entries

CASES = int(os.environ.get("MDBC_FUZZ_CASES", "30000"))
SEED = int(os.environ.get("MDBC_FUZZ_SEED", "20240611"))
_HEADER = struct.Struct(">4sBBII")


def _frame(body: bytes, *, compress: bool = False, raw: int | None = None) -> bytes:
    """A well-framed entry with a correct CRC around any body bytes."""
    stored = zlib.compress(body, 1) if compress else body
    flags = FLAG_ZLIB if compress else 0
    size = len(body) if raw is None else raw
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, flags, len(stored), size)
    return head + stored + struct.pack(">I", zlib.crc32(head + stored))


def _body(entry: bytes) -> bytes:
    """The uncompressed body of an entry ``encode`` made with ``compress=False``."""
    return entry[HEADER_SIZE:-TRAILER_SIZE]


def _mutate(rng: random.Random, data: bytes, donors: list[bytes]) -> bytes:
    """One to four random edits: flips, overwrites, cuts, insertions, splices."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        at = rng.randrange(len(out) + 1)
        if choice == 0 and out:
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        elif choice == 1 and out:
            i = rng.randrange(len(out))
            out[i] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        elif choice == 2:
            del out[at : at + rng.randint(1, 16)]
        elif choice == 3:
            out[at:at] = rng.randbytes(rng.randint(1, 16))
        elif choice == 4:
            # A varint that claims a huge length or count.
            out[at:at] = b"\xff" * rng.randint(1, 9) + b"\x7f"
        elif choice == 5:
            donor = rng.choice(donors)
            j = rng.randrange(len(donor) + 1)
            out[at:] = donor[j : j + rng.randint(1, 64)] + out[at:]
        else:
            del out[at:]
    return bytes(out)


def _seeds() -> list[EntryPayload]:
    """A few valid entries of every shape, drawn once from the round-trip strategy."""
    found: list[EntryPayload] = []

    @settings(max_examples=40, database=None, deadline=None, derandomize=True)
    @given(entries())
    def collect(payload: EntryPayload) -> None:
        found.append(payload)

    collect()
    return found


def _check(decoder: Callable[[bytes], object], data: bytes, case: int) -> str:
    try:
        result = decoder(data)
    except LogFormatError as exc:
        assert exc.kind in LogFormatError.KINDS
        return exc.kind
    except Exception as exc:  # the very thing this test hunts for
        raise AssertionError(
            f"seed {SEED} case {case}: decode raised {type(exc).__name__}: {exc} "
            f"on {len(data)} bytes {data[:200]!r}"
        ) from exc
    assert isinstance(result, EntryPayload)
    return "decoded"


def test_decoder_gives_only_log_format_error_on_random_and_mutated_bytes() -> None:
    rng = random.Random(SEED)
    plain = [encode_entry(p, compress=False) for p in _seeds()]
    bodies = [_body(e) for e in plain]
    outcomes: dict[str, int] = {}
    for case in range(CASES):
        kind = rng.randrange(10)
        if kind == 0:
            data = rng.randbytes(rng.randint(0, 64))
        elif kind == 1:
            data = MAGIC + bytes([FORMAT_VERSION]) + rng.randbytes(rng.randint(0, 64))
        elif kind == 2:
            data = _mutate(rng, rng.choice(plain), plain)
        elif kind in (3, 4, 5, 6, 7):
            data = _frame(_mutate(rng, rng.choice(bodies), bodies))
        elif kind == 8:
            data = _frame(_mutate(rng, rng.choice(bodies), bodies), compress=True)
        else:
            # A compressed body that declares a raw size other than its real one.
            body = rng.choice(bodies)
            data = _frame(body, compress=True, raw=rng.choice((0, 1, 2**32 - 1, len(body) * 9)))
        outcome = _check(decode, data, case)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # The run must reach the body decoder, not stop at the checksum every time.
    assert outcomes.get("malformed", 0) > CASES // 10, outcomes
    assert outcomes.get("checksum", 0) > 0, outcomes


@settings(
    max_examples=300,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.binary(max_size=256))
def test_decoder_gives_only_log_format_error_on_any_framed_body(body: bytes) -> None:
    # Hypothesis shrinks a failure here to the smallest body that breaks the decoder.
    _check(decode, _frame(body), -1)


def test_decompression_bomb_is_refused_without_inflating_it() -> None:
    # 1 GiB of zeros deflates to about 1 MiB; declared as 1 byte, at most 2 are inflated.
    bomb = zlib.compressobj(1)
    packed = b"".join(bomb.compress(bytes(1 << 20)) for _ in range(1024)) + bomb.flush()
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, FLAG_ZLIB, len(packed), 1)
    data = head + packed + struct.pack(">I", zlib.crc32(head + packed))
    tracemalloc.start()
    try:
        decode(data)
    except LogFormatError as exc:
        assert exc.kind == "compression"
    else:
        raise AssertionError("a body that inflates past its declared size was accepted")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"decoding the bomb allocated {peak} bytes"
