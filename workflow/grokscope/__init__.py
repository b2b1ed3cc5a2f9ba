"""grokscope: reproducible grokking experiments on finite groups."""

__version__ = "0.1.0"
