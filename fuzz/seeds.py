#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: fuzz/corpus/resp_request/ and
fuzz/corpus/resp_frame/. Run from anywhere: python3 fuzz/seeds.py

Replies marked "redis" were captured from redis-server 7.0.15 (RESP3 after HELLO 3, or
RESP2), with DEBUG PROTOCOL for the types no ordinary command returns. Files are named
after what they hold; existing files with other names (added by a fuzzer) are kept.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT = 64 * 1024


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


REQUEST = {
    # Valid requests.
    "get": cmd("GET", "k"),
    "set": cmd("SET", "k", "hello"),
    "set_ex_nx": cmd("SET", "key:000001", "v" * 10, "EX", "100", "NX"),
    "pipeline": cmd("SET", "a", "1") + cmd("INCR", "a") + cmd("GET", "a") + cmd("DEL", "a") + cmd("PING"),
    "mixed_inline_multibulk": b"PING\r\n" + cmd("ECHO", "x") + b"ECHO y\n" + cmd("PING"),
    "binary_payload": cmd("ECHO", b"\x00\r\n\xff\n"),
    "empty_bulk": cmd("") + cmd("ECHO", ""),
    "many_args": cmd("MSET", *[s for i in range(40) for s in ("k%d" % i, "v%d" % i)]),
    "bulk_1k": cmd("SET", "big", "x" * 1024),
    "empty_multibulk": b"*0\r\n*-1\r\n*-5\r\n" + cmd("PING"),
    "skipped_bytes": b"*1\rx$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
    "inline_ping": b"PING\r\n",
    "inline_lf_only": b"PING\nPING\n",
    "inline_quotes": b"SET k \"a b\\x41\\n\\t\\\\\\\"\" 'it\\'s'\r\n",
    "inline_quote_midword": b"ECHO a\"b c\"\r\n",
    "inline_blanks": b"\x0b\x0cECHO a\x0bb \"x\"\x0b\r\n",
    "inline_blank_lines": b"\r\n\n   \r\n\t\nPING\r\n",
    "inline_bad_hex": b"ECHO \"a\\x4g\" \"\\xzz\"\r\n",
    "inline_cr_inside": b"ECHO a\r\rb\r\n\rPING\r\n",
    "inline_high_bytes": b"ECHO \xff\x80 \"\xfe\"\r\n",
    "inline_empty_quotes": b"ECHO \"\" ''\r\n",
    # Limits: 10 arguments and 16384 bytes are the most an unauthenticated client may
    # send; 8 bytes is the proto-max-bulk-len of two of the checked configurations.
    "unauth_10_args": cmd(*["a"] * 10),
    "unauth_11_args": cmd(*["a"] * 11),
    "unauth_16384_bulk": cmd("SET", "k", "v" * 16384),
    "unauth_16385_bulk": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n",
    "bulk_8_and_9": cmd("12345678") + cmd("123456789"),
    "master_keepalive_then_inline": b"\n\r\n" + cmd("PING") + b" \r\n",
    # Protocol errors.
    "err_mbulk_nan": b"*x\r\n",
    "err_mbulk_empty": b"*\r\n",
    "err_mbulk_leading_zero": b"*01\r\n",
    "err_mbulk_plus": b"*+1\r\n",
    "err_mbulk_over_int_max": b"*2147483648\r\n",
    "err_expected_dollar": b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
    "err_expected_dollar_cr": b"*1\r\n\r\n\r\n",
    "err_expected_dollar_high": b"*1\r\n\xff\r\n",
    "err_bulk_negative": b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
    "err_bulk_nan": b"*1\r\n$blabla\r\n",
    "err_bulk_empty": b"*1\r\n$\r\n",
    "err_bulk_over_max": b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
    "err_bulk_overflow": b"*1\r\n$99999999999999999999\r\n",
    "err_unbalanced_double": b"ECHO \"abc\r\nPING\r\n",
    "err_unbalanced_single": b"ECHO 'abc\r\n",
    "err_quote_then_char": b"set \"\"\"test-key\"\"\" test-value\r\nping\r\n",
    "err_backslash_at_end": b"ECHO \"x\\\r\n",
    "err_after_valid": cmd("PING") + b"*1\r\nfoo\r\n" + cmd("PING"),
    # NUL ends Redis's search for a line end (strchr).
    "nul_in_count": b"*1\x00\r\n$4\r\nPING\r\n",
    "nul_in_header": b"*1\r\n$4\x00\r\nPING\r\n",
    "nul_in_inline": b"PING\x00\r\nPING\r\n",
    # Truncated requests.
    "trunc_count": b"*3\r",
    "trunc_header": b"*3\r\n$3\r\nSET\r\n$1",
    "trunc_payload": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel",
    "trunc_payload_cr": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r",
    "trunc_inline": b"SET k \"v",
    # Lengths that must not be believed.
    "huge_count": b"*2147483647\r\n$1\r\na\r\n",
    "huge_bulk_max": b"*1\r\n$536870912\r\nabc",
    "huge_bulk_over_max": b"*1\r\n$536870913\r\nabc",
    "huge_bulk_i64": b"*1\r\n$9223372036854775807\r\nabc",
    # The 64 KB line limit: a line end may be at most 64 KB after the line's start.
    "inline_64k_exact": b"ECHO " + b"a" * (LIMIT - 5) + b"\n",
    "toobig_inline_by_one": b"ECHO " + b"a" * (LIMIT - 4) + b"\r\n",
    "toobig_inline_desync": b"\x00" + b"payload" * (LIMIT // 7 + 2),
    "toobig_mbulk_count": b"*" + b"1" * LIMIT + b"\r\n",
    "toobig_bulk_count": b"*1\r\n$" + b"1" * LIMIT + b"\r\n",
}

# Synthetic INFO-like text: the real one names paths and hosts of the machine.
INFO = (
    b"# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\narch_bits:64\r\n"
    b"tcp_port:6379\r\nuptime_in_seconds:12\r\n"
)

FRAME = {
    # Every type.
    "simple": b"+OK\r\n",
    "simple_empty": b"+\r\n",
    "simple_lf_inside": b"+a\nb\r\n",
    "error": b"-ERR unknown command 'foo', with args beginning with: \r\n",
    "integer": b":1000\r\n",
    "integer_min": b":-9223372036854775808\r\n",
    "bulk": b"$5\r\nhello\r\n",
    "bulk_empty": b"$0\r\n\r\n",
    "bulk_crlf_inside": b"$4\r\na\r\nb\r\n",
    "null_bulk": b"$-1\r\n",
    "null_array": b"*-1\r\n",
    "null": b"_\r\n",
    "double": b",1.5\r\n",
    "double_exp": b",1.0000000000000001e-05\r\n",
    "double_inf": b",inf\r\n",
    "double_neg_inf": b",-inf\r\n",
    "double_nan": b",nan\r\n",
    "boolean_true": b"#t\r\n",
    "boolean_false": b"#f\r\n",
    "blob_error": b"!21\r\nSYNTAX invalid syntax\r\n",
    "verbatim": b"=%d\r\ntxt:%s\r\n" % (len(INFO) + 4, INFO),
    "verbatim_mkd": b"=8\r\nmkd:# hi\r\n",
    "big_number_negative": b"(-3492890328409238509324850943850943825024385\r\n",
    # Replies of redis-server 7.0.15.
    "redis_hello3": b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:13\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
    "redis_zrange_withscores_resp3": b"*3\r\n*2\r\n$1\r\nc\r\n,-inf\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,2\r\n",
    "redis_zrange_withscores_resp2": b"*6\r\n$1\r\nc\r\n$4\r\n-inf\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n",
    "redis_hgetall_resp3": b"%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n",
    "redis_config_get_resp3": b"%5\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$27\r\nmaxmemory-eviction-tenacity\r\n$2\r\n10\r\n$17\r\nmaxmemory-clients\r\n$1\r\n0\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n",
    "redis_xrange": b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
    "redis_wrongtype": b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    "redis_subscribe_resp3": b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n>3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n",
    "redis_debug_attrib": b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
    "redis_debug_bignum": b"(1234567999999999999999999999999999999\r\n",
    "redis_debug_verbatim": b"=29\r\ntxt:This is a verbatim\nstring\r\n",
    "redis_debug_map": b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
    "redis_debug_set": b"~3\r\n:0\r\n:1\r\n:2\r\n",
    "redis_debug_double": b",3.141\r\n",
    "redis_debug_push": b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
    # Nesting.
    "nested_mixed": b"*3\r\n$3\r\nfoo\r\n:-7\r\n%1\r\n+a\r\n*2\r\n~1\r\n_\r\n>1\r\n%0\r\n",
    "map_aggregate_keys": b"%1\r\n*1\r\n:1\r\n~1\r\n:2\r\n",
    "attribute_in_array": b"*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n+two\r\n",
    "attribute_spec_example": b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
    "depth_64": b"*1\r\n" * 64 + b":1\r\n",
    "depth_65": b"*1\r\n" * 65 + b":1\r\n",
    "depth_maps": b"%1\r\n" * 70,
    # Invalid frames.
    "bad_type": b"?x\r\n",
    "bad_missing_lf": b"+OK\rX",
    "bad_integer": b":12a\r\n",
    "bad_integer_plus": b":+1\r\n",
    "bad_negative_length": b"$-2\r\n",
    "bad_payload_end": b"$3\r\nfooXY",
    "bad_boolean": b"#x\r\n",
    "bad_double": b",abc\r\n",
    "bad_big_number": b"(12a\r\n",
    "bad_null": b"_x\r\n",
    "bad_verbatim": b"=5\r\ntxt-a\r\n",
    "bad_streamed": b"$?\r\n;4\r\nHell\r\n;0\r\n",
    "bad_deep_inside": b"*2\r\n:1\r\n?\r\n",
    # Lengths that must not be believed.
    "huge_bulk": b"$9223372036854775807\r\nabc",
    "huge_bulk_overflow": b"$9223372036854775808\r\n",
    "huge_array": b"*9223372036854775807\r\n:1\r\n:2\r\n",
    "huge_map": b"%9223372036854775807\r\n+a\r\n+b\r\n",
    "huge_attribute": b"|9223372036854775807\r\n+a\r\n+b\r\n",
    "huge_nested": b"*4294967296\r\n*4294967296\r\n*4294967296\r\n",
    "huge_claim_small_elements": b"*1000000\r\n" + b"_\r\n" * 200,
    # Truncated frames.
    "trunc_array": b"*2\r\n:1\r\n",
    "trunc_bulk": b"$5\r\nab",
    "trunc_line": b"+OK\r",
}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (target, len(seeds)))


write("resp_request", REQUEST)
write("resp_frame", FRAME)
