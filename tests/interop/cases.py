"""The differential cases: command sequences whose replies must be identical on
tandem-server and redis-server 7.0. Syntax of a step: see difftest.py.

To add a case, append `C("family/name", "...steps, one a line...")` below. Keep cases small and
about one command (or one interaction) so that a missing command fails only its own
cases. Each case starts on empty servers with fresh connections.
"""

from difftest import RAW_ONLY, Case


def C(name, steps, modes=None, note=""):
    kw = {"modes": modes} if modes else {}
    return Case(name, [steps], note=note, **kw)


LONG = "k" * 200

CASES = [
    # ---------------------------------------------------------------- connection
    C("connection/ping_echo", """
        PING
        PING hello
        ping
        PiNg x:a\\r\\nb
        ECHO hi
        ECHO ''
        ECHO x:\\x00\\xff\\r\\n
        ECHO
        ECHO a b
        PING a b
    """),
    C("connection/select", """
        SELECT 1
        SET k db1
        SELECT 0
        GET k
        SELECT 1
        GET k
        SELECT 16
        SELECT -1
        SELECT abc
        SELECT
    """),
    C("connection/hello", """
        HELLO
        HELLO 2
        HELLO 3
        HELLO 2 SETNAME myname
        CLIENT GETNAME
        HELLO 4
        HELLO abc
        HELLO 2 FOO
        HELLO 2 AUTH default wrong
    """, modes=RAW_ONLY),
    C("connection/auth_without_password", """
        AUTH x
        AUTH default x
        AUTH a b c
    """),
    C("connection/client_name_id", """
        {mask} CLIENT ID
        CLIENT GETNAME
        CLIENT SETNAME conn-a
        CLIENT GETNAME
        CLIENT SETNAME 'has space'
        CLIENT SETNAME x:a\\nb
        CLIENT SETNAME ''
        CLIENT GETNAME
        CLIENT SETNAME
        CLIENT NOSUCH
        CLIENT
    """),
    C("connection/client_list_info", """
        {mask} CLIENT LIST
        {mask} CLIENT INFO
        {mask} CLIENT LIST TYPE normal
        CLIENT LIST TYPE nosuch
        CLIENT KILL 127.0.0.1:1
        CLIENT KILL ID 999999
        CLIENT KILL ADDR 127.0.0.1:1
    """),
    C("connection/client_pause", """
        CLIENT PAUSE 10
        CLIENT UNPAUSE
        CLIENT PAUSE 10 WRITE
        CLIENT UNPAUSE
        CLIENT PAUSE abc
        CLIENT PAUSE 10 FOO
        {sleep=0.05} SET k v
        GET k
    """),
    C("connection/quit", """
        SET k v
        QUIT
        GET k
    """, modes=RAW_ONLY),
    C("connection/reset", """
        SELECT 3
        CLIENT SETNAME n
        MULTI
        RESET
        CLIENT GETNAME
        SET k v
        SELECT 3
        GET k
    """, modes=RAW_ONLY),
    # ---------------------------------------------------------------- errors
    C("errors/unknown_command", """
        NOSUCHCOMMAND
        NOSUCHCOMMAND a b
        nosuchcommand 'with space' x:\\x01
        FOO """ + " ".join(["arg"] * 40) + """
        FOO """ + LONG + """
        GET k
    """),
    C("errors/wrong_arity", """
        GET
        SET k
        INCR
        INCRBY k
        MGET
        MSET k
        MSET k v k2
        DEL
        EXISTS
        EXPIRE k
        LPUSH k
        LRANGE k 0
        HSET k f
        HSET k f v f2
        HGET k
        SADD k
        ZADD k 1
        ZADD k 1 a 2
        ZRANGE k 0
        PUBLISH ch
        SELECT
        DBSIZE x
        TYPE
        RENAME a
    """),
    C("errors/wrongtype", """
        SET s v
        LPUSH l a
        HSET h f v
        SADD set m
        ZADD z 1 m
        LPUSH s x
        GET l
        HGET s f
        SADD h m
        ZADD set 1 m
        INCR l
        APPEND h x
        LRANGE set 0 -1
        SMEMBERS z
        ZRANGE s 0 -1
        HGETALL l
        STRLEN z
        GETRANGE l 0 1
        LLEN h
        SCARD s
        ZCARD h
        HLEN set
        GET s
    """),
    C("errors/not_integer", """
        SET k abc
        INCR k
        INCRBY n abc
        INCRBY n 1.5
        EXPIRE k abc
        EXPIRE k 1.5
        LRANGE l a b
        LINDEX l x
        GETRANGE k a 1
        SETRANGE k x v
        SET n 01
        INCR n
        SET n ' 1'
        INCR n
        SET n 1
        INCRBY n 99999999999999999999
        SELECT 1.0
    """),
    C("errors/syntax", """
        SET k v FOO
        SET k v NX XX
        SET k v EX 10 PX 10
        SET k v EX
        SET k v KEEPTTL EX 10
        GETEX k FOO
        ZADD z NX XX 1 a
        ZADD z GT LT 1 a
        ZADD z INCR 1 a 2 b
        ZRANGE z 0 -1 FOO
        ZRANGE z 0 -1 LIMIT 0 1
        LPOS l a FOO 1
        SCAN 0 FOO
        SCAN 0 COUNT 0
        CONFIG FOO
        OBJECT FOO k
    """),
    C("errors/case_and_binary_args", """
        set K1 v
        Get K1
        GET k1
        SET x:\\x00key x:val\\r\\n\\x00
        GET x:\\x00key
        SET '' empty
        GET ''
        STRLEN x:\\x00key
    """),
    # ---------------------------------------------------------------- strings
    C("strings/set_get", """
        SET k v
        GET k
        GET missing
        SET k v2
        GET k
        SET k ''
        GET k
        STRLEN k
    """),
    C("strings/set_nx_xx_get", """
        SET k v NX
        SET k v2 NX
        SET k v3 XX
        SET nokey v XX
        GET k
        SET k v4 GET
        SET nokey2 v GET
        SET k v5 NX GET
        SET k v6 XX GET
        GET k
        LPUSH l a
        SET l v GET
        LRANGE l 0 -1
    """),
    C("strings/set_expiry_options", """
        SET k v EX 100
        TTL k
        SET k v PX 100000
        {approx=1500} PTTL k
        SET k v EXAT 4102444800
        EXPIRETIME k
        SET k v PXAT 4102444800123
        PEXPIRETIME k
        SET k v2 KEEPTTL
        PEXPIRETIME k
        SET k v3
        TTL k
        SET k v EX 0
        SET k v EX -1
        SET k v PX 0
        SET k v EXAT 0
        SET k v EX abc
        SET k v EX 9999999999999999
        SET k v PX 9223372036854775807
        SET gone v PX 30
        {sleep=0.15} GET gone
        EXISTS gone
    """),
    C("strings/setnx_setex_psetex", """
        SETNX k v
        SETNX k v2
        GET k
        SETEX e 100 v
        TTL e
        SETEX e 0 v
        SETEX e -5 v
        SETEX e abc v
        PSETEX p 100000 v
        {approx=1500} PTTL p
        PSETEX p 0 v
        GET p
    """),
    C("strings/mget_mset_msetnx", """
        MSET a 1 b 2 c 3
        MGET a b c nokey
        LPUSH l x
        MGET a l
        MSETNX a 10 d 4
        MGET a d
        MSETNX d 4 e 5
        MGET d e
        MSETNX d 4 e
        MSET a
    """),
    C("strings/getset_getdel_getex", """
        GETSET k v
        GETSET k v2
        GET k
        GETDEL k
        GETDEL k
        EXISTS k
        SET k v EX 100
        GETSET k v3
        TTL k
        SET k v
        GETEX k
        GETEX k EX 100
        TTL k
        GETEX k PX 200000
        {approx=1500} PTTL k
        GETEX k EXAT 4102444800
        EXPIRETIME k
        GETEX k PXAT 4102444800000
        PEXPIRETIME k
        GETEX k PERSIST
        TTL k
        GETEX k EX 0
        GETEX k EX 10 PX 10
        GETEX k PERSIST EX 10
        GETEX nokey EX 10
        LPUSH l a
        GETEX l
        GETDEL l
        GETSET l x
    """),
    C("strings/append_strlen_getrange_setrange", """
        APPEND k hello
        APPEND k ' world'
        GET k
        STRLEN k
        STRLEN nokey
        GETRANGE k 0 4
        GETRANGE k -5 -1
        GETRANGE k 6 100
        GETRANGE k 5 2
        GETRANGE k -100 2
        GETRANGE k 0 -100
        GETRANGE nokey 0 10
        SETRANGE k 6 WORLD
        GET k
        SETRANGE k 15 '!'
        GET k
        SETRANGE new 3 abc
        GET new
        SETRANGE new2 0 ''
        EXISTS new2
        SETRANGE k -1 x
        SETRANGE k 536870912 x
        SETRANGE k 536870911 ''
    """),
    C("strings/incr_decr", """
        INCR n
        INCR n
        INCRBY n 10
        DECR n
        DECRBY n 5
        INCRBY n -100
        GET n
        SET n 9223372036854775806
        INCR n
        INCR n
        SET n -9223372036854775808
        DECR n
        DECRBY n -9223372036854775808
        SET n 5
        DECRBY n -9223372036854775808
        SET n '10'
        INCR n
        SET n 1e3
        INCR n
        SET n 1.0
        INCR n
        SET n -0
        INCR n
        SET n +1
        INCR n
    """),
    C("strings/incrbyfloat", """
        INCRBYFLOAT f 10.5
        INCRBYFLOAT f 0.1
        INCRBYFLOAT f -5
        INCRBYFLOAT f 3.0e3
        INCRBYFLOAT f 5.0e-3
        SET f 5.0e3
        INCRBYFLOAT f 2.0e2
        SET f 10
        INCRBYFLOAT f 1
        INCRBYFLOAT f abc
        INCRBYFLOAT f inf
        INCRBYFLOAT f nan
        SET f abc
        INCRBYFLOAT f 1
        SET f 1.7976931348623157e308
        INCRBYFLOAT f 1.7976931348623157e308
        SET f 3 EX 100
        INCRBYFLOAT f 1.5
        TTL f
    """),
    C("strings/big_value", """
        SET big """ + "x" * 10000 + """
        STRLEN big
        {len} GETRANGE big 0 -1
        APPEND big """ + "y" * 5000 + """
        GETRANGE big 9998 10001
    """),
    # ---------------------------------------------------------------- keys
    C("keys/del_unlink_exists", """
        MSET a 1 b 2 c 3
        EXISTS a b nokey
        EXISTS a a a
        DEL a nokey
        DEL a
        EXISTS a
        UNLINK b c nokey
        EXISTS b c
        DEL nokey
    """),
    C("keys/type", """
        SET s v
        LPUSH l a
        HSET h f v
        SADD set m
        ZADD z 1 m
        TYPE s
        TYPE l
        TYPE h
        TYPE set
        TYPE z
        TYPE nokey
    """),
    C("keys/expire_ttl_persist", """
        SET k v
        TTL k
        PTTL k
        TTL nokey
        PTTL nokey
        EXPIRE k 100
        TTL k
        PEXPIRE k 100000
        {approx=1500} PTTL k
        PERSIST k
        PERSIST k
        TTL k
        PERSIST nokey
        EXPIRE nokey 10
        EXPIREAT k 4102444800
        EXPIRETIME k
        PEXPIRETIME k
        PEXPIREAT k 4102444800999
        PEXPIRETIME k
        EXPIRETIME k
        EXPIRETIME nokey
        EXPIRETIME nokey2
        SET k2 v
        EXPIRETIME k2
        PEXPIRETIME k2
        EXPIRE k 0
        EXISTS k
        SET k v
        EXPIRE k -10
        EXISTS k
        SET k v
        EXPIREAT k 1
        EXISTS k
        SET k v
        EXPIRE k 9223372036854775807
        PEXPIRE k 9223372036854775807
        EXPIRE k 922337203685477580
        TTL k
    """),
    C("keys/expire_options", """
        SET k v
        EXPIRE k 100 XX
        EXPIRE k 100 NX
        EXPIRE k 200 NX
        EXPIRE k 50 GT
        EXPIRE k 200 GT
        EXPIRE k 300 LT
        EXPIRE k 50 LT
        TTL k
        EXPIRE k 10 NX XX
        EXPIRE k 10 GT LT
        EXPIRE k 10 NX GT
        EXPIRE k 10 FOO
        SET p v
        EXPIRE p 100 LT
        EXPIRE p 50 GT
        EXPIRE p 200 GT
        TTL p
        PEXPIRE p 100000 NX
        TTL p
    """),
    C("keys/lazy_expiry", """
        SET k v PX 50
        LPUSH l a
        PEXPIRE l 50
        HSET h f v
        PEXPIRE h 50
        {sleep=0.2} GET k
        LLEN l
        HGET h f
        EXISTS k l h
        TTL k
        DBSIZE
        {sort} KEYS *
    """),
    C("keys/keys_patterns", """
        MSET hello 1 hallo 2 hxllo 3 hllo 4 heeello 5 'h*llo' 6 foo 7 foo:bar 8
        {sort} KEYS *
        {sort} KEYS h?llo
        {sort} KEYS h*llo
        {sort} KEYS h[ae]llo
        {sort} KEYS h[^e]llo
        {sort} KEYS h[a-e]llo
        {sort} KEYS h\\*llo
        {sort} KEYS foo*
        {sort} KEYS *:*
        KEYS nomatch*
    """),
    C("keys/scan", """
        MSET a 1 b 2 c 3 key:1 1 key:2 2
        LPUSH list x
        {sort:1} SCAN 0 COUNT 1000
        {sort:1} SCAN 0 MATCH key:* COUNT 1000
        {sort:1} SCAN 0 TYPE list COUNT 1000
        {sort:1} SCAN 0 TYPE string MATCH ? COUNT 1000
        SCAN 0 TYPE nosuchtype COUNT 1000
        SCAN abc
        SCAN 0 COUNT abc
        SCAN 0 MATCH
    """),
    C("keys/rename", """
        SET a 1
        EXPIRE a 100
        RENAME a b
        GET a
        GET b
        TTL b
        RENAME nokey c
        RENAME b b
        GET b
        SET c 3
        RENAMENX b c
        RENAMENX b d
        GET d
        RENAMENX nokey e
        LPUSH l x
        RENAME l b2
        LRANGE b2 0 -1
        TYPE l
    """),
    C("keys/randomkey_dbsize", """
        RANDOMKEY
        DBSIZE
        SET only v
        RANDOMKEY
        DBSIZE
        SET k2 v
        DBSIZE
        SELECT 1
        DBSIZE
        RANDOMKEY
    """),
    C("keys/swapdb_move", """
        SET k db0
        SELECT 1
        SET k db1
        SET other x
        SWAPDB 0 1
        GET k
        GET other
        SELECT 0
        GET k
        GET other
        SWAPDB 0 16
        SWAPDB 0 abc
        SWAPDB 0 0
        MOVE other 2
        MOVE other 2
        EXISTS other
        SELECT 2
        GET other
        SET other y
        SELECT 0
        SET other z
        MOVE other 2
        MOVE other 0
        MOVE nokey 3
        MOVE other 99
    """),
    C("keys/copy", """
        SET src v
        EXPIRE src 100
        COPY src dst
        GET dst
        TTL dst
        COPY src dst
        COPY src dst REPLACE
        COPY nokey x
        LPUSH l a b
        COPY l l2
        LRANGE l2 0 -1
        RPUSH l c
        LRANGE l2 0 -1
        HSET h f v
        COPY h h2 DB 1
        SELECT 1
        HGETALL h2
        SELECT 0
        COPY src src
        COPY src x DB 99
        COPY src x FOO
    """),
    C("keys/flushdb_flushall", """
        SET a 1
        SELECT 1
        SET b 2
        FLUSHDB
        DBSIZE
        SELECT 0
        DBSIZE
        SET c 3
        FLUSHDB ASYNC
        DBSIZE
        SET c 3
        FLUSHDB SYNC
        FLUSHDB FOO
        SELECT 1
        SET b 2
        FLUSHALL
        DBSIZE
        SELECT 0
        DBSIZE
        SET a 1
        FLUSHALL ASYNC
        DBSIZE
        FLUSHALL SYNC
        FLUSHALL FOO
    """),
    C("keys/object_touch", """
        SET k v
        TOUCH k nokey
        SET n 12345
        {mask} OBJECT FREQ k
        {mask} OBJECT IDLETIME k
        OBJECT REFCOUNT nokey
    """),
    # ---------------------------------------------------------------- lists
    C("lists/push_pop_len", """
        LPUSH l a b c
        RPUSH l d e
        LLEN l
        LRANGE l 0 -1
        LPOP l
        RPOP l
        LPOP l 2
        RPOP l 5
        LPOP l
        RPOP l
        LPOP l 2
        EXISTS l
        LLEN l
        RPUSH l a b c
        LPOP l 0
        LPOP l -1
        RPOP l abc
        LPUSHX l x
        RPUSHX l y
        LPUSHX nokey x
        RPUSHX nokey x
        EXISTS nokey
        LRANGE l 0 -1
    """),
    C("lists/lrange_lindex_lset", """
        RPUSH l a b c d e f
        LRANGE l 0 2
        LRANGE l -3 -1
        LRANGE l 4 100
        LRANGE l 3 1
        LRANGE l -100 1
        LRANGE l 100 200
        LRANGE nokey 0 -1
        LINDEX l 0
        LINDEX l -1
        LINDEX l 10
        LINDEX nokey 0
        LSET l 1 B
        LSET l -1 F
        LSET l 10 x
        LSET nokey 0 x
        LRANGE l 0 -1
    """),
    C("lists/linsert_lrem_ltrim", """
        RPUSH l a b a c a
        LINSERT l BEFORE b x
        LINSERT l AFTER c y
        LINSERT l AFTER nosuch z
        LINSERT nokey BEFORE a z
        LINSERT l MIDDLE a z
        LRANGE l 0 -1
        LREM l 2 a
        LRANGE l 0 -1
        LREM l -1 a
        LREM l 0 nosuch
        LREM l 0 x
        LRANGE l 0 -1
        RPUSH t 1 2 3 4 5 6
        LTRIM t 1 -2
        LRANGE t 0 -1
        LTRIM t 10 20
        EXISTS t
        LTRIM nokey 0 1
    """),
    C("lists/lpos", """
        RPUSH l a b c 1 2 3 c c
        LPOS l c
        LPOS l c RANK 2
        LPOS l c RANK -1
        LPOS l c COUNT 2
        LPOS l c COUNT 0
        LPOS l c RANK -1 COUNT 2
        LPOS l c COUNT 0 MAXLEN 3
        LPOS l nosuch
        LPOS l nosuch COUNT 0
        LPOS l c RANK 0
        LPOS l c COUNT -1
        LPOS l c MAXLEN -1
        LPOS nokey a
    """),
    C("lists/lmove_rpoplpush", """
        RPUSH src a b c
        LMOVE src dst LEFT RIGHT
        LMOVE src dst RIGHT LEFT
        LRANGE src 0 -1
        LRANGE dst 0 -1
        RPOPLPUSH src dst
        EXISTS src
        LRANGE dst 0 -1
        RPOPLPUSH dst dst
        LRANGE dst 0 -1
        LMOVE nokey dst LEFT LEFT
        LMOVE dst dst LEFT RIGHT
        LRANGE dst 0 -1
        LMOVE dst x UP DOWN
        SET s v
        LMOVE dst s LEFT LEFT
        LRANGE dst 0 -1
    """),
    C("lists/lmpop", """
        RPUSH l1 a b c
        RPUSH l2 x
        LMPOP 2 nokey l1 LEFT
        LMPOP 2 l1 l2 RIGHT COUNT 5
        LMPOP 1 nokey LEFT
        LMPOP 0 l1 LEFT
        LMPOP 1 l1 UP
        LMPOP 2 l1 LEFT
    """),
    C("lists/blocking_immediate", """
        RPUSH l a b
        BLPOP nokey l 1
        BRPOP l nokey 1
        BLPOP nokey 0.05
        BRPOP nokey 0.05
        BLPOP l -1
        BLPOP l abc
        RPUSH l a
        BLMOVE l dst LEFT RIGHT 1
        BLMOVE nokey dst LEFT RIGHT 0.05
        RPUSH l b
        BRPOPLPUSH l dst 1
        LRANGE dst 0 -1
        BLMPOP 0.05 1 nokey LEFT
        BLMPOP 1 1 dst RIGHT COUNT 10
    """),
    C("lists/blocking_woken_by_push", """
        {@a,send} BLPOP q1 q2 5
        {@b,sleep=0.1} RPUSH q2 x y
        {@a,read}
        {@b} LRANGE q2 0 -1
        {@a,send} BRPOP q3 5
        {@b,sleep=0.1} LPUSH q3 a b c
        {@a,read}
        {@a,send} BLMOVE q4 dst LEFT RIGHT 5
        {@b,sleep=0.1} RPUSH q4 m
        {@a,read}
        {@b} LRANGE dst 0 -1
        {@a,send} BLPOP q5 5
        {@b,send,sleep=0.05} BLPOP q5 5
        {@c,sleep=0.1} RPUSH q5 first second
        {@a,read}
        {@b,read}
    """),
    C("lists/blocking_in_multi", """
        MULTI
        BLPOP nokey 10
        EXEC
    """),
    # ---------------------------------------------------------------- hashes
    C("hashes/hset_hget", """
        HSET h f1 v1
        HSET h f1 v1b f2 v2 f3 v3
        HGET h f1
        HGET h nofield
        HGET nokey f
        HMGET h f1 f2 nofield
        HMGET nokey a b
        HMSET h f4 v4 f5 v5
        HLEN h
        HLEN nokey
        HEXISTS h f1
        HEXISTS h nofield
        HSETNX h f1 x
        HSETNX h f6 v6
        HGET h f6
        HSTRLEN h f1
        HSTRLEN h nofield
    """),
    C("hashes/hgetall_keys_vals", """
        HSET h a 1 b 2 c 3
        {pairs} HGETALL h
        {sort} HKEYS h
        {sort} HVALS h
        HGETALL nokey
        HKEYS nokey
        HVALS nokey
    """),
    C("hashes/hdel", """
        HSET h a 1 b 2 c 3
        HDEL h a nofield
        HDEL h b c
        EXISTS h
        HDEL h a
    """),
    C("hashes/hincrby", """
        HINCRBY h n 5
        HINCRBY h n -10
        HINCRBYFLOAT h f 1.5
        HINCRBYFLOAT h f 2.0e2
        HINCRBYFLOAT h n 0.25
        HSET h s abc
        HINCRBY h s 1
        HINCRBYFLOAT h s 1
        HINCRBY h n abc
        HINCRBYFLOAT h n abc
        HSET h big 9223372036854775807
        HINCRBY h big 1
        {pairs} HGETALL h
    """),
    C("hashes/hrandfield", """
        HRANDFIELD nokey
        HRANDFIELD nokey 5
        HSET h only 1
        HRANDFIELD h
        HRANDFIELD h 1 WITHVALUES
        HSET h a 1 b 2 c 3
        {len} HRANDFIELD h 2
        {len} HRANDFIELD h 10
        {len} HRANDFIELD h -10
        {len} HRANDFIELD h -3 WITHVALUES
        HRANDFIELD h 0
        HRANDFIELD h abc
    """),
    C("hashes/hscan", """
        HSET h a 1 b 2 c 3 xa 4
        {sort:1,pairs} HSCAN h 0
        {sort:1,pairs} HSCAN h 0 MATCH x* COUNT 100
        HSCAN nokey 0
        HSCAN h abc
    """),
    # ---------------------------------------------------------------- sets
    C("sets/sadd_srem_members", """
        SADD s a b c
        SADD s a d
        SCARD s
        SCARD nokey
        {sort} SMEMBERS s
        SMEMBERS nokey
        SISMEMBER s a
        SISMEMBER s z
        SISMEMBER nokey a
        SMISMEMBER s a z b
        SREM s a z
        SREM s b c d
        EXISTS s
        SADD ints 3 1 2
        {sort} SMEMBERS ints
    """),
    C("sets/spop_srandmember", """
        SADD one only
        SRANDMEMBER one
        SRANDMEMBER one 5
        SPOP one
        EXISTS one
        SPOP nokey
        SRANDMEMBER nokey
        SRANDMEMBER nokey 3
        SADD s a b c d
        {len} SRANDMEMBER s 2
        {len} SRANDMEMBER s -6
        {len} SRANDMEMBER s 10
        {len} SPOP s 2
        SCARD s
        {len} SPOP s 10
        EXISTS s
        SPOP s -1
        SPOP nokey 2
    """),
    C("sets/smove", """
        SADD a x y
        SADD b z
        SMOVE a b x
        SMOVE a b nosuch
        SMOVE nokey b x
        {sort} SMEMBERS b
        SMOVE a b y
        EXISTS a
        SET str v
        SMOVE b str z
    """),
    C("sets/algebra", """
        SADD a 1 2 3 4
        SADD b 3 4 5
        SADD c 4 6
        {sort} SINTER a b
        {sort} SINTER a b c
        SINTER a nokey
        {sort} SUNION a b c
        {sort} SDIFF a b
        {sort} SDIFF a b c
        SDIFF nokey a
        SINTERSTORE d a b
        {sort} SMEMBERS d
        SUNIONSTORE d a c
        SCARD d
        SDIFFSTORE d a b c
        {sort} SMEMBERS d
        SINTERSTORE d a nokey
        EXISTS d
        SINTERCARD 2 a b
        SINTERCARD 2 a b LIMIT 1
        SINTERCARD 0 a
        SET str x
        SINTER a str
    """),
    C("sets/sscan", """
        SADD s a b c xa xb
        {sort:1} SSCAN s 0
        {sort:1} SSCAN s 0 MATCH x* COUNT 100
        SSCAN nokey 0
    """),
    # ---------------------------------------------------------------- sorted sets
    C("zsets/zadd_options", """
        ZADD z 1 a 2 b 3 c
        ZADD z 1 a
        ZADD z CH 5 a 2 b
        ZADD z NX 10 a 4 d
        ZADD z XX 10 a 4 e
        ZADD z XX CH 11 a
        ZADD z GT 1 a
        ZADD z GT CH 20 a
        ZADD z LT 30 a
        ZADD z LT CH 0.5 a
        ZADD z INCR 10 b
        ZADD z NX INCR 10 b
        ZADD z XX INCR 1 nosuch
        ZADD z GT NX 1 a
        ZADD z abc a
        ZADD z nan a
        ZADD z inf x -inf y +inf w
        ZRANGE z 0 -1 WITHSCORES
    """),
    C("zsets/score_format", """
        ZADD z 1.5 a 0.1 b 1e20 c -0 d 3.0 e 1e-5 f 123456789012345678 g
        ZRANGE z 0 -1 WITHSCORES
        ZSCORE z a
        ZSCORE z b
        ZSCORE z c
        ZSCORE z nosuch
        ZSCORE nokey a
        ZMSCORE z a nosuch c
        ZINCRBY z 0.2 b
        ZINCRBY z 1 new
        ZINCRBY z abc a
    """),
    C("zsets/card_count_rank", """
        ZADD z 1 a 2 b 3 c 4 d
        ZCARD z
        ZCARD nokey
        ZCOUNT z 2 3
        ZCOUNT z (2 3
        ZCOUNT z -inf +inf
        ZCOUNT z abc 3
        ZRANK z c
        ZRANK z nosuch
        ZREVRANK z c
        ZREVRANK nokey a
        ZADD lex 0 a 0 b 0 c 0 d
        ZLEXCOUNT lex [b +
        ZLEXCOUNT lex (a [c
        ZLEXCOUNT lex - +
        ZLEXCOUNT lex a c
    """),
    C("zsets/zrange_variants", """
        ZADD z 1 a 2 b 3 c 4 d 5 e
        ZRANGE z 0 -1
        ZRANGE z 1 2 WITHSCORES
        ZRANGE z 0 -1 REV
        ZRANGE z 2 4 BYSCORE
        ZRANGE z (2 +inf BYSCORE LIMIT 1 2
        ZRANGE z +inf -inf BYSCORE REV WITHSCORES
        ZRANGE z 5 1 BYSCORE REV LIMIT 0 2
        ZRANGEBYSCORE z -inf 3
        ZRANGEBYSCORE z (1 (4 WITHSCORES
        ZRANGEBYSCORE z 0 10 LIMIT 1 -1
        ZREVRANGE z 0 1
        ZREVRANGE z 0 1 WITHSCORES
        ZREVRANGEBYSCORE z 4 2
        ZREVRANGEBYSCORE z +inf -inf LIMIT 0 2 WITHSCORES
        ZRANGE nokey 0 -1
        ZRANGE z a b BYSCORE
        ZRANGE z 0 -1 BYLEX
    """),
    C("zsets/lex", """
        ZADD z 0 a 0 b 0 c 0 d 0 e
        ZRANGEBYLEX z - +
        ZRANGEBYLEX z [b (d
        ZRANGEBYLEX z (a + LIMIT 1 2
        ZREVRANGEBYLEX z + -
        ZREVRANGEBYLEX z [d [b
        ZRANGE z [b [d BYLEX
        ZRANGE z + - BYLEX REV LIMIT 0 2
        ZRANGEBYLEX z b d
        ZREMRANGEBYLEX z [a (c
        ZRANGE z 0 -1
    """),
    C("zsets/remove", """
        ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
        ZREM z a nosuch
        ZREMRANGEBYRANK z 0 0
        ZREMRANGEBYSCORE z (4 5
        ZRANGE z 0 -1 WITHSCORES
        ZREMRANGEBYRANK z 0 -1
        EXISTS z
        ZREM nokey a
    """),
    C("zsets/pop", """
        ZADD z 1 a 2 b 3 c 4 d
        ZPOPMIN z
        ZPOPMAX z
        ZPOPMIN z 5
        ZPOPMIN z
        EXISTS z
        ZPOPMAX nokey
        ZADD z 1 a
        ZPOPMIN z -1
        ZPOPMIN z abc
        ZADD z2 1 x 2 y
        BZPOPMIN nokey z2 1
        BZPOPMAX z2 1
        BZPOPMIN nokey 0.05
        ZMPOP 1 z MIN
        ZADD z3 1 a 2 b 3 c
        ZMPOP 2 nokey z3 MAX COUNT 2
        BZMPOP 1 1 z3 MIN
    """),
    C("zsets/store_and_algebra", """
        ZADD a 1 x 2 y 3 z
        ZADD b 10 y 20 z 30 w
        ZUNIONSTORE u 2 a b
        ZRANGE u 0 -1 WITHSCORES
        ZINTERSTORE i 2 a b WEIGHTS 2 0.5
        ZRANGE i 0 -1 WITHSCORES
        ZUNIONSTORE u 2 a b AGGREGATE MAX
        ZRANGE u 0 -1 WITHSCORES
        ZINTERSTORE i 2 a b AGGREGATE MIN
        ZRANGE i 0 -1 WITHSCORES
        ZUNION 2 a b WITHSCORES
        ZINTER 2 a b
        ZDIFF 2 a b WITHSCORES
        ZDIFFSTORE d 2 a b
        ZRANGE d 0 -1
        ZINTERCARD 2 a b
        ZRANGESTORE r a 0 1
        ZRANGE r 0 -1 WITHSCORES
        ZRANGESTORE r a 1 2 BYSCORE REV
        ZUNIONSTORE u 0 a
        ZUNIONSTORE u 2 a
        ZUNIONSTORE u 2 a b WEIGHTS 1
        ZUNIONSTORE u 2 a b AGGREGATE AVG
        SADD s y
        ZINTERSTORE i 2 a s
        ZRANGE i 0 -1 WITHSCORES
    """),
    C("zsets/zscan_zrandmember", """
        ZADD z 1 a 2 b 3 c
        {sort:1,pairs} ZSCAN z 0
        ZSCAN nokey 0
        ZADD one 7 m
        ZRANDMEMBER one
        ZRANDMEMBER one 1 WITHSCORES
        {len} ZRANDMEMBER z 2
        {len} ZRANDMEMBER z -5
        ZRANDMEMBER nokey
        ZRANDMEMBER nokey 2
    """),
    # ---------------------------------------------------------------- transactions
    C("multi/basic", """
        MULTI
        SET k 1
        INCR k
        GET k
        LPUSH l a
        EXEC
        GET k
    """),
    C("multi/errors", """
        EXEC
        DISCARD
        MULTI
        MULTI
        SET k v
        DISCARD
        GET k
        MULTI
        SET k v
        NOSUCHCOMMAND
        GET
        EXEC
        GET k
        MULTI
        SET k v
        LPUSH k x
        INCR k
        GET k
        EXEC
        MULTI
        WATCH k
        EXEC
    """),
    C("multi/empty_and_select", """
        MULTI
        EXEC
        MULTI
        SELECT 1
        SET k v
        EXEC
        GET k
        SELECT 0
        GET k
    """),
    C("multi/watch", """
        SET k 1
        {@a} WATCH k
        {@b} SET k 2
        {@a} MULTI
        {@a} INCR k
        {@a} EXEC
        {@a} GET k
        {@a} WATCH k
        {@a} MULTI
        {@a} INCR k
        {@a} EXEC
        {@a} WATCH nokey
        {@b} SET nokey x
        {@a} MULTI
        {@a} EXEC
        {@a} WATCH k
        {@a} UNWATCH
        {@b} SET k 10
        {@a} MULTI
        {@a} INCR k
        {@a} EXEC
        {@a} WATCH k other
        {@a} DISCARD
        {@a} MULTI
        {@a} DISCARD
        {@a} UNWATCH
        {@a} WATCH
    """),
    C("multi/watch_expire_and_flush", """
        SET k v PX 50
        {@a} WATCH k
        {@a,sleep=0.15} MULTI
        {@a} GET k
        {@a} EXEC
        SET w v
        {@a} WATCH w
        {@b} FLUSHALL
        {@a} MULTI
        {@a} PING
        {@a} EXEC
    """),
    # ---------------------------------------------------------------- pub/sub
    C("pubsub/subscribe_publish", """
        {@a} SUBSCRIBE ch1 ch2
        {@b} PUBLISH ch1 hello
        {@a,read}
        {@b} PUBLISH ch2 x:\\x00bin
        {@a,read}
        {@b} PUBLISH nobody x
        {@a} UNSUBSCRIBE ch1
        {@b} PUBLISH ch1 lost
        {@b} PUBLISH ch2 kept
        {@a,read}
        {@a} UNSUBSCRIBE
        {@a} UNSUBSCRIBE
        {@a} PING
        {@a} GET k
    """),
    C("pubsub/psubscribe", """
        {@a} PSUBSCRIBE news.* h?llo
        {@b} PUBLISH news.tech a
        {@a,read}
        {@b} PUBLISH hello b
        {@a,read}
        {@a} SUBSCRIBE news.tech
        {@b} PUBLISH news.tech c
        {@a,read}
        {@a,read}
        {@a} PUNSUBSCRIBE news.*
        {@a} PUNSUBSCRIBE
        {@a} UNSUBSCRIBE
    """),
    C("pubsub/subscribed_context", """
        {@a} SUBSCRIBE ch
        {@a} PING
        {@a} PING hi
        {@a} GET k
        {@a} SET k v
        {@a} SUBSCRIBE
        {@a} RESET
        {@a} GET k
    """),
    C("pubsub/introspection", """
        {@a} SUBSCRIBE c1 c2
        {@b} SUBSCRIBE c2
        {@c} PSUBSCRIBE p*
        {@d,sort} PUBSUB CHANNELS
        {@d} PUBSUB CHANNELS c1*
        {@d} PUBSUB NUMSUB c1 c2 c3
        {@d} PUBSUB NUMSUB
        {@d} PUBSUB NUMPAT
        {@d} PUBLISH c2 m
        {@d} PUBSUB FOO
    """),
    # ---------------------------------------------------------------- server
    C("server/config_get_set", """
        CONFIG GET maxmemory
        CONFIG GET maxmemory-policy
        {pairs} CONFIG GET maxmemory*
        CONFIG GET nosuchparameter
        CONFIG SET maxmemory-policy allkeys-lru
        CONFIG GET maxmemory-policy
        CONFIG SET maxmemory-policy noeviction
        CONFIG SET maxmemory-policy nosuch
        CONFIG SET nosuchparameter 1
        CONFIG SET maxmemory abc
        CONFIG SET maxmemory 100mb
        CONFIG GET maxmemory
        CONFIG SET maxmemory 0
        {pairs} CONFIG GET save appendonly
        {maskfield=port,pairs} CONFIG GET port bind
        CONFIG SET
        CONFIG GET
        CONFIG RESETSTAT
    """),
    C("server/info_time_dbsize", """
        {mask} INFO
        {mask} INFO server
        {mask} INFO keyspace
        {mask} INFO nosuchsection
        {len} TIME
        DBSIZE
        TIME x
    """),
    C("server/command_introspection", """
        {mask} COMMAND COUNT
        COMMAND INFO nosuchcommand
        {mask} COMMAND INFO get
        COMMAND FOO
    """),
    C("server/debug_memory", """
        DEBUG SLEEP 0
        SET k v
        {mask} MEMORY USAGE k
        MEMORY USAGE nokey
        MEMORY FOO
    """),
]

