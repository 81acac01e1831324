"""Reading capture folders: bit depths, colour, intensities, DiLiGenT folders, and every bad input."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cardgrader.errors import DataError
from cardgrader.photometric import diligent, solve, synthetic
from cardgrader.photometric.capture import LUMA, decode_all, load_capture

LIGHTS = synthetic.ring_lights(6, 40, 15)


@pytest.fixture(scope="module")
def card():
    return synthetic.card(64, 48, dents=1, scratches=1, seed=5)


@pytest.fixture
def capture_dir(tmp_path, card):
    capture = synthetic.render(card.height, card.normals, card.mask, LIGHTS, albedo=card.albedo, shadows=False)
    return synthetic.write_capture(tmp_path / "capture", capture, bits=16)


def solved_error(folder, card, **kwargs) -> float:
    capture = load_capture(folder, **kwargs)
    result = solve(capture.images, capture.directions, "l2", mask=capture.mask)
    return float(synthetic.angular_error(result.normals, card.normals).mean())


@pytest.mark.parametrize("bits", [8, 16])
def test_gray_8_and_16_bit_captures_give_the_normals(tmp_path, card, bits):
    capture = synthetic.render(card.height, card.normals, card.mask, LIGHTS, albedo=card.albedo, shadows=False)
    folder = synthetic.write_capture(tmp_path / f"c{bits}", capture, bits=bits)
    assert solved_error(folder, card) < (0.6 if bits == 8 else 0.05)


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("method", ["l2", "robust"])
def test_a_gray_capture_is_kept_as_decoded_and_solved_so(tmp_path, card, bits, method):
    """No float copy of a gray capture is made to read it: its planes are the decoded pixels, the float
    stack is made when asked for, and either solver on the planes gives what it gives on the stack (robust
    with cast shadows and noise, so that it leaves lights out and refits pixels picked from the planes)."""
    capture = synthetic.render(card.height, card.normals, card.mask, LIGHTS, albedo=card.albedo,
                               shadows=method == "robust", noise=0.003 if method == "robust" else 0.0)
    folder = synthetic.write_capture(tmp_path / f"c{bits}", capture, bits=bits)
    read = load_capture(folder)
    assert [p.dtype for p in read.planes] == [np.uint8 if bits == 8 else np.uint16] * len(LIGHTS)
    assert read._images is None and read.size == (48, 64)
    from_planes = solve(read.planes, read.directions, method, intensities=1.0 / read.scales, residual=True)
    stack = read.images
    assert stack.dtype == np.float32 and stack.shape == (len(LIGHTS), 64, 48)
    assert np.allclose(stack, [cv2.imread(str(folder / n), cv2.IMREAD_UNCHANGED) / (2.0 ** bits - 1) for n in read.names],
                       atol=1e-6)
    from_stack = solve(stack, read.directions, method, residual=True)
    if method == "robust":
        assert (from_stack.used_fraction < 1).any()  # some lights were left out somewhere
    for field in ("normals", "albedo", "residual", "used_fraction"):
        if getattr(from_stack, field) is not None:
            assert np.allclose(getattr(from_planes, field), getattr(from_stack, field), atol=1e-5), field
    assert read.planes[0] is not None and read.planes[0].dtype == np.float32  # the stack's rows now


def test_colour_images_with_rgb_intensities_are_divided_per_channel_then_gray(tmp_path, card):
    """Each light has its own colour; dividing by it per channel before luminance cancels it exactly."""
    capture = synthetic.render(card.height, card.normals, card.mask, LIGHTS, albedo=card.albedo, shadows=False)
    rng = np.random.default_rng(0)
    colours = rng.uniform(0.5, 1.0, (len(LIGHTS), 3))
    tint = np.array([0.9, 0.7, 0.5])  # the card's own colour, the same under every light
    folder = tmp_path / "colour"
    folder.mkdir()
    names = []
    for i, image in enumerate(capture.images):
        rgb = image[:, :, None] * tint * colours[i] / colours.max()
        names.append(f"l{i}.png")
        cv2.imwrite(str(folder / names[-1]), np.round(rgb[:, :, ::-1] * 65535).astype(np.uint16))
    spec = {"images": names, "directions": LIGHTS.tolist(), "intensities": (colours / colours.max()).tolist()}
    (folder / "lights.json").write_text(json.dumps(spec))
    assert solved_error(folder, card) < 0.05


def test_images_read_in_parallel_are_the_images_read_one_by_one(tmp_path):
    """Gray and colour, 8- and 16-bit, with and without alpha, each with its own light colour: every plane
    of the stack is what reading that one file by itself and converting it gives."""
    rng = np.random.default_rng(4)
    folder = tmp_path / "mixed"
    folder.mkdir()
    kinds = [("gray16", np.uint16, None), ("bgr8", np.uint8, 3), ("bgra16", np.uint16, 4), ("gray8", np.uint8, None),
             ("bgr16", np.uint16, 3), ("gray16b", np.uint16, None)]
    names, expected = [], []
    colours = rng.uniform(0.5, 1.0, (len(kinds), 3))
    for (name, dtype, channels), colour in zip(kinds, colours):
        top = np.iinfo(dtype).max
        shape = (40, 30) if channels is None else (40, 30, channels)
        data = rng.integers(top // 8, top // 2, shape).astype(dtype)
        names.append(f"{name}.png")
        cv2.imwrite(str(folder / names[-1]), data)
        if channels is None:
            expected.append(data / top / (colour @ LUMA))
        else:
            expected.append((data[:, :, 2::-1] / top / colour) @ LUMA)  # BGR(A) on disk, RGB intensities
    write_lights(folder, names, LIGHTS.tolist(), intensities=colours.tolist())
    capture = load_capture(folder)
    assert capture.images.shape == (6, 40, 30) and capture.images.dtype == np.float32
    assert np.allclose(capture.images, np.array(expected), rtol=1e-5, atol=1e-7)
    paths = [folder / name for name in names]
    for decoded, path in zip(decode_all(paths), paths):  # in the order asked, whichever finished first
        assert np.array_equal(decoded, cv2.imread(str(path), cv2.IMREAD_UNCHANGED))


def test_of_several_unreadable_images_the_first_is_named(tmp_path):
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"{i}.png")
        cv2.imwrite(str(paths[-1]), np.full((8, 8), 100, np.uint8))
    for i in (2, 4, 5):
        paths[i].write_bytes(b"not a png")
    with pytest.raises(DataError, match="2.png cannot be read"):
        decode_all(paths)


def write_diligent_folder(folder, capture, colours):
    """A folder laid out like DiLiGenT's pmsData/<object>PNG."""
    folder.mkdir(parents=True)
    names = [f"{i + 1:03d}.png" for i in range(len(capture.images))]
    for name, image, colour in zip(names, capture.images, colours):
        rgb = np.clip(image[:, :, None] * colour, 0, 1)
        cv2.imwrite(str(folder / name), np.round(rgb[:, :, ::-1] * 65535).astype(np.uint16))
    (folder / "filenames.txt").write_text("\n".join(names) + "\n")
    np.savetxt(folder / "light_directions.txt", capture.directions, fmt="%.6f")
    np.savetxt(folder / "light_intensities.txt", colours, fmt="%.6f")
    cv2.imwrite(str(folder / "mask.png"), capture.mask.astype(np.uint8) * 255)
    np.savetxt(folder / "normal.txt", np.where(capture.mask[..., None], capture.normals, 0).reshape(-1, 3), fmt="%.6f")
    return folder


