"""Circuits and where they run: templates, the torch simulator and the vendor compilers."""
