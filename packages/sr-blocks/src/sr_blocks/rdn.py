"""(placeholder until written)"""
