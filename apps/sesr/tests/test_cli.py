"""The `sesr` command's faults, through the real command as a subprocess: one line on stderr, no
traceback, the exit status of sr_eval.runtime, and no folder left by a refused command."""

import pytest
import torch

from sr_deploy.testing import one_line_error
from sr_sesr import __version__
from sr_sesr.cli import main

SMALL = ["--m", "2", "--int_features", "8", "--feature_size", "16"]


def test_version(sesr_cli, tmp_path):
    done = sesr_cli(["--version"], tmp_path / "out")
    assert done.returncode == 0 and done.stdout.strip() == f"sesr {__version__}"


def test_an_unavailable_device_is_refused_before_any_work(sesr_cli, tmp_path):
    device = f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"
    done = sesr_cli(SMALL + ["--device", device], tmp_path / "out")
    one_line_error(done, 2, f"sesr: error: device '{device}'")
    assert not (tmp_path / "out").exists()


def test_out_being_a_file_is_an_os_error_naming_it(sesr_cli, tmp_path):
    out = tmp_path / "results"
    out.write_text("not a folder\n")
    done = sesr_cli(SMALL, out)
    one_line_error(done, 1, str(out))
    assert out.read_text() == "not a folder\n"


def test_a_refused_command_leaves_no_folder(sesr_cli, sesr, tmp_path, capsys):
    done = sesr_cli(SMALL, tmp_path / "out", test_sets="NoSuchSet")
    one_line_error(done, 2, "test set 'NoSuchSet'")
    assert sesr(SMALL + ["--val", "holdout:99"], tmp_path / "out") == 2  # (the x4 case: test_transfer.py)
    assert "--val 'holdout:99'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert sesr(SMALL, tmp_path / "out") == 0  # the corrected command runs


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--batch_size", "100000", "--patch_size", "32"], ["--batch_size 100000", "320 training patches"]),
        (["--steps_per_epoch", "2", "--patch_size", "33"], ["--patch_size 33", "not a multiple of scale 2"]),
        (["--steps_per_epoch", "2", "--patch_size", "66"], ["--patch_size 66", "smaller than the 66x66"]),
    ],
)
def test_data_checks_come_before_the_settings_are_recorded(tiny_data, tmp_path, capsys, flags, fragments):
    """A batch larger than an epoch's patches, a patch side the scale cannot divide, images smaller
    than the patch: exit 2 naming the flag, and no folder (so the corrected command is not refused)."""
    data = ["--data", tiny_data["train"], "--test_sets", tiny_data["test"], "--out", str(tmp_path / "out")]
    assert main([*SMALL, *data, "--epochs", "1", "--quiet", *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and all(f in error for f in fragments), error
    assert not (tmp_path / "out").exists()
