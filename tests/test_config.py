from pathlib import Path

import pytest

from ganlab.config import Config, diff, from_dict, load_config, to_dict, to_yaml
from ganlab.errors import GanlabError
from ganlab.syntax import parse_floats, parse_ints, parse_list


def test_defaults_yaml_and_overrides(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  z_dim: 3\ntrain:\n  lr_g: 0.001\n")
    cfg = load_config(path, ["train.lr_g=1e-4", "train.betas_d=[0.0,0.9]", "data.augment.hflip=true"])
    assert cfg.model.z_dim == 3
    assert cfg.train.lr_g == pytest.approx(1e-4)  # override beats file
    assert cfg.train.betas_d == [0.0, 0.9]
    assert cfg.data.augment.hflip is True
    assert cfg.train.lr_d == Config().train.lr_d  # untouched default


def test_roundtrip_through_yaml_and_dict(tmp_path: Path):
    cfg = load_config(None, ["model.z_dim=7", "seed=3"])
    path = tmp_path / "saved.yaml"
    path.write_text(to_yaml(cfg))
    assert load_config(path) == cfg
    assert from_dict(to_dict(cfg)) == cfg
    assert diff(cfg, Config()) == ["model.z_dim: 7 -> 100", "seed: 3 -> 0"]


@pytest.mark.parametrize("overrides, message", [
    (["train.lrg=1"], "did you mean train.lr_g"),
    (["nonsense=1"], "known keys: seed"),
    (["train.batch_size=abc"], "train.batch_size"),
    (["model.family=vae"], "model.family='vae' is not one of"),
    (["train.loss=wgan"], "train.loss"),
    (["model.z_dim=0", "model.conditioning=none"], "needs a label"),
    (["train.batch_size=0"], "train.batch_size must be >= 1"),
    (["train.betas_g=[0.5]"], "two numbers"),
    (["train.lr_g"], "is not key=value"),
    (["model.family=mlp", "model.kernel_size=3"], "model.kernel_size=3 is a dcgan option; set model.family=dcgan"),
    (["model.family=mlp", "model.d_cond=projection"], "is a resnet and dcgan option; set model.family=resnet"),
    (["model.g_activation=tanh"], "model.g_activation='tanh' is not one of relu, leakyrelu"),
    (["model.kernel_size=1"], "model.kernel_size must be >= 2"),
    (["model.family=resnet", "model.extra_layers=1"], "model.extra_layers=1 is a dcgan option"),
    (["model.extra_layers=-1"], "model.extra_layers must be >= 0"),
])
def test_bad_input_is_one_clear_line(overrides, message):
    with pytest.raises(GanlabError, match=message) as info:
        load_config(None, overrides)
    assert "\n" not in str(info.value)


def test_list_keys_read_the_one_list_syntax():
    cfg = load_config(None, ["data.classes=cat,dog", "train.betas_g=0.0,0.9", "data.augment.hflip=true"])
    assert cfg.data.classes == ["cat", "dog"] and cfg.train.betas_g == [0.0, 0.9]
    assert load_config(None, ["data.classes=[0, 1]"]).data.classes == ["0", "1"]
    assert load_config(None, ["data.classes=1:4"]).data.classes == ["1", "2", "3"]  # a range, not YAML's 1:4 = 64
    assert load_config(None, ["data.classes=[7]", "data.classes="]).data.classes == []


def test_bad_config_files(tmp_path: Path):
    with pytest.raises(GanlabError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(GanlabError, match="cannot read config"):
        load_config(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("model:\n  zdim: 3\n")
    with pytest.raises(GanlabError, match="did you mean model.z_dim"):
        load_config(unknown)


def test_every_shipped_config_loads():
    configs = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
    run_configs = [p for p in configs if not p.name.startswith("sweep_")]
    assert run_configs, "configs/ should hold the studies' configs"
    for path in run_configs:
        load_config(path)


def test_choices_of_registered_options_are_the_registries_keys():
    """ganlab.choices lists each registry's names below the config; a registry whose names drift is refused."""
    from ganlab.choices import CHOICES, UNREGISTERED, registry
    from ganlab.losses import LOSSES
    from ganlab.metrics.evaluate import METRICS
    from ganlab.models import FAMILIES
    from ganlab.models.init import INITS

    registries = {"model.family": FAMILIES, "model.init": INITS, "train.loss": LOSSES, "eval.metrics": METRICS}
    for key, table in registries.items():
        assert tuple(table) + UNREGISTERED.get(key, ()) == tuple(sorted(CHOICES[key], key=(
            list(table) + list(UNREGISTERED.get(key, ()))).index)), key
    with pytest.raises(RuntimeError, match="the train.loss registry holds bce, hinge but ganlab/choices.py lists"):
        registry("train.loss", {"bce": None, "hinge": None})
    with pytest.raises(GanlabError, match="train.loss='hinje' is not one of " + ", ".join(LOSSES)):
        load_config(None, ["train.loss=hinje"])


def test_one_syntax_for_lists_and_ranges(capsys):
    assert parse_list("0:4,7") == [0, 1, 2, 3, 7]  # a:b excludes b, as Python's range; items mix
    assert parse_list("0:129:32") == [0, 32, 64, 96, 128]
    assert parse_list("1e-4,3e-4") == [1e-4, 3e-4] and parse_list("bce,hinge") == ["bce", "hinge"]
    assert parse_list("[[0.5, 0.9], [0.0, 0.9]]") == [[0.5, 0.9], [0.0, 0.9]]
    assert parse_list("folder:x.zip") == ["folder:x.zip"] and parse_floats("-2,0,2.5", "--slices") == [-2, 0, 2.5]
    assert capsys.readouterr().err == ""
    assert parse_ints("0-3,9", "--seeds") == [0, 1, 2, 3, 9]  # the old inclusive form, still read, with a note
    assert capsys.readouterr().err == "ganlab: --seeds 0-3: read as 0:4 (ranges are written a:b, b excluded, as " \
                                      "everywhere in ganlab)\n"
    for text, message in (("5:5", "range '5:5' is empty"), ("0:4:0", "step 0"), ("a,b", "not a list of integers"),
                          ("-1,2", "values below 0")):
        with pytest.raises(GanlabError, match=message):
            parse_ints(text, "--seeds", 0)
