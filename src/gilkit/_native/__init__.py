"""The compiled kernels (built by setup.py from ext/*.pyx); gilkit._python holds their twins."""
