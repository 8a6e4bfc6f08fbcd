"""How hard SECRET_KEY is to guess, by zxcvbn's estimate, measured in a short-lived child process.

Length alone lets through 32 × "a", a short pattern typed twice or a sentence. zxcvbn (the
estimator the password checks already use) models what people choose: dictionary words and
phrases, repeats, sequences, keyboard rows and dates, and counts anything else as random at
about 3.3 bits a character. A key must be worth MIN_BITS by that estimate: what 128 random bits
give. So a random key needs about 40 characters; `secrets.token_urlsafe(48)` and
`secrets.token_hex(32)` (64 characters) come to about 210 bits, 32 × "a" to 9, a 16-character
random part typed twice to 54, "correct horse battery staple pass" to 83.

zxcvbn's word lists take about 13 MiB, and the server that forks its workers would keep them in
every process (docs/performance.md#loaded-on-first-use); the child process holds them for a
moment instead.
"""

import math
import subprocess
import sys

MIN_BITS = 128
# zxcvbn's work grows with the square of the length; the first characters of a longer key must
# be strong on their own.
MEASURED_LENGTH = 100
TIMEOUT_SECONDS = 60


def estimated_bits(key: str) -> float:
    """log2 of the guesses zxcvbn needs for the key's first MEASURED_LENGTH characters."""
    from zxcvbn import zxcvbn  # noqa: PLC0415 (only ever imported in the child process)

    measured = key[:MEASURED_LENGTH]
    result = zxcvbn(measured, max_length=MEASURED_LENGTH)
    return float(result["guesses_log10"]) * math.log2(10)


def measured_bits(key: str) -> float:
    """estimated_bits() of the key, from a child process; OSError or ValueError if it fails."""
    # The key goes over stdin: a command line is visible to every user of the machine.
    child = subprocess.run(
        [sys.executable, "-m", "api.secret_strength"],
        input=key,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if child.returncode != 0:
        lines = child.stderr.strip().splitlines()
        raise OSError(lines[-1] if lines else f"the estimate ended with {child.returncode}")
    return float(child.stdout)


if __name__ == "__main__":
    print(estimated_bits(sys.stdin.read()))
