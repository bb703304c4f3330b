"""Sphinx configuration for odl_bilevel."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import odl_bilevel

project = "odl_bilevel"
author = "the odl_bilevel developers"
copyright = "2026, the odl_bilevel developers"
release = odl_bilevel.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|configs)",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
}

intersphinx_mapping = {}

templates_path = []
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "alabaster"
html_static_path = []
html_title = "odl_bilevel"
suppress_warnings = ["config.cache"]


# -- API pages generated from each subpackage's ``__all__`` (never out of date)
def _write_api_pages():
    import importlib

    here = os.path.dirname(os.path.abspath(__file__))
    subpackages = {
        "operators": "Operators",
        "functionals": "Functionals",
        "solvers": "Lower-level solvers",
        "hypergradients": "Hypergradients",
        "bilevel": "Bilevel problems",
        "upper": "Upper-level optimisers",
        "problems": "Application problems",
        "datasets": "Datasets",
        "metrics": "Metrics",
        "plotting": "Plotting",
        "testing": "Checkers",
    }
    for name, title in subpackages.items():
        module = importlib.import_module(f"odl_bilevel.{name}")
        lines = [
            f"{title}",
            "=" * len(title),
            "",
            f".. automodule:: odl_bilevel.{name}",
            "",
            f".. currentmodule:: odl_bilevel.{name}",
            "",
            ".. autosummary::",
            "   :toctree: generated",
            "",
        ]
        lines += [f"   {obj}" for obj in sorted(module.__all__)]
        path = os.path.join(here, "api", f"{name}.rst")
        text = "\n".join(lines) + "\n"
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as fh:
                fh.write(text)


_write_api_pages()
