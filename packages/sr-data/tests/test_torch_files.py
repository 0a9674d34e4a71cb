"""load_weights_only: what a refused file holds, in one line, without torch's warnings or its advice
to load the file unsafely."""

import pickle
import warnings

import pytest
import torch

from sr_data import is_torch_file, load_weights_only


class Payload:
    """A custom class: a file holding an instance holds code a weights-only load must refuse."""


def bad_files(folder):
    """{kind: (path, words the refusal must hold)} for the kinds of file a user may be handed."""
    files = {
        "plain pickle": ("a plain Python pickle, not a torch.save file",),
        "objects (zip)": ("holds Python objects besides tensors", "Payload"),
        "objects (legacy)": ("holds Python objects besides tensors", "Payload"),
        "truncated": ("not a readable checkpoint (truncated or damaged torch.save file)",),
        "text": ("not a readable checkpoint (not a torch.save file)",),
    }
    paths = {kind: folder / f"{kind.split()[0]}_{index}.pth" for index, kind in enumerate(files)}
    paths["plain pickle"].write_bytes(pickle.dumps({"state_dict": {"w": [0.0]}}))
    torch.save({"extra": Payload()}, paths["objects (zip)"])
    torch.save({"extra": Payload()}, paths["objects (legacy)"], _use_new_zipfile_serialization=False)
    torch.save({"w": torch.zeros(1000)}, folder / "whole.pt")
    paths["truncated"].write_bytes((folder / "whole.pt").read_bytes()[:600])
    paths["text"].write_text("weights\n")
    return {kind: (paths[kind], words) for kind, words in files.items()}


def test_each_kind_of_bad_file_is_one_line_saying_what_it_holds(tmp_path):
    for kind, (path, words) in bad_files(tmp_path).items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch's UserWarning about a pickle's protocol would raise
            with pytest.raises(ValueError) as refused:
                load_weights_only(path)
        message = str(refused.value)
        assert message.startswith(f"{path}: ") and "\n" not in message, kind
        assert all(word in message for word in words), (kind, message)
        assert "weights_only=False" not in message and "weights_only` set to `False" not in message


def test_torch_files_are_told_from_other_files(tmp_path):
    files = bad_files(tmp_path)
    assert is_torch_file(files["objects (zip)"][0]) and is_torch_file(files["objects (legacy)"][0])
    assert not is_torch_file(files["plain pickle"][0]) and not is_torch_file(files["text"][0])
    assert load_weights_only(tmp_path / "whole.pt")["w"].shape == (1000,)
