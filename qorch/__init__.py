"""qorch: hybrid quantum-classical classifier jobs on a Ray cluster; `Client` is the Python API."""
