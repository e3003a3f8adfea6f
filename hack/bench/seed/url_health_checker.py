# The seed's parallel URL health checker (../shared/seed/, "url_health_checker.py"),
# unchanged but for its input and its last line: the URLs come from a file
# (one a line) and the worker count from the command line, and it ends with
# one JSON line for the benchmark driver. It is run only by `make bench`, next
# to `kubectl healthcheck run`, on the same local server.
#
#   python3 hack/bench/seed/url_health_checker.py URLS_FILE WORKERS
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass


@dataclass
class CheckResult:
    url: str
    status: int
    elapsed_ms: float
    error: str = ""


def check_url(url):
    """Check a URL and return a CheckResult."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=8) as response:
            elapsed = (time.perf_counter() - start) * 1000
            return CheckResult(url=url, status=response.status, elapsed_ms=round(elapsed, 1))
    except urllib.error.HTTPError as e:
        elapsed = (time.perf_counter() - start) * 1000
        return CheckResult(url=url, status=e.code, elapsed_ms=round(elapsed, 1))
    except Exception as e:
        elapsed = (time.perf_counter() - start) * 1000
        return CheckResult(url=url, status=0, elapsed_ms=round(elapsed, 1), error=str(e))


def run_health_check(urls, max_workers=10, slow_threshold_ms=2000):
    """Run parallel health checks and print a report."""
    print(f"Checking {len(urls)} URLs with {max_workers} workers...\n")
    print(f"{'Status':<8} {'Time (ms)':>10} {'URL'}")
    print("-" * 60)
    results = []
    start_total = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max_workers) as executor:
        future_to_url = {executor.submit(check_url, url): url for url in urls}
        for future in as_completed(future_to_url):
            result = future.result()
            results.append(result)
            flag = " [SLOW]" if result.elapsed_ms > slow_threshold_ms else ""
            flag = " [ERROR]" if result.error else flag
            flag = " [DOWN]" if result.status >= 500 else flag
            print(f"{result.status:<8} {result.elapsed_ms:>10.1f} {result.url}{flag}")
    total_elapsed = (time.perf_counter() - start_total)
    ok = sum(1 for r in results if 200 <= r.status < 300)
    print(f"\nDone in {total_elapsed:.2f}s | OK: {ok}/{len(urls)}")
    return results, total_elapsed


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        urls_to_check = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    results, elapsed = run_health_check(urls_to_check, max_workers=int(sys.argv[2]))
    ok = sum(1 for r in results if 200 <= r.status < 300)
    print(json.dumps({"checked": len(results), "ok": ok, "seconds": elapsed}))