# Commands of the foundation issue (issue 2), for COMMAND INFO checks: name, arity,
# flags and key positions must be Redis's (redis-cli and client libraries rely on them).
COMMAND_SCOPE = """
get set mget mset msetnx setnx setex psetex getset getdel getex append strlen getrange
setrange incr decr incrby decrby incrbyfloat
del unlink exists type expire pexpire expireat pexpireat ttl pttl expiretime pexpiretime
persist keys scan rename renamenx randomkey dbsize select swapdb move copy flushdb flushall
touch object
lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove
rpoplpush lmpop blpop brpop blmove brpoplpush blmpop
hset hsetnx hget hmget hmset hgetall hdel hlen hexists hkeys hvals hincrby hincrbyfloat
hstrlen hrandfield hscan
sadd srem smembers sismember smismember scard spop srandmember smove sinter sunion sdiff
sinterstore sunionstore sdiffstore sintercard sscan
zadd zincrby zscore zmscore zcard zcount zlexcount zrange zrangebyscore zrevrange
zrevrangebyscore zrangebylex zrevrangebylex zrank zrevrank zrem zremrangebyrank
zremrangebyscore zremrangebylex zpopmin zpopmax bzpopmin bzpopmax zmpop bzmpop zunionstore
zinterstore zdiffstore zunion zinter zdiff zintercard zrangestore zscan zrandmember
multi exec discard watch unwatch
publish subscribe psubscribe unsubscribe punsubscribe pubsub
ping echo hello auth quit reset client info config command time shutdown debug memory
""".split()
