"""Crafted checkpoints: each is refused with a ``CheckpointError`` naming the file and the
problem, and the refusal costs no more memory than the data the file really holds (peak
memory measured in a fresh subprocess)."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

import engine
from engine.serialization import CheckpointError

_PROBE = r"""
import resource, sys
import engine
from engine.serialization import CheckpointError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    engine.load(sys.argv[1])
    print("LOADED")
except CheckpointError as e:
    print("REFUSED", e)
except BaseException as e:
    print("CRASHED", type(e).__name__, e)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("GROWTH_KB", after - before)
"""


def _load_in_subprocess(path):
    """(outcome line, peak growth in MiB) of ``engine.load(path)`` in a fresh interpreter."""
    r = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                       text=True, timeout=120)
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and lines, r.stderr
    return lines[0], int(lines[-1].split()[1]) / 1024


def _index(shape, dtype="<f4"):
    return json.dumps({"magic": engine.serialization.MAGIC, "version": 1,
                       "tree": {"t": "tensor", "id": 0, "requires_grad": False},
                       "arrays": [{"dtype": dtype, "shape": list(shape)}]})


def _npy_header(shape, dtype="<f4"):
    """An ``.npy`` version 1.0 header declaring ``shape`` (no data)."""
    d = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    d += " " * (-(10 + len(d) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode()


def _write(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return path


def test_huge_npy_header_refused_before_allocating(tmp_path):
    huge = (20_000_000_000,)
    path = _write(tmp_path / "huge_header.ckpt", [
        ("checkpoint.json", _index((4,))),
        ("arrays/0.npy", _npy_header(huge) + bytes(16))])
    outcome, growth = _load_in_subprocess(path)
    assert outcome.startswith("REFUSED"), outcome
    assert "tensor #0 has dtype <f4 shape [20000000000], the index says <f4 [4]" in outcome
    assert str(path) in outcome
    assert growth < 32, f"refusal grew the process by {growth:.0f} MiB"


def test_huge_shape_agreed_by_index_refused_by_the_members_real_size(tmp_path):
    huge = (20_000_000_000,)
    path = _write(tmp_path / "huge_both.ckpt", [
        ("checkpoint.json", _index(huge)),
        ("arrays/0.npy", _npy_header(huge) + bytes(16))])
    outcome, growth = _load_in_subprocess(path)
    assert outcome.startswith("REFUSED"), outcome
    assert "needs 80000000000 bytes of data" in outcome
    assert growth < 32


def _deep_index(depth):
    return ('{"magic": "%s", "version": 1, "arrays": [], "tree": '
            % engine.serialization.MAGIC + '{"t": "list", "items": [' * depth
            + '{"t": "value", "v": 1}' + ']}' * depth + '}')


@pytest.mark.parametrize("depth", [300, 50_000])
def test_deeply_nested_index_refused(tmp_path, depth):
    path = _write(tmp_path / f"deep{depth}.ckpt", [("checkpoint.json", _deep_index(depth))])
    with pytest.raises(CheckpointError, match="nested too deeply") as info:
        engine.load(path)
    assert str(path) in str(info.value)


def _bomb_zip(path, inflated, lie_about_size):
    """A checkpoint whose one tensor member (shape [4]) inflates to ``inflated`` bytes; with
    ``lie_about_size`` its headers declare the 144 bytes the shape needs."""
    header = _npy_header((4,))
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    block = bytes(1 << 24)
    parts = [c.compress(header)] + [c.compress(block) for _ in range(inflated // len(block))]
    data = b"".join(parts) + c.flush()
    crc = 0
    crc = zlib.crc32(header, crc)
    for _ in range(inflated // len(block)):
        crc = zlib.crc32(block, crc)
    total = len(header) + inflated
    # written by hand so the sizes in both headers can be forged
    declared = len(header) + 16 if lie_about_size else total
    name, idx = b"arrays/0.npy", _index((4,)).encode()
    entries, out = [], bytearray()
    for fname, payload, method, crc_, size in (
            (b"checkpoint.json", idx, 0, zlib.crc32(idx), len(idx)),
            (name, data, 8, crc, declared)):
        off = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc_,
                           len(payload), size, len(fname), 0) + fname + payload
        entries.append((fname, method, crc_, len(payload), size, off))
    cd = len(out)
    for fname, method, crc_, csize, size, off in entries:
        out += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc_, csize,
                           size, len(fname), 0, 0, 0, 0, 0, off) + fname
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(out) - cd, cd, 0)
    path.write_bytes(bytes(out))
    return path


@pytest.mark.parametrize("lie", [False, True], ids=["true-sizes", "forged-sizes"])
def test_zip_bomb_refused_with_bounded_memory(tmp_path, lie):
    path = _bomb_zip(tmp_path / "bomb.ckpt", 1 << 30, lie)
    assert path.stat().st_size < 8 << 20  # a few MB on disk, 1 GiB inflated
    outcome, growth = _load_in_subprocess(path)
    assert outcome.startswith("REFUSED"), outcome
    assert str(path) in outcome
    assert growth < 32, f"refusal grew the process by {growth:.0f} MiB"


def test_member_size_that_its_bytes_cannot_hold_is_refused(tmp_path):
    good = tmp_path / "good.ckpt"
    engine.save({"w": engine.ones(4)}, good)
    raw = bytearray(good.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")  # the last central-directory entry: arrays/0.npy
    struct.pack_into("<L", raw, cd + 24, 3 << 30)  # claim 3 GiB uncompressed, stored
    bad = tmp_path / "forged.ckpt"
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="more than its .* bytes in the file can hold"):
        engine.load(bad)


def test_good_checkpoints_still_load_from_paths_and_streams(tmp_path):
    state = {"w": engine.randn(300, 70), "b": engine.zeros(70, dtype=engine.float64),
             "n": np.arange(5), "step": 3}
    path = tmp_path / "ok.ckpt"
    engine.save(state, path)
    for src in (path, io.BytesIO(path.read_bytes())):
        back = engine.load(src)
        np.testing.assert_array_equal(back["w"].numpy(), state["w"].numpy())
        assert back["b"].dtype == engine.float64 and back["step"] == 3
        np.testing.assert_array_equal(back["n"], state["n"])
