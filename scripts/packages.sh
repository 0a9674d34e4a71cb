# The workspace's projects in dependency order (DESIGN.md), as paths: sourced by the other scripts.
PROJECTS=(packages/sr-reparam packages/sr-blocks packages/sr-data packages/sr-eval packages/sr-train
  packages/sr-search-evo packages/sr-search-quantnas apps/zoo apps/esr_ea apps/quantnas apps/sesr)
# Extras installed for development and tests, per project (default: "test").
declare -A EXTRAS=([packages/sr-reparam]="test,onnx" [packages/sr-data]="test,samples"
  [packages/sr-search-evo]="test,ray" [packages/sr-search-quantnas]="test,onnx" [apps/zoo]="test,onnx,quant"
  [apps/esr_ea]="test,onnx,ray" [apps/sesr]="test,onnx")
# A one-line use of each wheel, run by check-wheels.sh in a venv holding only that wheel and its
# declared dependencies (default: import it).
declare -A SMOKE=(
  [packages/sr-blocks]="import torch; from sr_blocks import create_model; print(create_model('imdn', scale=2)(torch.rand(1, 3, 9, 7)).shape)"
  [packages/sr-reparam]="import torch; from sr_reparam import deploy; print(deploy(torch.nn.Conv2d(3, 3, 3)))"
  [packages/sr-data]="import numpy as np; from sr_data import imresize; print(imresize(np.random.rand(9, 7, 3), scale=0.5).shape)"
  [packages/sr-search-evo]="import random; from sr_search_evo import ESRSpace; s = ESRSpace(node_num=4, min_active=1); print(s.decode(s.sample(random.Random(0))))"
  [packages/sr-search-quantnas]="import torch; from sr_search_quantnas.quant import ptq; q = ptq(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1)), torch.rand(2, 3, 8, 8)); print(q(torch.rand(1, 3, 8, 8)).shape)"
  [packages/sr-eval]="import torch; from sr_eval import psnr; print(float(psnr(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), 2)))"
)
