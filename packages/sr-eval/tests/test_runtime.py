"""The shared command-line runtime: one device resolver, one line and one exit status per fault."""

from __future__ import annotations

import argparse
import errno

import pytest
import torch

from sr_eval.runtime import (
    DeviceError,
    EnvironmentFault,
    Interrupted,
    RunFailed,
    add_version_argument,
    resolve_device,
    run_cli,
)


def test_devices_resolve_or_fail_in_one_line_before_any_work():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(None) == resolve_device("auto")
    assert resolve_device(" CPU ") == torch.device("cpu")
    for bad in ("gpu", "cuda:x", "cpu:0", "auto:1", "", "cuda:-1"):
        with pytest.raises(DeviceError, match="unknown device"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        for absent in ("cuda", "cuda:0", "cuda:3"):
            with pytest.raises(
                DeviceError, match=f"device '{absent}' is not available: this machine has no CUDA"
            ):
                resolve_device(absent)
    else:
        with pytest.raises(DeviceError, match="does not exist"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")


def _raising(err: BaseException):
    def work():
        raise err

    return work


@pytest.mark.parametrize(
    ("err", "status", "line"),
    [
        (ValueError("lr must be > 0, got -1 in a.yaml"), 2, "prog: error: lr must be > 0, got -1 in a.yaml"),
        (KeyError("unknown model 'x'"), 2, "prog: error: unknown model 'x'"),
        (FileNotFoundError("checkpoint not found: a.pt"), 2, "prog: error: checkpoint not found: a.pt"),
        (DeviceError("device 'cuda' is not available"), 2, "prog: error: device 'cuda' is not available"),
        (ImportError("--onnx needs onnxruntime"), 2, "prog: error: --onnx needs onnxruntime"),
        (RunFailed("every candidate failed"), 3, "prog: failed: every candidate failed"),
        (EnvironmentFault("CUDA out of memory"), 3, "prog: failed: CUDA out of memory"),
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "out/x"),
            1,
            "prog: error: out/x: Not a directory",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/ro/run"),
            1,
            "prog: error: /ro/run: Permission denied",
        ),
        (
            OSError(errno.ENOSPC, "No space", "run/last.pt"),
            1,
            "prog: error: run/last.pt: no space left on the device",
        ),
        (
            Interrupted("step 7 of 10"),
            130,
            "prog: interrupted at step 7 of 10; rerun the same command to resume",
        ),
        (KeyboardInterrupt(), 130, "prog: interrupted; rerun the same command to resume"),
    ],
)
def test_each_fault_is_one_line_and_its_exit_status(capsys, err, status, line):
    assert run_cli("prog", _raising(err)) == status
    captured = capsys.readouterr()
    assert captured.err == line + "\n" and captured.out == ""


def test_a_multi_line_message_is_cut_to_its_first_line_and_a_bug_keeps_its_traceback(capsys):
    assert run_cli("prog", _raising(ValueError("first\nsecond\nthird"))) == 2
    assert capsys.readouterr().err == "prog: error: first\n"
    with pytest.raises(TypeError):
        run_cli("prog", _raising(TypeError("a bug")))
    assert run_cli("prog", lambda: None) == 0 and run_cli("prog", lambda: 5) == 5


def test_version_flag(capsys):
    parser = argparse.ArgumentParser(prog="tool")
    add_version_argument(parser, "1.2.3")
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == "tool 1.2.3\n"
