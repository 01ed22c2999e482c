"""Plain HTTP PUTs of files, one at a time and paced: what the publishing bench compares with.

``python plainput.py URL INTERVAL_S FILE...`` PUTs each file to URL, waits INTERVAL_S
between them, and prints the transfer rates (bytes per second) as a JSON list.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import requests


def main(url: str, interval_s: float, paths: list[Path]) -> list[float]:
    rates = []
    with requests.Session() as http:
        for path in paths:
            with path.open("rb") as body:
                started = time.perf_counter()
                answer = http.put(url, data=body, timeout=60)
                elapsed = time.perf_counter() - started
            answer.raise_for_status()
            rates.append(path.stat().st_size / elapsed)
            time.sleep(interval_s)
    return rates


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], float(sys.argv[2]), [Path(p) for p in sys.argv[3:]])))
