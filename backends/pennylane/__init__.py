"""PennyLane devices (`pennylane:<device>`): compile, noise channels, device probing, adapter."""
