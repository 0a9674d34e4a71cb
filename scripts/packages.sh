# The workspace's packages in dependency order (DESIGN.md): sourced by the other scripts.
PACKAGES=(sr-reparam sr-blocks sr-data sr-eval)
# Extras installed for development and tests, per package (empty: only "test").
declare -A EXTRAS=([sr-reparam]="test,onnx" [sr-data]="test,samples")
