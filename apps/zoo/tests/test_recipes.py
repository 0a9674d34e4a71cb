import pytest

from sr_blocks import list_models
from sr_train import ConfigError
from sr_zoo.cli import main
from sr_zoo.recipe import load_recipe, shipped_recipes

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


def test_real_recipes_name_their_test_sets_and_the_demo_takes_them_where_found():
    """A long run's table is on the sets it names (a missing one stops it before training); the demo
    runs on any machine (see the README's "Test sets")."""
    for name in CLASSIC | {"sunhays80_x2"}:
        assert load_recipe(name).data.test == ["Set5", "Set14", "BSD68"], name
    assert load_recipe("demo_samples").data.test == ["samples", "Set5?", "Set14?", "BSD68?"]


@pytest.mark.parametrize("val", ["holdout:x", "holdout:0", "holdout:99"])
def test_bad_holdout_names_the_key_value_and_file_and_leaves_no_folder(tmp_path, capsys, val):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(
        f"model: {{name: espcn}}\ndata: {{val: '{val}', test: [samples]}}\ntrain: {{steps: 1}}\n"
    )
    assert main(["train", "--config", str(recipe), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"data.val in {recipe}" in err and repr(val) in err and "whole number" in err
    assert not (tmp_path / "run").exists()
