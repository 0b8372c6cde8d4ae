"""Bad input raises ValueError / TypeError with a message naming what is wrong."""
import numpy as np
import pytest

import nnlab
from conftest import small_classifier


def test_wrong_feature_count(blobs):
    x, y = blobs
    model = small_classifier()
    with pytest.raises(ValueError, match=r"samples of shape \(3\) but the model's input is \(4\)"):
        model.fit(x[:, :3], y, verbose=0)
    with pytest.raises(ValueError, match=r"samples of shape \(3\) but the model's input is \(4\)"):
        model.predict(x[:, :3])


def test_label_out_of_range(blobs):
    x, y = blobs
    y = y.copy()
    y[7] = 3
    with pytest.raises(ValueError, match="class index 3 of sample 7 is out of range.*3 outputs"):
        small_classifier().fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="not a whole number"):
        small_classifier().fit(x, y * 0.5, verbose=0)


def test_wrong_dtypes_are_type_errors(blobs):
    x, y = blobs
    with pytest.raises(TypeError, match="dtype"):
        small_classifier().fit(x.astype(str), y, verbose=0)
    with pytest.raises(TypeError, match="numpy array"):
        small_classifier().predict("not an array")


def test_not_finite_inputs(blobs):
    x, y = blobs
    x = x.copy()
    x[5, 2] = np.nan
    with pytest.raises(ValueError, match="not finite.*sample 5"):
        small_classifier().fit(x, y, verbose=0)


def test_mismatched_lengths(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match=r"one row per sample \(300\)"):
        small_classifier().fit(x, y[:10], verbose=0)


def test_one_hot_width_must_match_the_outputs(blobs):
    x, y = blobs
    with pytest.raises(ValueError, match="targets of width 4 but the model has 3 outputs"):
        small_classifier(loss="categorical_crossentropy").fit(x, np.eye(4, dtype=np.float32)[y], verbose=0)


def test_bad_settings_name_the_value():
    with pytest.raises(ValueError, match="activation 'relux': unknown activation"):
        nnlab.Sequential([nnlab.layers.Input((4,)), nnlab.layers.Dense(3, activation="relux")]).build((4,))
    with pytest.raises(ValueError, match="rate must be in \\[0, 1\\)"):
        nnlab.Sequential([nnlab.layers.Input((4,)), nnlab.layers.Dropout(1.5)]).build((4,))
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        small_classifier(optimizer="adamm")
    with pytest.raises(ValueError, match="unknown loss 'mse2'"):
        small_classifier(loss="mse2")
    with pytest.raises(ValueError, match="learning_rate"):
        small_classifier(optimizer=nnlab.optimizers.Adam(learning_rate=-1.0))
    with pytest.raises(ValueError, match="unsupported metric"):
        small_classifier(metrics=["auc"])


def test_fit_before_compile():
    with pytest.raises(ValueError, match="compile the model first"):
        small_classifier(compiled=False).fit(np.zeros((2, 4), np.float32), np.zeros(2), verbose=0)


def test_load_model_of_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="missing.safetensors"):
        nnlab.load_model(tmp_path / "missing.safetensors")
