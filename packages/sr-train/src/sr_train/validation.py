"""Validation during training: mean PSNR (and SSIM) on the Y channel with crop border = scale.

sr_eval's metrics round the clamped output to the 8-bit grid first, as when SR results are saved as
PNG and scored (the BasicSR / MATLAB protocol).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from sr_eval import psnr, rgb_to_y, ssim
from sr_train.data import PatchTensors, split_pair


@torch.no_grad()
def validate(
    model: nn.Module,
    data: Dataset,
    scale: int,
    device: torch.device,
    with_ssim: bool = True,
    batch_size: int = 16,
    channels_last: bool = False,
) -> dict[str, float]:
    """{"psnr": mean dB, "ssim": mean SSIM (when asked)} of `model` over `data`.

    `PatchTensors` are scored in batches; other datasets (full images of any size) one at a time.
    """
    was_training = model.training
    model.eval()
    psnrs: list[torch.Tensor] = []
    ssims: list[torch.Tensor] = []
    memory = torch.channels_last if channels_last else torch.contiguous_format
    for lr, hr in _batches(data, batch_size):
        lr = lr.to(device, memory_format=memory)
        hr = hr.to(device)
        sr = model(lr).float().clamp(0.0, 1.0)
        psnrs.append(torch.as_tensor(psnr(sr, hr, crop_border=scale, test_y_channel=True)).reshape(-1))
        if with_ssim:
            ssims.append(torch.as_tensor(ssim(sr, hr, crop_border=scale, test_y_channel=True)).reshape(-1))
    model.train(was_training)
    if not psnrs:
        raise ValueError("validation data is empty")
    result = {"psnr": torch.cat(psnrs).double().mean().item()}
    if with_ssim:
        result["ssim"] = torch.cat(ssims).double().mean().item()
    return result


@torch.no_grad()
def preview(
    model: nn.Module, data: Dataset, scale: int, device: torch.device, size: int = 48
) -> torch.Tensor:
    """The first validation item as an image to look at: its LR upscaled bicubically, the model's SR
    and the HR side by side, (channels, height, 3 * width) in [0, 1] on the CPU. A centred crop of at
    most `size` x `size` LR pixels is upscaled, so a full-size validation image costs little. A Y-only
    model's HR is shown as its Y channel."""
    lr, hr = next(_batches(data, 1))
    top, left = max(lr.shape[-2] - size, 0) // 2, max(lr.shape[-1] - size, 0) // 2
    lr = lr[..., top : top + size, left : left + size].float()
    hr = hr[..., top * scale : (top + size) * scale, left * scale : (left + size) * scale].float()
    was_training = model.training
    model.eval()
    sr = model(lr.to(device)).float().cpu()
    model.train(was_training)
    bicubic = F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False)
    if sr.shape[1] == 1 < hr.shape[1]:  # a Y-only model validated against RGB (sr_train.LumaView)
        hr = rgb_to_y(hr)
    return torch.cat([bicubic, sr, hr], dim=-1)[0].clamp(0.0, 1.0)


def _batches(data: Dataset, batch_size: int):
    if isinstance(data, PatchTensors):
        for start in range(0, len(data), batch_size):
            yield data.lr[start : start + batch_size], data.hr[start : start + batch_size]
        return
    for index in range(len(data)):
        lr, hr = split_pair(data[index])
        yield lr.unsqueeze(0), hr.unsqueeze(0)
