import pytest

from sr_blocks import list_models
from sr_train import ConfigError
from sr_zoo.datasets import build_run_data
from sr_zoo.recipe import DataSection, load_recipe, shipped_recipes

CLASSIC = {"edsr_baseline", "imdn", "rfdn", "ecbsr_m4c16", "sesr_m5", "fsrcnn", "espcn"}


def test_classic_recipes_are_shipped_and_valid():
    names = set(shipped_recipes())
    assert CLASSIC | {"demo_samples", "sunhays80_x2"} <= names
    for name in names:
        recipe = load_recipe(name)
        assert recipe.model.name is None or recipe.model.name in list_models(), name
        recipe.train_config(scale=2)  # every train key and type checked


def test_shared_recipe_names_no_model():
    """The GPU comparison uses one recipe for every model: the model comes from --model."""
    recipe = load_recipe("sunhays80_x2")
    assert recipe.model.name is None and recipe.data.val == "holdout:5"


@pytest.mark.parametrize(
    "text, match",
    [
        ("model: {name: espcn}\ndata: {patch_sise: 64}\n", r"'data\.patch_sise'.*bad\.yaml"),
        ("model: {name: espcn}\ntrain: {steps: 5, lr: fast}\n", r"lr.*'fast'.*bad\.yaml"),
        ("model: {name: espcn}\ntrain: {steps: 5, warmup: 3}\n", r"'warmup'.*bad\.yaml"),
        ("modle: {name: espcn}\n", r"'modle'.*bad\.yaml"),
        ("model: {name: espcn}\ndata: {patch_size: big}\n", r"patch_size.*'big'.*bad\.yaml"),
    ],
)
def test_bad_recipes_name_key_value_and_file(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_recipe(str(path))


def test_missing_recipe_lists_shipped_ones():
    with pytest.raises(FileNotFoundError, match="imdn"):
        load_recipe("no_such_recipe")


@pytest.mark.parametrize("val", ["holdout:x", "holdout:0", "holdout:99"])
def test_bad_holdout_names_the_key_and_value(val):
    pytest.importorskip("skimage", reason="the bundled sample images need scikit-image")
    with pytest.raises(ValueError, match=rf"data\.val '{val}'.*whole number"):
        build_run_data("samples", 2, DataSection(val=val, test=["samples"]))
