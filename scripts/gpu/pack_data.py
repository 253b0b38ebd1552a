"""Pack the training data of the GPU recipes (configs/gpu/*.yaml) into one ignored folder.

A device call carries the working tree plus the paths named in ``carry``, 64 MiB in all; the tree
itself is about 31 MiB (the shipped weights), so the data must fit in what is left (at most 30 MiB,
the kornia wheel included). This writes ``.data/gpu/`` (ignored through ``.data/`` in .gitignore):

    train/T91, train/General50   JPEG q95 4:4:4 re-encodes of the PNGs (General50 less the check
                                 images)
    train/photos_hr              the high-resolution photos at half size (Lanczos), JPEG q95 4:4:4
    train/BSDS400                original JPEG bytes, an evenly spaced subset: whatever still fits
    mnist/                       the MNIST t10k IDX files as they are
    cifar10/<class>/             the first CIFAR10_PER_CLASS JPEGs of each class, as they are
    faces/                       training faces of the face recipe (restore.tasks.face.face_split's
                                 train part, evenly spaced) and its 32 validation faces, at the
                                 128-px size the recipe works at, JPEG q92 4:4:4. Never the
                                 evaluation faces (the last 400): the CPU judges on those
    style/                       the artworks at the 256-px shorter side the recipe uses
    check/x4, check/x2           HR (centre 192x192 crops of CHECK_COUNT General50 images kept out
                                 of train/) and LR (MATLAB bicubic, restore.data.resize): the
                                 device-side sanity evaluation. Never val/: the CPU evaluation on
                                 ../shared/data/val decides what ships.
    wheels/                      the kornia wheel from .whl/ (scripts/bench/gpu_wheels.sh)
    MANIFEST.json                every file with its source, how it was made, and its size

Small files travel in a tar (cifar10.tar, faces.tar): on disk each file takes whole 4 KiB
blocks, and a 1 KiB CIFAR image took four times its size. train_all.py unpacks them in place
before the legs start.

    python scripts/gpu/pack_data.py --dry-run   # per recipe: what would be carried; the total
    python scripts/gpu/pack_data.py             # write .data/gpu/ (replaces an older pack)

The dry run encodes everything in memory, so its sizes are the real ones.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the restore package of this checkout, also when not installed

MIB = 1024 * 1024
CALL_LIMIT_MIB = 64.0  # what one device call carries: tree + carried paths
MARGIN_MIB = 2.0  # files that appear in the tree before the call (new code, notes)
# The tool counted more than the files' bytes: the first call (2026-11-29) was refused at 62.95 MiB
# of bytes, 74 MiB on disk (3,000 small CIFAR files), and went at 60.3 / 62 MiB. So every file
# counts at its size on disk, in whole 4 KiB blocks.
BLOCK = 4096
DEFAULT_MAX_MIB = 30.0
MANIFEST_RESERVE = 256 * 1024  # MANIFEST.json (counted as this much)
CIFAR10_PER_CLASS = 150
CIFAR10_CORE = 50  # per class, always carried; the rest fill
FACES_DIR = ("faces", "utkface_200")  # under the shared data
FACES_CORE, FACES_MAX = 400, 3000  # training faces always carried / at most (the rest fill)
FACE_QUALITY = 92  # 6 KB a face: the faces are UTKFace's own 200-px JPEGs to begin with
BSDS_CORE = 12  # the style recipe's photos (train/BSDS400), always carried; the rest fill. 12, not
# 30, since the tree reached 39 MiB (2026-12-04): style-painting has no relay protocol to judge it
FACE_SIZE = 128  # the face recipe's crop side (configs/gpu/face.yaml task_args.size)
TAR_BLOCK = 512  # a tar member: a 512-byte header + its bytes in 512-byte records
TAR_END = 10240  # the end-of-archive records, padded to tar's default 10 KiB
CHECK_COUNT, CHECK_SIZE = 6, 192
STYLE_SHORT_SIDE = 256  # what the style recipe shrinks them to at load anyway
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


@dataclass(frozen=True)
class Item:
    """One file of the pack: where it goes, where it comes from, and how it is made."""

    dest: str  # relative to the pack root
    source: Path
    how: str  # copy | jpeg95 | half-jpeg95 | style-jpeg95 | face-jpeg | check-hr | check-lr-x*
    fill: bool = False  # dropped first (from the end) when the pack is over budget
    tar: str | None = None  # travels inside this archive of the pack root (unpacked on device)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _short_side(path: Path) -> int:
    with Image.open(path) as im:
        return min(im.size)


def check_sources(src: Path) -> list[Path]:
    """The General50 images kept out of training for the device-side check (every k-th one
    whose shorter side is at least CHECK_SIZE)."""
    big = [p for p in _images(src / "train" / "General50") if _short_side(p) >= CHECK_SIZE]
    step = max(1, len(big) // CHECK_COUNT)
    return big[::step][:CHECK_COUNT]


def plan(src: Path, limit: int | None = None) -> list[Item]:
    """Every file of the pack, in priority order (``fill`` items last). ``limit`` caps the files
    taken from each source folder (tiny packs for tests)."""

    def take(paths: list[Path]) -> list[Path]:
        return paths[:limit] if limit else paths

    items: list[Item] = []
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        items.append(Item(f"mnist/{name}", src / "generation" / "mnist_t10k" / name, "copy"))
    for p in take(_images(src / "style" / "style")):
        items.append(Item(f"style/{p.stem}.jpg", p, "style-jpeg95"))
    check = check_sources(src)
    for p in take(check):
        items.append(Item(f"check/x4/HR/{p.stem}.jpg", p, "check-hr"))
        items.append(Item(f"check/x4/LR/{p.stem}.png", p, "check-lr-x4"))
        items.append(Item(f"check/x2/HR/{p.stem}.jpg", p, "check-hr"))
        items.append(Item(f"check/x2/LR/{p.stem}.png", p, "check-lr-x2"))
    for p in take(_images(src / "train" / "T91")):
        items.append(Item(f"train/T91/{p.stem}.jpg", p, "jpeg95"))
    for p in take([p for p in _images(src / "train" / "General50") if p not in check]):
        items.append(Item(f"train/General50/{p.stem}.jpg", p, "jpeg95"))
    # the tree grows with every shipped model, so what is not needed by every recipe can go:
    # fill items are dropped from the end (BSDS400 beyond its core first, then faces beyond
    # theirs, then CIFAR beyond its core, then the second half of the photos)
    photos = take(_images(src / "train" / "photos_hr"))
    core_photos = photos[: (len(photos) + 1) // 2]
    for p in core_photos:
        items.append(Item(f"train/photos_hr/{p.stem}.jpg", p, "half-jpeg95"))
    cifar = src / "generation" / "cifar10_test"
    classes = sorted(d for d in cifar.iterdir() if d.is_dir())
    cifar_imgs = {c: take(_images(c)[:CIFAR10_PER_CLASS]) for c in classes}
    for c in classes:
        for p in cifar_imgs[c][:CIFAR10_CORE]:
            items.append(Item(f"cifar10/{c.name}/{p.name}", p, "copy", tar="cifar10.tar"))
    train_faces, val_faces = face_sources(src)
    for p in take(train_faces[:FACES_CORE]) + take(val_faces):
        items.append(Item(f"faces/{p.name}", p, "face-jpeg", tar="faces.tar"))
    bsds = _images(src / "train" / "BSDS400")
    # evenly spaced, so that dropping from the end while fitting keeps the spread
    order = take(sorted(range(len(bsds)), key=lambda i: (_bit_reverse(i, len(bsds)), i)))
    for i in order[:BSDS_CORE]:
        items.append(Item(f"train/BSDS400/{bsds[i].name}", bsds[i], "copy"))
    for p in photos[len(core_photos) :]:
        items.append(Item(f"train/photos_hr/{p.stem}.jpg", p, "half-jpeg95", fill=True))
    for c in classes:
        for p in cifar_imgs[c][CIFAR10_CORE:]:
            items.append(
                Item(f"cifar10/{c.name}/{p.name}", p, "copy", fill=True, tar="cifar10.tar")
            )
    for p in take(train_faces[FACES_CORE:]):
        items.append(Item(f"faces/{p.name}", p, "face-jpeg", fill=True, tar="faces.tar"))
    for i in order[BSDS_CORE:]:
        items.append(Item(f"train/BSDS400/{bsds[i].name}", bsds[i], "copy", fill=True))
    return items


def face_sources(src: Path) -> tuple[list[Path], list[Path]]:
    """(training faces, validation faces) of the face recipe's split of the shared face folder:
    ``FACES_MAX`` of the train part, evenly spaced and in an order whose every prefix is spread
    over the whole part (so that dropping fill from the end keeps the spread), and all of the
    validation part. Sorted by name, the validation faces come after every training face, so
    ``face_split(pack/faces, holdout=0, val=32)`` finds the same 32. None of the evaluation part.
    No face folder: two empty lists."""
    from restore.tasks.face import face_split

    folder = src.joinpath(*FACES_DIR)
    if not folder.is_dir():
        return [], []
    split = face_split(folder)
    train = split["train"]
    step = max(1, len(train) // FACES_MAX)
    spaced = train[::step][:FACES_MAX]
    order = sorted(range(len(spaced)), key=lambda i: (_bit_reverse(i, len(spaced)), i))
    return [spaced[i] for i in order], split["val"]


def _bit_reverse(i: int, n: int) -> int:
    bits = max(1, (n - 1).bit_length())
    return int(format(i, f"0{bits}b")[::-1], 2)


# ---------------------------------------------------------------------------------------------
# Encoding (in memory: the dry run measures the real sizes)
# ---------------------------------------------------------------------------------------------


def _rgb8(path: Path) -> np.ndarray:
    from restore.data.io import read_image

    px = read_image(path).pixels  # EXIF-upright, grey as RGB, uint8 or uint16
    if px.dtype == np.uint16:
        px = np.round(px / 257.0).astype(np.uint8)
    return px


def _jpeg(a: np.ndarray, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG", compress_level=9)
    return buf.getvalue()


def _resize_short(a: np.ndarray, short: int) -> np.ndarray:
    h, w = a.shape[:2]
    if min(h, w) <= short:
        return a
    s = short / min(h, w)
    size = (max(short, round(w * s)), max(short, round(h * s)))
    return np.asarray(Image.fromarray(a).resize(size, Image.Resampling.LANCZOS))


def _check_hr(path: Path) -> bytes:
    a = _rgb8(path)
    h, w = a.shape[:2]
    top, left = (h - CHECK_SIZE) // 2, (w - CHECK_SIZE) // 2
    return _jpeg(np.ascontiguousarray(a[top : top + CHECK_SIZE, left : left + CHECK_SIZE]))


def _check_lr(path: Path, scale: int) -> bytes:
    """LR of the *stored* HR (the decoded JPEG), as MATLAB's bicubic imresize makes it."""
    import torch

    from restore.data.resize import imresize_uint8

    hr = np.asarray(Image.open(io.BytesIO(_check_hr(path))).convert("RGB"))
    t = torch.from_numpy(np.ascontiguousarray(hr.transpose(2, 0, 1)))[None]
    lr = imresize_uint8(t, scale=1.0 / scale)[0].permute(1, 2, 0).numpy()
    return _png(np.ascontiguousarray(lr))


