"""Provider credentials as handed in by the orchestrator's settings (this layer reads no env)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    """What the IBM and AWS adapters need to connect; secrets never leave this object."""

    ibm_token: str | None = field(default=None, repr=False)
    ibm_instance: str | None = None
    ibm_channel: str | None = None
    ibm_saved_account: bool = False  # ~/.qiskit/qiskit-ibm.json exists
    aws_region: str | None = None
    aws_present: bool = False  # keys, a profile or a credentials file; boto3 reads them itself

    @property
    def ibm_present(self) -> bool:
        """Checked without any network call: a token or a saved account."""
        return bool(self.ibm_token) or self.ibm_saved_account
