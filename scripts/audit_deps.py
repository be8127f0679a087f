"""Audit the pinned dependencies (constraints.txt) for known vulnerabilities: `make audit-deps`.

Exit 1 when pip-audit reports a vulnerability in any pin. When the vulnerability service
cannot be reached (no network, the service down, or it answers for none of the pins) the
audit did not happen: that is printed as a WARNING and exits 0, so an outage does not fail
CI but is never mistaken for a clean result. Any other failure of pip-audit exits 2.

The PyPI advisory service is asked first and OSV when PyPI answers for none of the pins."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
SERVICES = ("pypi", "osv")

# What requests/urllib3 print when a host cannot be reached: an outage, not a finding.
_OUTAGE_MARKERS = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Max retries exceeded",
    "NameResolutionError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Connection refused",
    "Network is unreachable",
)


@dataclass(frozen=True)
class Verdict:
    exit_code: int  # 0 clean or outage, 1 vulnerable, 2 pip-audit failed otherwise
    message: str
    audited: int = 0  # pins the service answered for


def verdict(returncode: int, stdout: str, stderr: str) -> Verdict:
    """Judge one pip-audit run (`--format json`)."""
    try:
        report: dict[str, Any] = json.loads(stdout)
    except ValueError:
        if any(marker in stderr for marker in _OUTAGE_MARKERS):
            return Verdict(0, "WARNING: the vulnerability service could not be reached")
        return Verdict(2, f"pip-audit failed (exit {returncode}):\n{stderr.strip()[-3000:]}")
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    if vulnerable:
        lines = [
            f"  {d['name']} {d.get('version', '?')}: {v.get('id')} "
            f"(fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'})"
            for d in vulnerable
            for v in d["vulns"]
        ]
        return Verdict(1, "Known vulnerabilities in pinned packages:\n" + "\n".join(lines))
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    if not audited:
        return Verdict(
            0, f"WARNING: the vulnerability service answered for none of the {len(deps)} pins"
        )
    message = f"No known vulnerabilities in {len(audited)} pinned packages"
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        message += f"\nWARNING: {len(skipped)} could not be audited: {names}"
    return Verdict(0, message, audited=len(audited))


def run_audit(service: str, requirements: Path = CONSTRAINTS) -> Verdict:
    # Every line of constraints.txt is an exact pin, so it is read as a requirements file
    # without resolving anything (--no-deps --disable-pip: no virtualenv, no downloads).
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(requirements),
        "--no-deps",
        "--disable-pip",
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        "20",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    return verdict(done.returncode, done.stdout, done.stderr)


def main() -> int:
    result = Verdict(0, "WARNING: no vulnerability service was asked")
    for service in SERVICES:
        result = run_audit(service)
        print(f"audit-deps ({service}): {result.message}")
        if result.exit_code != 0 or result.audited:
            return result.exit_code
    print("WARNING: the dependency audit could not be done; run `make audit-deps` again later.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
