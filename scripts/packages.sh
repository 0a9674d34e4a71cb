# The workspace's projects in dependency order (docs/architecture.md), as paths: sourced by the other scripts.
PROJECTS=(packages/sr-reparam packages/sr-data packages/sr-blocks packages/sr-eval packages/sr-train
  packages/sr-deploy packages/sr-search-evo packages/sr-search-quantnas apps/zoo apps/esr_ea apps/quantnas apps/sesr)
# Extras installed for development and tests, per project (default: "test").
declare -A EXTRAS=([packages/sr-reparam]="test,onnx" [packages/sr-data]="test,samples" [packages/sr-train]="test,tensorboard" [packages/sr-deploy]="test,quant,onnx"
  [packages/sr-search-evo]="test,ray" [packages/sr-search-quantnas]="test,onnx" [apps/zoo]="test,onnx,quant"
  [apps/esr_ea]="test,onnx,ray" [apps/sesr]="test,onnx")
# Extras a wheel is installed with for its smoke line (default: none).
declare -A SMOKE_EXTRAS=([packages/sr-deploy]="quant")
# A one-line use of each wheel, run by check-wheels.sh in a venv holding only that wheel (with its
# SMOKE_EXTRAS) and its declared dependencies (default: import it).
declare -A SMOKE=(
  [packages/sr-blocks]="import torch; from sr_blocks import create_model; print(create_model('imdn', scale=2)(torch.rand(1, 3, 9, 7)).shape)"
  [packages/sr-reparam]="import torch; from sr_reparam import deploy; print(deploy(torch.nn.Conv2d(3, 3, 3)))"
  [packages/sr-data]="import numpy as np; from sr_data import imresize; print(imresize(np.random.rand(9, 7, 3), scale=0.5).shape)"
  [packages/sr-search-evo]="import random; from sr_search_evo import ESRSpace; s = ESRSpace(node_num=4, min_active=1); print(s.decode(s.sample(random.Random(0))))"
  [packages/sr-search-quantnas]="import torch; from sr_search_quantnas import QuantReLUConv; from sr_search_quantnas.ops import ConvSpec; print(QuantReLUConv(ConvSpec(3, 6, (3, 3)), 4)(torch.rand(1, 3, 8, 8)).shape)"
  [packages/sr-deploy]="import tempfile, pathlib, numpy as np, torch; from sr_blocks import create_model; from sr_data import write_image; from sr_reparam import deploy; from sr_deploy import TorchEngine, plan_jobs, upscale_files; from sr_deploy.quant import ptq; d = pathlib.Path(tempfile.mkdtemp()); write_image(d / 'in.png', np.random.rand(20, 24, 3)); q = ptq(deploy(create_model('espcn', scale=2)).eval(), torch.rand(4, 3, 16, 16), keep_float=()); r = upscale_files(plan_jobs([d / 'in.png'], d / 'out'), TorchEngine(q, 2, 'espcn_w8a8'), progress=False); print(r.summary()); assert [p.name for p in r.written] == ['in.png']"
  [packages/sr-eval]="import torch; from sr_eval import psnr; print(float(psnr(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), 2)))"
)
