"""Carry what the GPU benchmarks need to an offline GPU machine.

Such a machine may lack omegaconf, the Inception file and the data, and the way files reach it may limit
their size. ``pack`` (here) splits the wheels, the Inception TorchScript and the data into folders of at most
60 MiB, ``.gpu/call1``, ``.gpu/call2``, ... ; copying each in turn (keeping /tmp there between copies) and
running ``unpack`` there rebuilds them under /tmp/ganlab-kit and writes an env.sh to source:

    python benchmarks/gpu_kit.py pack --data-root DATA [--cifar10]            # here
    python3 benchmarks/gpu_kit.py unpack && . /tmp/ganlab-kit/env.sh && <benchmark>      # there, per call

Standard library only: ``unpack`` runs before ganlab's own dependencies are installed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CALL_BUDGET = 60 * 2**20  # bytes per folder: a 64 MiB transfer limit less the repository itself
WHEELS = ("omegaconf",)  # what ganlab needs that the GPU image lacks (omegaconf 2.4 needs only PyYAML, which is there)
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


# ----- here: pack ---------------------------------------------------------------------------------------
def kit_files(data_root: Path, cifar10: bool, wheel_dir: Path) -> dict[str, Path]:
    """Kit name -> local file: the wheels, the Inception weights, MNIST (gzipped) and optionally CIFAR-10."""
    versions = [f"{name}=={_installed_version(name)}" for name in WHEELS]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel_dir), *versions],
                   check=True)
    files = {f"wheels/{p.name}": p for p in sorted(wheel_dir.glob("*.whl"))}
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ganlab.metrics.inception import find_weights

    for name in MNIST_FILES:
        gz = data_root / "MNIST" / "raw" / f"{name}.gz"
        if not gz.is_file():
            sys.exit(f"error: {gz} not found; give --data-root the folder that holds MNIST/raw")
        files[f"data/MNIST/raw/{name}.gz"] = gz
    files["inception.pt"] = find_weights(download=False)  # after the data: call1 alone serves the training benchmarks
    if cifar10:
        files["data/cifar10.zip"] = data_root / "cifar10.zip"
    return files


def _installed_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def pack(files: dict[str, Path], out: Path, budget: int = CALL_BUDGET) -> list[Path]:
    """Split ``files`` into chunks filling call folders of at most ``budget`` bytes; each holds the manifest."""
    if out.exists():
        shutil.rmtree(out)
    manifest: dict = {"files": {}, "calls": 0}
    call, used, folders = 0, budget, []
    for name, path in files.items():
        size, offset, chunks = path.stat().st_size, 0, []
        with open(path, "rb") as f:
            while offset < size or not chunks:
                if used >= budget:
                    call, used = call + 1, 0
                    folders.append(out / f"call{call}")
                    folders[-1].mkdir(parents=True)
                take = min(budget - used, size - offset)
                chunk = f"{len(manifest['files'])}-{len(chunks)}.part"
                (folders[-1] / chunk).write_bytes(f.read(take))
                chunks.append(chunk)
                offset, used = offset + take, used + take
        manifest["files"][name] = {"chunks": chunks, "size": size, "sha256": sha256(path)}
    manifest["calls"] = call
    for folder in folders:
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return folders


# ----- there: unpack ------------------------------------------------------------------------------------
def unpack(kit: Path, dest: Path) -> bool:
    """Gather the chunks of the carried call folders into ``dest``, rebuild every file whose chunks are all
    there (MNIST .gz also decompressed), install the wheels and write ``dest/env.sh``. Returns whether the
    whole kit is there."""
    chunk_dir = dest / "chunks"
    chunk_dir.mkdir(parents=True, exist_ok=True)
    for folder in sorted(kit.glob("call*")):
        shutil.copyfile(folder / MANIFEST, dest / MANIFEST)
        for part in folder.glob("*.part"):
            shutil.copyfile(part, chunk_dir / part.name)
    if not (dest / MANIFEST).is_file():
        sys.exit(f"error: no call folder under {kit}; carry .gpu/call1 (made by `gpu_kit.py pack`)")
    manifest = json.loads((dest / MANIFEST).read_text())
    waiting = [name for name, entry in manifest["files"].items() if not _rebuild(name, entry, chunk_dir, dest)]
    wheels = sorted(str(p) for p in (dest / "wheels").glob("*.whl"))
    if wheels:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                        "--upgrade", "--target", str(dest / "site"), *wheels], check=True)
    repo = Path(__file__).resolve().parents[1]
    inception = f" GANLAB_INCEPTION={dest / 'inception.pt'}" if (dest / "inception.pt").is_file() else ""
    (dest / "env.sh").write_text(
        f"export PYTHONPATH={dest / 'site'}:{repo}${{PYTHONPATH:+:$PYTHONPATH}}\n"
        f"export GANLAB_DATA={dest / 'data'} GANLAB_CACHE={dest / 'cache'}{inception}\n"
        "export PYTHONUNBUFFERED=1\n")
    if waiting:
        print(f"kit: still to carry: {', '.join(waiting)} (the next call folder); {dest / 'env.sh'} covers the rest")
    else:
        print(f"kit complete: source {dest / 'env.sh'}")
    return not waiting


def _rebuild(name: str, entry: dict, chunk_dir: Path, dest: Path) -> bool:
    """Join one file's chunks into ``dest/name`` (sha256 checked); False while a chunk is still to come."""
    target = dest / name
    if target.is_file() and target.stat().st_size == entry["size"]:
        return True
    if not all((chunk_dir / c).is_file() for c in entry["chunks"]):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        for chunk in entry["chunks"]:
            tmp.write((chunk_dir / chunk).read_bytes())
    if sha256(Path(tmp.name)) != entry["sha256"]:
        os.unlink(tmp.name)
        sys.exit(f"error: {name} does not match its sha256 after reassembly; pack and carry the kit again")
    if name.endswith(".gz"):
        with gzip.open(tmp.name, "rb") as src, open(target.with_suffix(""), "wb") as raw:
            shutil.copyfileobj(src, raw)
    os.replace(tmp.name, target)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("pack", help="here: write .gpu/callN folders")
    p.add_argument("--data-root", default=os.environ.get("GANLAB_DATA", "../shared/data"))
    p.add_argument("--cifar10", action="store_true", help="also carry the CIFAR-10 zip (one more call)")
    p.add_argument("--out", default=".gpu")
    u = sub.add_parser("unpack", help="there: gather the carried folders, rebuild, write env.sh")
    u.add_argument("--kit", default=".gpu")
    u.add_argument("--to", default="/tmp/ganlab-kit")
    args = parser.parse_args()
    if args.verb == "pack":
        with tempfile.TemporaryDirectory() as wheel_dir:
            folders = pack(kit_files(Path(args.data_root), args.cifar10, Path(wheel_dir)), Path(args.out))
        sizes = ", ".join(f"{f} {sum(p.stat().st_size for p in f.iterdir()) / 2**20:.1f} MiB" for f in folders)
        print(f"{len(folders)} call folders: {sizes}; carry them one call after another")
    else:
        unpack(Path(args.kit), Path(args.to))


if __name__ == "__main__":
    main()
