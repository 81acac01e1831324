"""Find what was dropped: which label format a folder (or file) holds, why, and which image goes with
which annotation file. Only names and small file heads are read here; images and labels are read
later, in parallel, by `scan`.

Recognised: an Ultralytics `data.yaml`; COCO JSON; LabelMe JSON; Pascal VOC XML; YOLO `.txt` labels
in the Ultralytics layout (`images/…` + `labels/…`), next to their images, or in a separate folder
matched by file name; and images with no labels at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cardgrader.data import find_yolo, layout
from cardgrader.data.found import (IGNORED_SUFFIXES, NAME_FILES, SIDE_WORDS, SKIP_DIRS, SPECIAL_TXT, SPLIT_WORDS,
                                   Found, Listing, Task, add_backgrounds, fail, list_folder, read_names_file,
                                   relative, side_of, split_of, stem, words)
from cardgrader.data.model import ERROR, INFO, Finding, SourceInfo, plural
from cardgrader.data.readers import coco

# The records and folder helpers live in `found` (which `find_yolo` imports too); they are importable
# from here as before.
__all__ = ["IGNORED_SUFFIXES", "NAME_FILES", "SIDE_WORDS", "SKIP_DIRS", "SPECIAL_TXT", "SPLIT_WORDS", "Found",
           "Listing", "Task", "add_backgrounds", "fail", "find", "list_folder", "read_names_file", "relative",
           "resolve_image", "side_of", "split_of", "stem", "words"]

_HEAD = 4096


def _head(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_HEAD).decode("utf-8", "replace")
    except OSError:
        return ""


def find(paths: list[str | Path]) -> list[Found]:
    """One `Found` per dropped path, in the order given."""
    out = []
    for index, raw in enumerate(paths):
        path = Path(os.path.abspath(Path(raw).expanduser()))
        info = SourceInfo(str(path), "none", "Nothing usable", "")
        found = Found(info, path if path.is_dir() else path.parent)
        if not path.exists():
            fail(found, f"{path} does not exist; check the path.", "missing_path", "the path does not exist")
        elif path.is_dir():
            _folder(found, index, list_folder(path))
        else:
            _file(found, index, path)
        out.append(found)
    return out


def _file(found: Found, index: int, path: Path) -> None:
    """A file dropped on its own: a data.yaml, a COCO/LabelMe JSON, a VOC XML or a single image."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        find_yolo.from_yaml(found, index, path, list_folder(path.parent))
        return
    here = list_folder(path.parent, recursive=False)
    if suffix == ".json" and '"shapes"' not in _head(str(path)):  # COCO: its images may be in sub-folders
        solo = Listing(images=list_folder(path.parent).images, json=[str(path)])
    elif suffix in (".json", ".xml"):
        solo = Listing(images=here.images, **{suffix[1:]: [str(path)]})
    elif layout.is_image(path):
        base = os.path.join(str(path.parent), path.stem)
        same = [p for p in here.txt + here.xml + here.json if os.path.splitext(p)[0] == base]
        ultralytics = layout.label_path_for(path)
        solo = Listing(images=[str(path)], txt=[p for p in same if p.endswith(".txt")] +
                       ([str(ultralytics)] if ultralytics.is_file() else []),
                       xml=[p for p in same if p.endswith(".xml")], json=[p for p in same if p.endswith(".json")])
    else:
        what = "an archive; unpack it and drop the folder" if suffix in (".zip", ".tar", ".gz", ".7z", ".rar") \
            else "not a folder of images and labels; drop the folder that holds them (or its data.yaml)"
        fail(found, f"{path} is a file, {what}.", "not_a_folder", "a single file that is not a dataset")
        return
    _folder(found, index, solo, single=True)


def _folder(found: Found, index: int, listing: Listing, single: bool = False) -> None:
    root = found.root
    found.by_name = _index(listing.images)
    if not single:
        yaml_file = find_yolo.dataset_yaml(root, listing.yaml)
        if yaml_file is not None:
            find_yolo.from_yaml(found, index, yaml_file, listing)
            return
    if not any((listing.images, listing.txt, listing.json, listing.xml)):
        what = f"holds only {len(listing.other)} files that are not images" if listing.other else "is empty"
        fail(found, f"{root} {what}; drop the folder that holds your images and labels.", "no_images",
              "no images or labels were found")
        return
    coco_files, labelme, unknown_json = [], [], []
    for path in listing.json:
        head = _head(path)
        if '"shapes"' in head:
            labelme.append(path)
            continue
        try:
            raw = Path(path).read_bytes()
            data = json.loads(raw.decode("utf-8-sig")) if b'"images"' in raw and b'"annotations"' in raw else None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            data = None
        (coco_files.append((path, data)) if coco.looks_like_coco(data) else unknown_json.append(path))
    voc = [p for p in listing.xml if "<annotation" in _head(p)]
    candidates = {
        "coco": sum(len(d["images"]) for _p, d in coco_files),
        "labelme": len(labelme),
        "voc": len(voc),
        "yolo": len([p for p in listing.txt if os.path.basename(p).lower() not in SPECIAL_TXT]),
    }
    chosen = max(candidates, key=lambda k: (candidates[k], -list(candidates).index(k)))
    if candidates[chosen] == 0:
        chosen = "images"
    for other, count in candidates.items():
        if other != chosen and count:
            found.findings.append(Finding(INFO, str(root), f"{root} also holds {count} {other.upper()} annotation "
                                                           f"entries; only the {chosen.upper()} labels are read. Drop "
                                                           "them on their own to read them instead.", "other_format"))
    if chosen == "coco":
        _coco(found, index, coco_files, listing)
    elif chosen in ("labelme", "voc"):
        _per_image(found, index, chosen, labelme if chosen == "labelme" else voc, listing, single)
    else:
        find_yolo.from_folder(found, index, listing)
    found.files = listing.images + listing.txt + listing.json + listing.xml + listing.yaml
    ignored = listing.other + unknown_json + [p for p in listing.xml if p not in set(voc)]
    found.info.ignored_files = len(ignored)
    if ignored:
        examples = ", ".join(os.path.basename(p) for p in ignored[:3])
        verb = "is" if len(ignored) == 1 else "are"
        found.findings.append(Finding(INFO, str(root), f"{plural(len(ignored), 'file')} in {root} {verb} neither "
                                                       f"images nor labels, so ignored (e.g. {examples}).",
                                      "non_image_files"))
    found.info.images = len(listing.images)


