# The workspace's projects in dependency order (DESIGN.md), as paths: sourced by the other scripts.
PROJECTS=(packages/sr-reparam packages/sr-blocks packages/sr-data packages/sr-eval packages/sr-train apps/zoo)
# Extras installed for development and tests, per project (default: "test").
declare -A EXTRAS=([packages/sr-reparam]="test,onnx" [packages/sr-data]="test,samples")
