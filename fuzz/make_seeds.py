#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/ from the recordings in testdata/exchanges/.

Data only: frames are copied byte for byte from the recordings (attribution in
testdata/exchanges/README.md); one frame per file, except the multi-frame targets (kraken,
coinbase), which also get a few short sessions (one frame per line: a book snapshot followed by
its next updates; the snapshot cut to its best 25 levels per side). The codec corpus is bus records built from recorded trades with a minimal
protobuf writer (the schema is proto/tickflow.proto). Small on purpose: a few dozen files per
target, each at most a few KiB.

Usage: fuzz/make_seeds.py   (from anywhere; rewrites fuzz/corpus/)
"""
import hashlib
import json
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "testdata" / "exchanges"
OUT = ROOT / "fuzz" / "corpus"
MAX_FRAME = 4096
PER_KIND = 6


def frames(path):
    for line in open(path, encoding="utf-8"):
        rec = json.loads(line)
        if rec["direction"] == "in" and rec["raw"] is not None:
            yield rec["raw"]


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def kind_of(raw):
    j = json.loads(raw)
    if isinstance(j, dict):
        if "data" in j and isinstance(j["data"], dict):
            return "ws:" + str(j["data"].get("e", "bookTicker" if "b" in j["data"] else "?"))
        return "ev:" + str(j.get("event") or j.get("type") or ("result" if "result" in j else "?"))
    name = j[-2] if len(j) >= 2 and isinstance(j[-2], str) else "?"
    keys = ",".join(sorted(k for o in j[1:-2] if isinstance(o, dict) for k in o))
    return name + ":" + keys


def pick(paths, target, per_kind=PER_KIND):
    seen = {}
    for p in paths:
        for raw in frames(p):
            if len(raw) > MAX_FRAME:
                continue
            k = kind_of(raw)
            if seen.get(k, 0) < per_kind:
                seen[k] = seen.get(k, 0) + 1
                write(target, raw)
    return seen


# --- protobuf writer (just what the Envelope needs) -------------------------------------------
def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, value):
    if isinstance(value, bool) or isinstance(value, int):
        return varint(num << 3) + varint(int(value))
    if isinstance(value, float):
        return varint(num << 3 | 1) + struct.pack("<d", value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def envelope(event_id, body_field, body):
    return field(1, 1) + field(2, event_id) + field(3, 1617647602623478000) + field(body_field, body)


def codec_seeds():
    n = 0
    for raw in frames(DATA / "binance" / "binance_2021-04-05.jsonl"):
        d = json.loads(raw).get("data", {})
        if d.get("e") != "aggTrade" or n >= 8:
            continue
        n += 1
        sym = d["s"]
        trade = (field(1, "binance") + field(2, sym[:-4] + "-" + sym[-4:]) + field(3, sym) + field(4, d["a"]) +
                 field(5, d["f"]) + field(6, d["l"]) + field(7, d["p"]) + field(8, d["q"]) +
                 field(9, 2 if d["m"] else 1) + field(10, d["T"] * 1000000) + field(11, d["E"] * 1000000) +
                 field(12, True))
        write("codec", envelope("binance:%s:a:%d" % (sym, d["a"]), 10, trade))
        candle = (field(1, "binance") + field(2, "BTC-USDT") + field(3, "BTCUSDT") + field(4, "1m") +
                  field(5, d["T"] // 60000 * 60000 * 1000000) + field(6, (d["T"] // 60000 * 60000 + 59999) * 1000000) +
                  field(7, d["p"]) + field(8, d["p"]) + field(9, d["p"]) + field(10, d["p"]) + field(11, d["q"]) +
                  field(12, "0") + field(13, d["q"]) + field(14, "0") + field(15, d["l"] - d["f"] + 1) +
                  field(16, d["f"]) + field(17, d["l"]) + field(18, n % 3) + field(19, n % 2) + field(20, 1.0) +
                  field(21, "gap_backfilled" if n % 2 else "") + field(22, d["p"]) + field(23, d["E"] * 1000000))
        write("codec", envelope("binance:BTC-USDT:1m:%d:final:0" % d["T"], 11, candle))
        if n <= 2:
            dlq = (field(1, "raw.market-data") + field(2, "binance") + field(3, "malformed") +
                   field(4, "bad_decimal") + field(5, raw[:200]) + field(6, d["E"] * 1000000))
            write("codec", envelope("dlq:binance:malformed:1", 12, dlq))
            ind = (field(1, "binance") + field(2, "BTC-USDT") + field(3, "1m") + field(4, d["T"] * 1000000) +
                   field(5, d["T"] * 1000000 + 59999) + field(6, 0) + field(7, True) +
                   field(8, field(1, "sma20") + field(2, float(d["p"]))) + field(8, field(1, "rsi14") + field(2, 55.5)))
            write("codec", envelope("binance:BTC-USDT:1m:1:ind:0", 13, ind))
            alert = (field(1, "a1") + field(2, "demo_rsi_high") + field(3, "rsi_overbought") + field(4, "firing") +
                     field(5, "warning") + field(6, "binance") + field(7, "BTC-USDT") + field(8, "1m") +
                     field(9, d["T"] * 1000000) + field(10, 71.2) + field(11, 70.0) + field(12, "RSI above 70") +
                     field(13, field(1, "team") + field(2, "md")))
            write("codec", envelope("a1", 14, alert))


def agg_trades_seeds():
    # The REST /api/v3/aggTrades shape, from recorded aggTrade stream payloads.
    batch = []
    for raw in frames(DATA / "binance" / "binance_2021-04-05.jsonl"):
        d = json.loads(raw).get("data", {})
        if d.get("e") == "aggTrade" and d.get("s") == "BTCUSDT" or (d.get("e") == "aggTrade" and len(batch) < 40):
            batch.append({"a": d["a"], "p": d["p"], "q": d["q"], "f": d["f"], "l": d["l"], "T": d["T"],
                          "m": d["m"], "M": d["M"]})
    for size in (0, 1, 3, 10):
        write("binance_agg_trades", json.dumps(batch[:size], separators=(",", ":")))


def kraken_rest_seeds():
    # The REST /0/public/Trades shape, from recorded WebSocket trade entries of one pair.
    trades = []
    for raw in frames(DATA / "kraken" / "kraken_2021-04-05.jsonl"):
        j = json.loads(raw)
        if isinstance(j, list) and len(j) == 4 and j[2] == "trade":
            trades += [[p, v, float(t), side, kind, misc, len(trades) + i] for i, (p, v, t, side, kind, misc) in
                       enumerate(j[1])]
    for size in (0, 1, 4, 12):
        page = trades[:size]
        last = str(int(float(page[-1][2]) * 1e9)) if page else "0"
        write("kraken_rest", json.dumps({"error": [], "result": {"XXBTZUSD": page, "last": last}},
                                        separators=(",", ":")))
    write("kraken_rest", json.dumps({"error": ["EAPI:Rate limit exceeded"]}, separators=(",", ":")))
    write("kraken_rest", json.dumps({"error": ["EQuery:Unknown asset pair"]}, separators=(",", ":")))


def sessions(path, target, is_snapshot, key, updates=12, count=3, max_snapshot=1 << 20):
    lines = list(frames(path))
    made = 0
    for i, raw in enumerate(lines):
        if made >= count or len(raw) > max_snapshot or not is_snapshot(raw):
            continue
        k = key(raw)
        follow = [r for r in lines[i + 1:] if key(r) == k and len(r) <= MAX_FRAME][:updates]
        write(target, "\n".join([trim(raw)] + follow))
        made += 1


def trim(raw, levels=25):
    """A book snapshot cut to its best `levels` per side (Kraken's checksum covers the top 10), so
    a session stays a few KiB; the levels are the recorded ones, re-serialized compactly."""
    j = json.loads(raw)
    if isinstance(j, list):
        for o in j[1:-2]:
            for side in ("as", "bs"):
                if side in o:
                    o[side] = o[side][:levels]
    else:
        for side in ("bids", "asks"):
            if side in j:
                j[side] = j[side][:levels]
    return json.dumps(j, separators=(",", ":"))


def kraken_key(raw):
    j = json.loads(raw)
    return (j[0], j[-1]) if isinstance(j, list) else None


def coinbase_key(raw):
    j = json.loads(raw)
    return j.get("product_id") if j.get("type") in ("snapshot", "l2update") else None


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    binance = sorted((DATA / "binance").glob("*.jsonl"))
    pick(binance, "binance_frame")
    agg_trades_seeds()
    kraken = DATA / "kraken" / "kraken_2021-04-05.jsonl"
    pick([kraken], "kraken")
    kraken_rest_seeds()
    sessions(kraken, "kraken", lambda r: '"as":' in r, kraken_key)
    coinbase = DATA / "coinbase" / "coinbase_exchange_2021-04-17_part1.jsonl"
    pick([coinbase], "coinbase")
    sessions(coinbase, "coinbase", lambda r: '"type":"snapshot"' in r, coinbase_key)
    codec_seeds()
    # order_book: structured input (depth byte + 18-byte operations); a few fixed programs.
    ops = bytes([3]) + b"".join(bytes([op]) + struct.pack("<QQ", p, q) for op, p, q in [
        (0x00, 10, 5), (0x80, 9, 7), (0x00, 11 | 1 << 56, 110 | 1 << 56), (0x80, 8, 0), (0x00, 10, 0),
        (0x80, 12, 1), (30, 2, 0), (0x00, 0x00ff_0000_0000_1234, 3), (31, 0, 0)])
    write("order_book", ops)
    write("order_book", bytes([0]) + b"".join(bytes([i * 37 % 256]) + struct.pack("<QQ", i * 7919, i * 104729)
                                              for i in range(1, 40)))
    for t in sorted(p.name for p in OUT.iterdir()):
        files = list((OUT / t).iterdir())
        print("%-20s %3d files, %6d bytes" % (t, len(files), sum(f.stat().st_size for f in files)))


if __name__ == "__main__":
    main()