def test_a_diligent_object_folder_is_read_as_it_is_and_scored_against_its_normals(tmp_path):
    height, normals, mask = synthetic.sphere(48)
    capture = synthetic.render(height, normals, mask, synthetic.grid_lights(6, 4), albedo=0.6, shadows=False)
    colours = np.random.default_rng(1).uniform(0.6, 1.0, (len(capture.images), 3))
    folder = write_diligent_folder(tmp_path / "pmsData" / "ballPNG", capture, colours)
    write_diligent_folder(tmp_path / "pmsData" / "catPNG", capture, colours)
    assert [p.name for p in diligent.find_objects(tmp_path / "pmsData")] == ["ballPNG", "catPNG"]
    scores = diligent.evaluate(folder, ("l2", "robust"))
    assert scores["object"] == "ball" and scores["images"] == 24 and scores["pixels"] == int(mask.sum())
    # Only attached shadows at the limb separate the two: l2 leans on them, robust leaves them out.
    assert scores["robust"]["mean"] < 0.3 < scores["l2"]["mean"] < 5.0


def write_lights(folder, names, directions, **extra):
    (folder / "lights.json").write_text(json.dumps({"images": names, "directions": directions, **extra}))


def bad_capture(tmp_path, capture_dir, case):
    """Break a good capture in one way; returns the folder and the keyword arguments for load_capture."""
    spec = json.loads((capture_dir / "lights.json").read_text())
    names, dirs = spec["images"], spec["directions"]
    if case == "two images":
        write_lights(capture_dir, names[:2], dirs[:2])
    elif case == "size mismatch":
        cv2.imwrite(str(capture_dir / names[3]), np.full((10, 10), 30000, np.uint16))
    elif case == "no lights file":
        (capture_dir / "lights.json").unlink()
    elif case == "no directions":
        (capture_dir / "lights.json").write_text(json.dumps({"images": names}))
    elif case == "unnormalised":
        write_lights(capture_dir, names, [[2 * v for v in d] for d in dirs])
    elif case == "one plane":
        write_lights(capture_dir, names, synthetic.ring_lights(len(names), 0).tolist())
    elif case == "count mismatch":
        write_lights(capture_dir, names, dirs[:-1])
    elif case == "missing image":
        (capture_dir / names[2]).unlink()
    elif case == "saturated":
        cv2.imwrite(str(capture_dir / names[1]), np.full((64, 48), 65535, np.uint16))
    elif case == "black":
        cv2.imwrite(str(capture_dir / names[4]), np.zeros((64, 48), np.uint16))
    elif case == "not an image":
        (capture_dir / names[0]).write_bytes(b"not a png")
    elif case == "bad json":
        (capture_dir / "lights.json").write_text("{directions: oops")
    elif case == "bad intensities":
        write_lights(capture_dir, names, dirs, intensities=[1.0, -2.0, 1, 1, 1, 1])
    elif case == "mask size":
        cv2.imwrite(str(capture_dir / "mask.png"), np.full((5, 5), 255, np.uint8))
    elif case == "empty mask":
        cv2.imwrite(str(capture_dir / "mask.png"), np.zeros((64, 48), np.uint8))
    elif case == "no folder":
        return tmp_path / "nowhere"
    return capture_dir


BAD_INPUTS = [
    ("two images", "at least 3 images"),
    ("size mismatch", "same size"),
    ("no lights file", "no lights.json"),
    ("no directions", "no 'directions' list"),
    ("unnormalised", "unit vectors"),
    ("one plane", "one plane"),
    ("count mismatch", "6 images but 5 directions"),
    ("missing image", "is not in"),
    ("saturated", "is saturated"),
    ("black", "is black"),
    ("not an image", "cannot be read"),
    ("bad json", "not valid JSON"),
    ("bad intensities", "positive numbers"),
    ("mask size", "must be the same size"),
    ("empty mask", "mask .* is empty"),
    ("no folder", "does not exist"),
]


@pytest.mark.parametrize("case, message", BAD_INPUTS, ids=[c for c, _ in BAD_INPUTS])
def test_every_bad_input_gets_its_own_sentence(tmp_path, capture_dir, case, message):
    folder = bad_capture(tmp_path, capture_dir, case)
    with pytest.raises(DataError, match=message) as info:
        load_capture(folder)
    assert "\n" not in str(info.value)
