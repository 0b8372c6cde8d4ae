"""Golden outputs for nnlab's geometric augmentation (tests/test_augment.cpp, AugmentGolden).

Each case resamples one small image with an explicit affine transform built exactly as Keras's
ImageDataGenerator builds it (rotation @ shift @ shear @ zoom about the centre, mapping output
pixels to input pixels) and scipy.ndimage.affine_transform with order=1, which is what Keras calls.
When Keras is importable the square cases are also checked against Keras's own
apply_affine_transform (keras.src.legacy.preprocessing.image), so the matrix is Keras's, not a copy.

nnlab's axes: x = column, y = row; tx shifts along x, ty along y (both in pixels); the matrix acts
on (x, y), so it is permuted to scipy's (row, col) order, as Keras does. nnlab's "wrap" is scipy's
"grid-wrap" (periodic); the other modes keep their scipy names.

Run from the repository root:  .venv/bin/python tests/golden/make_augment_golden.py
(needs numpy and scipy; writes tests/data/augment_golden.json).
"""
import json
import os

import numpy as np
from scipy import ndimage


def keras_matrix(theta, tx, ty, shear, zx, zy, h, w):
    """3x3 output->input map on (x, y) coordinates, centre ((w-1)/2, (h-1)/2)."""
    t = np.deg2rad(theta)
    s = np.deg2rad(shear)
    rotation = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    shear_m = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    m = rotation @ shift @ shear_m @ zoom
    cx, cy = (w - 1) / 2, (h - 1) / 2
    to_c = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]])
    from_c = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    return to_c @ m @ from_c


def resample(img, p, mode, cval):
    h, w = img.shape
    m = keras_matrix(p["theta"], p["tx"], p["ty"], p["shear"], p["zx"], p["zy"], h, w)
    # (x, y) -> (row, col): swap rows and columns of the matrix, as Keras does.
    m[:, [0, 1]] = m[:, [1, 0]]
    m[[0, 1]] = m[[1, 0]]
    scipy_mode = {"wrap": "grid-wrap"}.get(mode, mode)
    return ndimage.affine_transform(img, m[:2, :2], m[:2, 2], order=1, mode=scipy_mode, cval=cval)


def keras_check(img, p, mode, cval, out):
    try:
        os.environ.setdefault("KERAS_BACKEND", "numpy")
        from keras.src.legacy.preprocessing.image import apply_affine_transform
    except Exception as e:  # Keras absent: the scipy reference stands alone
        return f"keras not checked ({type(e).__name__})"
    if mode == "wrap" or img.shape[0] != img.shape[1]:
        return "keras not comparable (grid-wrap / non-square centre)"
    k = apply_affine_transform(img[:, :, None].astype(np.float64), p["theta"], p["tx"], p["ty"], p["shear"],
                               p["zx"], p["zy"], row_axis=0, col_axis=1, channel_axis=2, fill_mode=mode,
                               cval=cval, order=1)[:, :, 0]
    diff = float(np.max(np.abs(k - out)))
    assert diff < 1e-9, f"keras differs by {diff} for {p} {mode}"
    return "keras agrees"


def main():
    rng = np.random.default_rng(2024)
    square = np.round(rng.uniform(0, 1, (12, 12)), 3)
    square[2:5, 3:9] = 1.0  # an asymmetric bright bar
    wide = np.round(rng.uniform(0, 1, (9, 14)), 3)
    combined = dict(theta=17.0, tx=1.7, ty=-2.3, shear=8.0, zx=0.9, zy=1.15)
    cases = []
    for mode, cval in [("nearest", 0.0), ("constant", 0.25), ("reflect", 0.0), ("wrap", 0.0)]:
        cases.append(("square", combined, mode, cval))
    cases.append(("square", dict(theta=-33.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0), "nearest", 0.0))
    cases.append(("square", dict(theta=0.0, tx=3.0, ty=-1.5, shear=0.0, zx=0.5, zy=0.5), "reflect", 0.0))
    cases.append(("square", dict(theta=41.0, tx=-4.2, ty=5.1, shear=-12.0, zx=1.3, zy=0.7), "constant", 0.0))
    cases.append(("wide", combined, "nearest", 0.0))
    images = {"square": square, "wide": wide}
    out_cases = []
    for name, p, mode, cval in cases:
        out = resample(images[name], p, mode, cval)
        note = keras_check(images[name], p, mode, cval, out)
        print(name, mode, p, note)
        out_cases.append(dict(image=name, params=p, fill_mode=mode, cval=cval,
                              output=[round(float(v), 7) for v in out.ravel()]))
    doc = dict(
        note="made by tests/golden/make_augment_golden.py: Keras's affine matrix + scipy.ndimage.affine_transform(order=1)",
        images={k: dict(height=v.shape[0], width=v.shape[1], values=[float(x) for x in v.ravel()])
                for k, v in images.items()},
        cases=out_cases)
    path = os.path.join(os.path.dirname(__file__), "..", "data", "augment_golden.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
