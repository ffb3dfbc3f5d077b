#!/usr/bin/env python3
"""Checks a backtest report folder without the code that wrote it.

    scripts/check-backtest.py <report folder>

From trades.csv alone it recomputes every row's pnl
(direction x (exit - entry) x quantity - fees) and, grouping the rows by
signal id, the totals report.json states: net_pnl, trades (distinct
signals), win_rate and profit_factor (from each signal's summed pnl).
Prints each check; exits 1 on any mismatch, 2 when the files cannot be read.
Standard library only.
"""
import csv
import json
import os
import sys

RELATIVE = 1e-9
COLUMNS = ["signal_id", "symbol", "side", "entry_ts", "entry_price", "exit_ts", "exit_price",
           "quantity", "fees", "pnl", "exit_reason"]
DIRECTION = {"long": 1.0, "short": -1.0}


def close(actual, expected, scale):
    return abs(actual - expected) <= RELATIVE * max(1.0, abs(scale))


def read_trades(path):
    """Each row as (line, signal id, direction, entry, exit, quantity, fees, pnl)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or header[:len(COLUMNS)] != COLUMNS:
            raise ValueError(f"{path}:1: the header does not start with {','.join(COLUMNS)}")
        rows = []
        for line, fields in enumerate(reader, start=2):
            record = dict(zip(header, fields))
            if len(fields) != len(header):
                raise ValueError(f"{path}:{line}: {len(fields)} fields for {len(header)} columns")
            if record["side"] not in DIRECTION:
                raise ValueError(f"{path}:{line}: side {record['side']!r} is neither long nor short")
            try:
                numbers = [float(record[name]) for name in ("entry_price", "exit_price", "quantity", "fees", "pnl")]
            except ValueError as error:
                raise ValueError(f"{path}:{line}: {error}") from None
            rows.append((line, record["signal_id"], DIRECTION[record["side"]], *numbers))
        return rows


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    folder = argv[1]
    trades_path = os.path.join(folder, "trades.csv")
    report_path = os.path.join(folder, "report.json")
    try:
        rows = read_trades(trades_path)
        with open(report_path, encoding="utf-8") as handle:
            report = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    failures = []
    per_signal = {}
    for line, signal, direction, entry, exit_price, quantity, fees, pnl in rows:
        expected = direction * (exit_price - entry) * quantity - fees
        scale = max(abs(exit_price * quantity), abs(entry * quantity), abs(fees))
        if not close(pnl, expected, scale):
            failures.append(f"{trades_path}:{line}: signal {signal}: pnl {pnl!r} but "
                            f"direction x (exit - entry) x quantity - fees = {expected!r}")
        # In file order: each signal's legs summed as the writer summed them.
        per_signal[signal] = per_signal.get(signal, 0.0) + pnl
    print(f"checked {len(rows)} rows of trades.csv: pnl = direction x (exit - entry) x quantity - fees")

    sums = list(per_signal.values())
    wins = sum(1 for value in sums if value > 0)
    gross_profit = sum(value for value in sums if value > 0)
    gross_loss = -sum(value for value in sums if value < 0)
    recomputed = {
        "net_pnl": (sum(pnl for *_, pnl in rows), sum(abs(pnl) for *_, pnl in rows)),
        "trades": (len(sums), 0),
        "win_rate": (wins / len(sums) if sums else 0.0, 1),
        "profit_factor": (gross_profit / gross_loss if any(value < 0 for value in sums) else None,
                          gross_profit / gross_loss if gross_loss else 0),
    }
    for key, (expected, scale) in recomputed.items():
        if key not in report:
            failures.append(f"{report_path}: no {key} at the top level")
            continue
        stated = report[key]
        if expected is None or stated is None or isinstance(expected, int):
            matches = stated == expected
        else:
            matches = isinstance(stated, (int, float)) and close(float(stated), expected, scale)
        if not matches:
            failures.append(f"{report_path}: {key} is {stated!r}, trades.csv gives {expected!r}")
        print(f"checked report.json {key} = {stated!r} against trades.csv ({expected!r})")

    for failure in failures:
        print(f"MISMATCH {failure}", file=sys.stderr)
    print("ok" if not failures else f"{len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
