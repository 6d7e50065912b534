"""benchmarks/gpu_kit.py: files split into call-sized folders come back whole, call by call."""

import gzip
import importlib.util
import shutil
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("gpu_kit", Path(__file__).parents[1] / "benchmarks" / "gpu_kit.py")
gpu_kit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpu_kit)


def test_files_split_over_calls_are_rebuilt_once_their_chunks_arrive(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    big, small = src / "big.bin", src / "t10k-labels-idx1-ubyte.gz"
    big.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes: spans three 4 KiB call folders
    small.write_bytes(gzip.compress(b"labels" * 10))
    folders = gpu_kit.pack({"inception.pt": big, "data/MNIST/raw/t10k-labels-idx1-ubyte.gz": small},
                           tmp_path / "kit", budget=4096)
    assert len(folders) == 3
    assert all(sum(p.stat().st_size for p in f.glob("*.part")) <= 4096 for f in folders)

    dest, carried = tmp_path / "dest", tmp_path / "carried"
    for i, folder in enumerate(folders):
        shutil.rmtree(carried, ignore_errors=True)  # each call carries one folder; dest persists between calls
        shutil.copytree(folder, carried / folder.name)
        complete = gpu_kit.unpack(carried, dest)
        assert complete == (i == len(folders) - 1)
        assert (dest / "inception.pt").is_file() == complete
    assert (dest / "inception.pt").read_bytes() == big.read_bytes()
    assert (dest / "data/MNIST/raw/t10k-labels-idx1-ubyte").read_bytes() == b"labels" * 10
    env = (dest / "env.sh").read_text()
    assert f"GANLAB_INCEPTION={dest / 'inception.pt'}" in env and f"GANLAB_DATA={dest / 'data'}" in env


def test_a_corrupted_chunk_is_refused(tmp_path: Path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 5000)
    (folder,) = gpu_kit.pack({"inception.pt": src}, tmp_path / "kit", budget=10_000)
    part = next(folder.glob("*.part"))
    part.write_bytes(b"y" + part.read_bytes()[1:])
    with pytest.raises(SystemExit, match="sha256"):
        gpu_kit.unpack(tmp_path / "kit", tmp_path / "dest")
