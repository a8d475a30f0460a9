"""The intake: what of a student's submission reaches the grader, for a class batch and for
Gradescope alike. Only `<exercise>.py` modules are ever copied, wherever the student put
them: at the top, a few folders down, or in a zip file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ZIP_MEMBER_LIMIT = 2 * 2**20  # bytes: a module larger than this in a zip is not unpacked
SEARCH_DEPTH = 3  # folders below a student's folder searched for their modules


def stage(folder: Path, staging: Path, exercises: list[str]) -> list[str]:
    """Copy a student's exercise modules into `staging`; return the exercises found.

    Modules are looked for at the top of `folder`, then in its subfolders (the shallowest
    copy wins), then inside zip files, so a zipped repository or an extra folder level
    still grades. Only `<exercise>.py` files are ever copied: nothing else of a
    submission reaches the grader.
    """
    staging.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}.py" for name in exercises}
    found: dict[str, bytes] = {}
    if folder.is_dir():
        for depth in range(SEARCH_DEPTH + 1):
            candidates = folder.glob("/".join(["*"] * (depth + 1)))
            for path in sorted(candidates, key=_preference):
                if path.name in wanted and path.name not in found and path.is_file() \
                        and not path.is_symlink():
                    found[path.name] = path.read_bytes()
        for archive in sorted(folder.rglob("*.zip")):
            found.update({k: v for k, v in _zip_modules(archive, wanted).items()
                          if k not in found})
    for name, data in found.items():
        (staging / name).write_bytes(data)
    return sorted(Path(name).stem for name in found)


def _preference(path: Path) -> tuple[bool, str]:
    """Among copies at the same depth, the one in a folder named `exercises` first."""
    return path.parent.name != "exercises", str(path)


def _zip_modules(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(archive) as z:
            members = sorted((m for m in z.infolist() if Path(m.filename).name in wanted
                              and "__MACOSX" not in m.filename
                              and m.file_size <= ZIP_MEMBER_LIMIT),
                             key=lambda m: (m.filename.count("/"), _preference(
                                 Path(m.filename))))
            found: dict[str, bytes] = {}
            for member in members:
                found.setdefault(Path(member.filename).name, z.read(member))
            return found
    except (zipfile.BadZipFile, OSError):
        return {}
