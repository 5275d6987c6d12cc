"""Numba kernels. Nothing in this package parses, prints or builds Python objects
in a loop; see DESIGN.md §1 and STYLE.md §2."""