def _index(images: list[str]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for path in images:
        index.setdefault(os.path.basename(path).lower(), []).append(path)
    return index


def resolve_image(ref: str | None, near: str, by_name: dict[str, list[str]]) -> str | None:
    """The image an annotation names: next to the annotation, in an images folder, or by its file name."""
    if not ref:
        return None
    ref = ref.replace("\\", "/")
    base = Path(near).parent
    for candidate in (base / ref, base / "images" / ref, base.parent / ref, base.parent / "images" / ref,
                      base.parent / "JPEGImages" / ref):
        if os.path.isfile(candidate):
            return str(candidate)
    matches = by_name.get(os.path.basename(ref).lower(), [])
    return matches[0] if len(matches) == 1 else None


def _coco(found: Found, index: int, files: list[tuple[str, dict]], listing: Listing) -> None:
    names: list[str] = []
    claimed: set[str] = set()
    annotations = 0
    for path, data in files:
        parsed = coco.read(Path(path), data)
        annotations += parsed.annotations
        found.findings += parsed.findings
        names += [n for n in parsed.names if n not in names]
        split = SPLIT_WORDS.get(next((w for w in reversed(words(relative(path, found.root)))
                                      if w in SPLIT_WORDS), ""), None)
        for file_name, ann in parsed.images:
            image = resolve_image(file_name, path, found.by_name)
            if image is None:
                found.findings.append(Finding(
                    ERROR, path, f"{path} lists image '{file_name}' with {plural(len(ann.shapes), 'label')}, but "
                                 f"the image is not in {found.root}; copy it there or export the dataset again.",
                    "missing_image"))
                continue
            claimed.add(image)
            found.tasks.append(Task(index, image, path, None, split or split_of(image, found.root),
                                    side_of(image, found.root), ann=ann))
    unlisted = [p for p in listing.images if p not in claimed]
    if unlisted:
        verb = "is" if len(unlisted) == 1 else "are"
        found.findings.append(Finding(INFO, str(found.root), f"{plural(len(unlisted), 'image')} in {found.root} "
                                                             f"{verb} not listed in the COCO file, so ignored (e.g. "
                                                             f"{os.path.basename(unlisted[0])}).",
                                      "not_in_annotations"))
    found.info.format, found.info.title, found.info.names = "coco", "COCO JSON", names
    found.info.label_files = len(files)
    found.info.reason = (f"{plural(len(files), 'JSON file')} with 'images', 'annotations' and 'categories' "
                         f"({plural(annotations, 'annotation')} of {plural(len(names), 'class')})")


def _per_image(found: Found, index: int, reader: str, files: list[str], listing: Listing, single: bool) -> None:
    """VOC and LabelMe: one annotation file per image, matched by file name or by the image it names."""
    by_stem: dict[str, list[str]] = {}
    for image in listing.images:
        by_stem.setdefault(stem(image).lower(), []).append(image)
    claimed: set[str] = set()
    for path in files:
        key = stem(path).lower()
        same_dir = [p for p in by_stem.get(key, []) if os.path.dirname(p) == os.path.dirname(path)]
        matches = same_dir or by_stem.get(key, [])
        image = matches[0] if len(matches) == 1 else None
        if image:
            claimed.add(image)
        found.tasks.append(Task(index, image, path, reader, split_of(path, found.root),
                                side_of(image or path, found.root)))
    if not single:  # a dropped annotation file speaks for its own image only
        add_backgrounds(found, index, listing.images, claimed)
    title, kind, what = {"voc": ("Pascal VOC XML", "XML file", "with an <annotation> root"),
                         "labelme": ("LabelMe JSON", "JSON file", "with 'shapes' and 'imagePath'")}[reader]
    found.info.format, found.info.title, found.info.label_files = reader, title, len(files)
    found.info.reason = f"{plural(len(files), kind)} {what}"