ENCODERS: dict[str, Callable[[Path], bytes]] = {
    "copy": lambda p: p.read_bytes(),
    "jpeg95": lambda p: _jpeg(_rgb8(p)),
    "half-jpeg95": lambda p: _jpeg(_half(_rgb8(p))),
    "style-jpeg95": lambda p: _jpeg(_resize_short(_rgb8(p), STYLE_SHORT_SIDE)),
    "face-jpeg": lambda p: _jpeg(_face(p), FACE_QUALITY),
    "check-hr": _check_hr,
    "check-lr-x2": lambda p: _check_lr(p, 2),
    "check-lr-x4": lambda p: _check_lr(p, 4),
}


def _face(path: Path) -> np.ndarray:
    from restore.tasks.face import read_face

    return read_face(path, FACE_SIZE)  # as the face task reads it (area resize)


def _half(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    return np.asarray(Image.fromarray(a).resize((w // 2, h // 2), Image.Resampling.LANCZOS))


def encode_all(items: list[Item]) -> dict[str, bytes]:
    """dest -> bytes for every item (threads: Pillow releases the GIL while it codes)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        blobs = list(pool.map(lambda it: ENCODERS[it.how](it.source), items))
    return {it.dest: b for it, b in zip(items, blobs)}


# ---------------------------------------------------------------------------------------------
# What travels
# ---------------------------------------------------------------------------------------------


def tree_bytes(repo: Path = REPO) -> int | None:
    """Bytes of the working tree a device call sends (tracked + untracked-not-ignored files);
    None when git cannot say."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    total = 0
    for name in {n for n in out.decode().split("\0") if n}:
        p = repo / name
        if p.is_file() and not p.is_symlink():
            total += on_disk(p.stat().st_size)
    return total


def on_disk(n: int) -> int:
    """``n`` bytes rounded up to whole ``BLOCK``s (what a file takes on disk)."""
    return -(-n // BLOCK) * BLOCK


def carried_size(item: Item, n: int) -> int:
    """What ``n`` bytes of ``item`` add to the pack: whole blocks on disk for a loose file, a
    header and whole 512-byte records inside a tar (the archive's own end: ``TAR_END``, and its
    last block, are counted once per archive by :func:`archive_overhead`)."""
    return TAR_BLOCK + -(-n // TAR_BLOCK) * TAR_BLOCK if item.tar else on_disk(n)


def archive_overhead(items: list[Item]) -> int:
    """Bytes the archives themselves add: their end records and a last partial disk block."""
    return len({i.tar for i in items if i.tar}) * (TAR_END + BLOCK)


def kornia_wheel(repo: Path = REPO) -> Path | None:
    """The kornia wheel that scripts/bench/gpu_wheels.sh put in .whl/ (kornia_rs stays behind:
    kornia imports it only for kornia.io, which restore does not use; scripts/gpu/device_call.sh
    puts a stub in its place)."""
    found = sorted((repo / ".whl").glob("kornia-*.whl"))
    return found[-1] if found else None


def fit(items: list[Item], sizes: dict[str, int], budget: int) -> list[Item]:
    """Drop ``fill`` items from the end until the pack fits ``budget`` bytes."""
    kept = list(items)
    total = sum(sizes[i.dest] for i in kept)
    while total > budget and kept and kept[-1].fill:
        total -= sizes[kept.pop().dest]
    return kept


def recipe_paths(configs: Path, pack: str) -> dict[str, list[str]]:
    """recipe file -> the pack folders its data.train / train_b / val name (relative to the
    pack), read from the YAML as ``restore.config.load_config`` reads it."""
    out: dict[str, list[str]] = {}
    for f in sorted(configs.glob("*.yaml")):
        data = yaml.safe_load(f.read_text()) or {}
        d = data.get("data") or {}
        used = []
        for key in ("train", "train_b", "val"):
            v = str(d.get(key) or "")
            if v.startswith(pack + "/"):
                used.append(v[len(pack) + 1 :])
        out[f.name] = used
    return out


def manifest(kept: list[Item], sizes: dict[str, int], src: Path, summary: dict) -> dict:
    """What the pack holds, grouped by folder: source folder, how it was made, files, bytes."""
    groups: dict[str, dict] = {}
    for it in kept:
        folder, name = it.dest.rsplit("/", 1)
        g = groups.setdefault(
            f"{folder} <- {it.how}",
            {
                "folder": folder,
                "how": it.how,
                "tar": it.tar,
                "source": _rel(it.source.parent, src),
                "bytes": 0,
                "files": [],
            },
        )
        g["bytes"] += sizes[it.dest]
        g["files"].append(
            f"{name} <- {it.source.name}" if it.source.stem != name.rsplit(".", 1)[0] else name
        )
    return {"source": "../shared/data", **summary, "groups": list(groups.values())}


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return p.name


def _under(dest: str, folder: str) -> bool:
    return dest == folder or dest.startswith(folder.rstrip("/") + "/")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--src",
        type=Path,
        default=Path(os.environ.get("RESTORE_DATA", REPO.parent / "shared" / "data")),
        help="the shared data (default ../shared/data or $RESTORE_DATA)",
    )
    ap.add_argument("--out", type=Path, default=REPO / ".data" / "gpu", help="the pack folder")
    ap.add_argument("--dry-run", action="store_true", help="print what would be carried only")
    ap.add_argument(
        "--max-mib", type=float, default=DEFAULT_MAX_MIB, help="the pack's cap (default 30)"
    )
    ap.add_argument(
        "--margin-mib",
        type=float,
        default=MARGIN_MIB,
        help="room kept under the call's 64 MiB for files made before the call (default 2)",
    )
    ap.add_argument("--limit", type=int, default=None, help="files per source (tiny test packs)")
    ap.add_argument("--json", type=Path, help="also write the dry-run summary as JSON")
    args = ap.parse_args(argv)

    if not args.src.is_dir():
        print(f"pack_data: no data at {args.src} (give --src or set RESTORE_DATA)", file=sys.stderr)
        return 2
    items = plan(args.src, args.limit)
    blobs = encode_all(items)
    wheel = kornia_wheel()
    wheel_bytes = on_disk(wheel.stat().st_size) if wheel else 0
    tree = tree_bytes()
    budget = int(args.max_mib * MIB) - wheel_bytes - MANIFEST_RESERVE
    if tree is not None:
        budget = min(
            budget,
            int((CALL_LIMIT_MIB - args.margin_mib) * MIB) - tree - wheel_bytes - MANIFEST_RESERVE,
        )
    sizes = {it.dest: carried_size(it, len(blobs[it.dest])) for it in items}
    kept = fit(items, sizes, budget - archive_overhead(items))
    data_bytes = sum(sizes[i.dest] for i in kept) + archive_overhead(kept)
    total = data_bytes + wheel_bytes + MANIFEST_RESERVE

    # report: per folder, per recipe, totals
    folders: dict[str, list[int]] = {}
    for it in kept:
        top = (
            "/".join(it.dest.split("/")[:2])
            if it.dest.startswith(("train/", "check/"))
            else (it.dest.split("/")[0])
        )
        folders.setdefault(top, []).append(sizes[it.dest])
    dropped = len(items) - len(kept)
    print(f"pack {args.out} from {args.src}{' (dry run: nothing written)' if args.dry_run else ''}")
    for top, s in sorted(folders.items()):
        print(f"  {top:<22} {len(s):5d} files {sum(s) / MIB:7.2f} MiB")
    if dropped:
        print(
            f"  ({dropped} fill images left out to fit the budget: BSDS400, faces, CIFAR, photos)"
        )
    print(
        f"  {'wheels/':<22} {1 if wheel else 0:5d} files {wheel_bytes / MIB:7.2f} MiB"
        + ("" if wheel else "  (no .whl/kornia-*.whl: run scripts/bench/gpu_wheels.sh first)")
    )
    pack_name = ".data/gpu"
    per_recipe = {}
    print("per recipe (data.train / train_b / val under the pack):")
    for recipe, used in recipe_paths(REPO / "configs" / "gpu", pack_name).items():
        b = sum(sizes[i.dest] for i in kept if any(_under(i.dest, u) for u in used))
        n = sum(1 for i in kept if any(_under(i.dest, u) for u in used))
        per_recipe[recipe] = {"folders": used, "files": n, "bytes": b}
        print(f"  {recipe:<22} {n:5d} files {b / MIB:7.2f} MiB  {', '.join(used)}")
    print(f"total carried: {total / MIB:.2f} MiB (cap {args.max_mib:g} MiB)")
    if tree is not None:
        print(
            f"with the working tree ({tree / MIB:.2f} MiB): {(total + tree) / MIB:.2f} MiB of the "
            f"call's {CALL_LIMIT_MIB:g} MiB"
        )
    summary = {
        "total_bytes": total,
        "data_bytes": data_bytes,
        "wheel_bytes": wheel_bytes,
        "tree_bytes": tree,
        "files": len(kept) + (1 if wheel else 0),
        "dropped": dropped,
        "recipes": per_recipe,
    }
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    over = total > args.max_mib * MIB or (
        tree is not None and total + tree > (CALL_LIMIT_MIB - args.margin_mib) * MIB
    )
    if over:
        print(
            "pack_data: over budget even without the fill images (BSDS400, faces, CIFAR, photos)",
            file=sys.stderr,
        )
        return 1
    if args.dry_run:
        return 0

    tmp = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    archives: dict[str, tarfile.TarFile] = {}
    try:
        for it in kept:
            if it.tar:
                if it.tar not in archives:
                    tmp.mkdir(parents=True, exist_ok=True)
                    archives[it.tar] = tarfile.open(tmp / it.tar, "w", format=tarfile.USTAR_FORMAT)
                info = tarfile.TarInfo(it.dest)
                info.size, info.mode = len(blobs[it.dest]), 0o644
                archives[it.tar].addfile(info, io.BytesIO(blobs[it.dest]))
                continue
            p = tmp / it.dest
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(blobs[it.dest])
    finally:
        for tf in archives.values():
            tf.close()
    if wheel:
        (tmp / "wheels").mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, tmp / "wheels" / wheel.name)
    (tmp / "MANIFEST.json").write_text(
        json.dumps(manifest(kept, sizes, args.src, summary), indent=1)
    )
    shutil.rmtree(args.out, ignore_errors=True)
    tmp.rename(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
