"""The `sesr` command's faults, through the real command as a subprocess: one line on stderr, no
traceback, the exit status of sr_eval.runtime, and no folder left by a refused command."""

import torch

from sr_deploy.testing import one_line_error
from sr_sesr import __version__

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
