"""Noisy emulation in torch: batched Pauli-transfer density-matrix engine and readout mitigation."""
