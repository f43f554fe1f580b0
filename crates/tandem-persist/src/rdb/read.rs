//! The RDB reader: one parser over two sources, a byte slice (a memory-mapped file) and
//! any `io::Read` (a socket).
//!
//! The parser works on indices into the source's buffer, never on long-lived slices, so
//! a reading source may grow (reallocate) its buffer in the middle of a value. Each
//! entry is parsed completely — every listpack, ziplist and intset inside it decoded and
//! checked — before the visitor sees it, so a visitor never receives half a value. The
//! decoded elements go to a reusable "tape" of positions (input, decompression arena,
//! integer, score), from which [`RdbValue`] views are built without copying.

use std::io::{self, Read};

use super::value::{
    fmt_i64, Atom, Elements, OwnedValue, Pairs, RdbValue, ScoredMembers, Store, Str,
};
use super::{
    opcode, rtype, Entry, RdbError, RdbErrorKind, RdbVisitor, SkipReason, Skipped, VisitError,
    RDB_VERSION,
};
use crate::listpack::{self, LpEntry};
use crate::{crc64, intset, lzf, ziplist, FormatError};

/// Reader settings.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Verify the CRC-64 at the end (`rdbchecksum yes`). A stored checksum of 0 means
    /// "written without a checksum" and is never verified.
    pub verify_checksum: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            verify_checksum: true,
        }
    }
}

/// What the checksum at the end of the file said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Checksum {
    /// Present and correct.
    Verified(u64),
    /// Stored as 0: written with `rdbchecksum no`, nothing to check.
    Disabled,
    /// Present but not checked ([`ReadOptions::verify_checksum`] off).
    NotVerified(u64),
    /// Version below 5: files had no checksum.
    #[default]
    Absent,
}

/// Totals of a successful parse.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdbSummary {
    /// The file's RDB version.
    pub version: u32,
    /// Offset just past the file's last byte (the checksum): where a following AOF tail
    /// or replication stream starts.
    pub end: u64,
    /// The checksum outcome.
    pub checksum: Checksum,
    /// Entries handed to [`RdbVisitor::entry`].
    pub keys: u64,
    /// Of those, how many had an expire time.
    pub expires: u64,
    /// Keys parsed but skipped (streams, empty collections).
    pub skipped: u64,
}

trait Input {
    fn data(&self) -> &[u8];
    /// Makes `data().len() >= end`, or fails with `UnexpectedEof` / `Io`.
    fn fill(&mut self, end: usize) -> Result<(), RdbErrorKind>;
    /// Drops the first `n` bytes if the source can; returns how many it dropped.
    fn discard(&mut self, n: usize) -> usize;
}

struct SliceInput<'a>(&'a [u8]);

impl Input for SliceInput<'_> {
    #[inline(always)]
    fn data(&self) -> &[u8] {
        self.0
    }
    fn fill(&mut self, _end: usize) -> Result<(), RdbErrorKind> {
        Err(RdbErrorKind::UnexpectedEof)
    }
    fn discard(&mut self, _n: usize) -> usize {
        0
    }
}

struct ReadInput<R> {
    r: R,
    /// Initialized bytes; `buf[..valid]` holds data, the rest is reusable space (so a
    /// stream that arrives in small reads does not re-zero a chunk per read).
    buf: Vec<u8>,
    valid: usize,
    eof: bool,
}

const READ_CHUNK: usize = 64 * 1024;
const MAX_CHUNK: usize = 4 * 1024 * 1024;
const COMPACT_AT: usize = 1024 * 1024;

impl<R: Read> Input for ReadInput<R> {
    #[inline(always)]
    fn data(&self) -> &[u8] {
        &self.buf[..self.valid]
    }
    fn fill(&mut self, end: usize) -> Result<(), RdbErrorKind> {
        while self.valid < end {
            if self.eof {
                return Err(RdbErrorKind::UnexpectedEof);
            }
            // Grow by what is missing, but never by more than MAX_CHUNK at once: a
            // length in the stream is only a claim until its bytes arrive.
            let chunk = (end - self.valid).clamp(READ_CHUNK, MAX_CHUNK);
            if self.buf.len() < self.valid + chunk {
                self.buf.resize(self.valid + chunk, 0);
            }
            let room = self.buf.len() - self.valid;
            match self
                .r
                .read(&mut self.buf[self.valid..self.valid + room.min(MAX_CHUNK)])
            {
                Ok(0) => self.eof = true,
                Ok(n) => self.valid += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RdbErrorKind::Io(e)),
            }
        }
        Ok(())
    }
    fn discard(&mut self, n: usize) -> usize {
        self.buf.copy_within(n..self.valid, 0);
        self.valid -= n;
        n
    }
}

#[derive(Clone, Copy)]
enum Blob {
    In(usize, usize),
    Ar(usize, usize),
}

enum Shape {
    String(Atom),
    List,
    Set,
    Hash,
    ZSet,
    Stream(u64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pairing {
    /// Every entry is an element.
    Single,
    /// Entries alternate field, value.
    Pairs,
    /// Entries alternate member, score (converted to a number).
    Scores,
}

struct Parser<I> {
    inp: I,
    pos: usize,
    /// Absolute file offset of `inp.data()[0]`.
    base: u64,
    crc: u64,
    crc_upto: usize,
    verify: bool,
    arena: Vec<u8>,
    tape: Vec<Atom>,
    keybuf: [u8; 20],
}

type Res<T> = Result<T, RdbError>;

fn parse_score(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

impl<I: Input> Parser<I> {
    fn new(inp: I, verify: bool) -> Self {
        Parser {
            inp,
            pos: 0,
            base: 0,
            crc: 0,
            crc_upto: 0,
            verify,
            arena: Vec::new(),
            tape: Vec::new(),
            keybuf: [0; 20],
        }
    }

    #[inline]
    fn off(&self, at: usize) -> u64 {
        self.base + at as u64
    }

    #[inline]
    fn err(&self, at: usize, kind: RdbErrorKind) -> RdbError {
        RdbError::new(self.off(at), kind)
    }

    #[inline(always)]
    fn need(&mut self, n: usize) -> Res<()> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.inp.data().len() => Ok(()),
            Some(end) => self
                .inp
                .fill(end)
                .map_err(|k| RdbError::new(self.base + self.inp.data().len() as u64, k)),
            None => Err(self.err(self.inp.data().len(), RdbErrorKind::UnexpectedEof)),
        }
    }

    #[inline(always)]
    fn u8(&mut self) -> Res<u8> {
        self.need(1)?;
        let b = self.inp.data()[self.pos];
        self.pos += 1;
        Ok(b)
    }

    #[inline(always)]
    fn take(&mut self, n: usize) -> Res<usize> {
        self.need(n)?;
        let s = self.pos;
        self.pos += n;
        Ok(s)
    }

    #[inline(always)]
    fn arr<const N: usize>(&mut self) -> Res<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&self.inp.data()[s..s + N]);
        Ok(a)
    }

    /// A length or, with `true`, a special encoding number (`11xxxxxx`).
    #[inline(always)]
    fn len_enc(&mut self) -> Res<(u64, bool)> {
        let at = self.pos;
        let b = self.u8()?;
        match b >> 6 {
            0 => Ok((u64::from(b & 0x3f), false)),
            1 => {
                let b2 = self.u8()?;
                Ok(((u64::from(b & 0x3f) << 8) | u64::from(b2), false))
            }
            3 => Ok((u64::from(b & 0x3f), true)),
            _ => match b {
                0x80 => Ok((u64::from(u32::from_be_bytes(self.arr()?)), false)),
                0x81 => Ok((u64::from_be_bytes(self.arr()?), false)),
                _ => Err(self.err(at, RdbErrorKind::BadLength(b))),
            },
        }
    }

    fn length(&mut self) -> Res<u64> {
        let at = self.pos;
        match self.len_enc()? {
            (v, false) => Ok(v),
            (_, true) => Err(self.err(at, RdbErrorKind::EncodedLength)),
        }
    }

    /// A length used as a byte count or element count. Counts beyond `usize` cannot be
    /// satisfied by any input, so they read as a truncated file.
    fn size(&mut self) -> Res<usize> {
        let v = self.length()?;
        usize::try_from(v).map_err(|_| self.err(self.pos, RdbErrorKind::UnexpectedEof))
    }

    fn string(&mut self) -> Res<Atom> {
        let at = self.pos;
        let (v, enc) = self.len_enc()?;
        if !enc {
            let n = usize::try_from(v).map_err(|_| self.err(at, RdbErrorKind::UnexpectedEof))?;
            let s = self.take(n)?;
            return Ok(Atom::In(s, n));
        }
        match v {
            0 => Ok(Atom::Int(i64::from(self.u8()? as i8))),
            1 => Ok(Atom::Int(i64::from(i16::from_le_bytes(self.arr()?)))),
            2 => Ok(Atom::Int(i64::from(i32::from_le_bytes(self.arr()?)))),
            3 => {
                let clen = self.size()?;
                let ulen = self.size()?;
                let s = self.take(clen)?;
                if ulen > clen.saturating_mul(lzf::MAX_EXPANSION) {
                    return Err(self.err(at, RdbErrorKind::LzfTooLarge));
                }
                let a0 = self.arena.len();
                let data = &self.inp.data()[s..s + clen];
                if let Err(e) = lzf::decompress_into(data, ulen, &mut self.arena) {
                    return Err(self.err(s, RdbErrorKind::Lzf(e)));
                }
                Ok(Atom::Ar(a0, ulen))
            }
            _ => Err(self.err(at, RdbErrorKind::UnknownStringEncoding(v as u8))),
        }
    }

    /// A string that holds an encoded container (listpack, intset …).
    fn blob(&mut self) -> Res<(Blob, usize)> {
        let at = self.pos;
        match self.string()? {
            Atom::In(s, l) => Ok((Blob::In(s, l), at)),
            Atom::Ar(s, l) => Ok((Blob::Ar(s, l), at)),
            _ => Err(self.err(
                at,
                RdbErrorKind::Corrupt("integer where an encoded value was expected"),
            )),
        }
    }

    fn corrupt(&self, blob: Blob, at: usize, e: FormatError) -> RdbError {
        let off = match blob {
            Blob::In(s, _) => self.off(s + e.pos),
            Blob::Ar(..) => self.off(at),
        };
        RdbError::new(off, RdbErrorKind::Corrupt(e.what))
    }

    /// Decodes a listpack or ziplist blob onto the tape.
    fn decode_list_blob(
        &mut self,
        blob: Blob,
        at: usize,
        ziplist: bool,
        pairing: Pairing,
    ) -> Res<usize> {
        let Parser {
            inp, arena, tape, ..
        } = self;
        let (data, base, in_arena) = match blob {
            Blob::In(s, l) => (&inp.data()[s..s + l], s, false),
            Blob::Ar(s, l) => (&arena[s..s + l], s, true),
        };
        let mut i = 0usize;
        let push = |e: LpEntry| -> Result<(), FormatError> {
            let atom = match e {
                LpEntry::Int(v) if pairing == Pairing::Scores && i % 2 == 1 => Atom::Num(v as f64),
                LpEntry::Str { off, len } if pairing == Pairing::Scores && i % 2 == 1 => {
                    match parse_score(&data[off..off + len]) {
                        Some(v) if !v.is_nan() => Atom::Num(v),
                        _ => return Err(FormatError::new(off, "invalid sorted set score")),
                    }
                }
                LpEntry::Int(v) => Atom::Int(v),
                LpEntry::Str { off, len } if in_arena => Atom::Ar(base + off, len),
                LpEntry::Str { off, len } => Atom::In(base + off, len),
            };
            tape.push(atom);
            i += 1;
            Ok(())
        };
        let r = if ziplist {
            ziplist::for_each(data, push)
        } else {
            listpack::for_each(data, push)
        };
        let n = r.map_err(|e| self.corrupt(blob, at, e))?;
        if pairing != Pairing::Single && n % 2 == 1 {
            return Err(self.corrupt(
                blob,
                at,
                FormatError::new(0, "odd number of entries in a paired encoding"),
            ));
        }
        Ok(n)
    }

    fn value(&mut self, t: u8) -> Res<Shape> {
        let at = self.pos;
        Ok(match t {
            rtype::STRING => Shape::String(self.string()?),
            rtype::LIST | rtype::SET => {
                let n = self.length()?;
                for _ in 0..n {
                    let a = self.string()?;
                    self.tape.push(a);
                }
                if t == rtype::LIST {
                    Shape::List
                } else {
                    Shape::Set
                }
            }
            rtype::HASH => {
                let n = self.length()?;
                for _ in 0..n {
                    let f = self.string()?;
                    let v = self.string()?;
                    self.tape.push(f);
                    self.tape.push(v);
                }
                Shape::Hash
            }
            rtype::ZSET | rtype::ZSET_2 => {
                let n = self.length()?;
                for _ in 0..n {
                    let m = self.string()?;
                    let sat = self.pos;
                    let score = if t == rtype::ZSET_2 {
                        f64::from_le_bytes(self.arr()?)
                    } else {
                        self.string_double()?
                    };
                    if score.is_nan() {
                        return Err(
                            self.err(sat, RdbErrorKind::Corrupt("zset with NAN score detected"))
                        );
                    }
                    self.tape.push(m);
                    self.tape.push(Atom::Num(score));
                }
                Shape::ZSet
            }
            rtype::HASH_ZIPMAP => {
                let (blob, bat) = self.blob()?;
                let Parser {
                    inp, arena, tape, ..
                } = self;
                let (data, base, in_arena) = match blob {
                    Blob::In(s, l) => (&inp.data()[s..s + l], s, false),
                    Blob::Ar(s, l) => (&arena[s..s + l], s, true),
                };
                let mk = |o: usize, l: usize| {
                    if in_arena {
                        Atom::Ar(base + o, l)
                    } else {
                        Atom::In(base + o, l)
                    }
                };
                let r = ziplist::zipmap_for_each(data, |ko, kl, vo, vl| {
                    tape.push(mk(ko, kl));
                    tape.push(mk(vo, vl));
                    Ok(())
                });
                r.map_err(|e| self.corrupt(blob, bat, e))?;
                Shape::Hash
            }
            rtype::LIST_ZIPLIST => {
                let (blob, bat) = self.blob()?;
                self.decode_list_blob(blob, bat, true, Pairing::Single)?;
                Shape::List
            }
            rtype::ZSET_ZIPLIST | rtype::ZSET_LISTPACK => {
                let (blob, bat) = self.blob()?;
                self.decode_list_blob(blob, bat, t == rtype::ZSET_ZIPLIST, Pairing::Scores)?;
                Shape::ZSet
            }
            rtype::HASH_ZIPLIST | rtype::HASH_LISTPACK => {
                let (blob, bat) = self.blob()?;
                self.decode_list_blob(blob, bat, t == rtype::HASH_ZIPLIST, Pairing::Pairs)?;
                Shape::Hash
            }
            rtype::SET_INTSET => {
                let (blob, bat) = self.blob()?;
                let data = match blob {
                    Blob::In(s, l) => &self.inp.data()[s..s + l],
                    Blob::Ar(s, l) => &self.arena[s..s + l],
                };
                match intset::validate(data) {
                    Ok((width, count)) => {
                        for i in 0..count {
                            self.tape.push(Atom::Int(intset::get(data, width, i)));
                        }
                    }
                    Err(e) => return Err(self.corrupt(blob, bat, e)),
                }
                Shape::Set
            }
            rtype::LIST_QUICKLIST | rtype::LIST_QUICKLIST_2 => {
                let n = self.length()?;
                for _ in 0..n {
                    let container = if t == rtype::LIST_QUICKLIST_2 {
                        let cat = self.pos;
                        let c = self.length()?;
                        if c != 1 && c != 2 {
                            return Err(self.err(
                                cat,
                                RdbErrorKind::Corrupt(
                                    "quicklist integrity check failed (bad container)",
                                ),
                            ));
                        }
                        c
                    } else {
                        2
                    };
                    if container == 1 {
                        let a = self.string()?;
                        self.tape.push(a);
                        continue;
                    }
                    let (blob, bat) = self.blob()?;
                    let len = match blob {
                        Blob::In(_, l) | Blob::Ar(_, l) => l,
                    };
                    if len == 0 {
                        return Err(self.err(
                            bat,
                            RdbErrorKind::Corrupt("quicklist integrity check failed (empty node)"),
                        ));
                    }
                    self.decode_list_blob(blob, bat, t == rtype::LIST_QUICKLIST, Pairing::Single)?;
                }
                Shape::List
            }
            rtype::STREAM_LISTPACKS | rtype::STREAM_LISTPACKS_2 => {
                Shape::Stream(self.skip_stream(t)?)
            }
            _ => return Err(self.err(at, RdbErrorKind::UnknownType(t))),
        })
    }

    /// A double in the old string form: length byte (253 nan, 254 +inf, 255 -inf) + text.
    fn string_double(&mut self) -> Res<f64> {
        let at = self.pos;
        let l = self.u8()?;
        Ok(match l {
            255 => f64::NEG_INFINITY,
            254 => f64::INFINITY,
            253 => f64::NAN,
            _ => {
                let s = self.take(usize::from(l))?;
                parse_score(&self.inp.data()[s..s + usize::from(l)])
                    .ok_or_else(|| self.err(at, RdbErrorKind::Corrupt("invalid double value")))?
            }
        })
    }

    /// Parses a stream completely and returns its length.
    fn skip_stream(&mut self, t: u8) -> Res<u64> {
        let v2 = t == rtype::STREAM_LISTPACKS_2;
        // The key may live in the arena: keep it, drop only what the stream adds.
        let mark = self.arena.len();
        let nodes = self.length()?;
        for _ in 0..nodes {
            let at = self.pos;
            let id = self.string()?;
            if !matches!(id, Atom::In(_, 16) | Atom::Ar(_, 16)) {
                return Err(self.err(
                    at,
                    RdbErrorKind::Corrupt("stream node key entry is not the size of a stream ID"),
                ));
            }
            let (blob, bat) = self.blob()?;
            let tape0 = self.tape.len();
            let n = self.decode_list_blob(blob, bat, false, Pairing::Single)?;
            self.tape.truncate(tape0);
            if n == 0 {
                return Err(self.err(bat, RdbErrorKind::Corrupt("empty listpack inside stream")));
            }
            self.arena.truncate(mark);
        }
        let length = self.length()?;
        self.length()?; // last id ms
        self.length()?; // last id seq
        if v2 {
            for _ in 0..5 {
                self.length()?; // first id, max deleted id, entries added
            }
        }
        let groups = self.length()?;
        for _ in 0..groups {
            self.string()?; // name
            self.length()?;
            self.length()?; // last id
            if v2 {
                self.length()?; // entries read
            }
            let pel = self.length()?;
            for _ in 0..pel {
                self.take(16)?; // id
                self.take(8)?; // delivery time
                self.length()?; // delivery count
            }
            let consumers = self.length()?;
            for _ in 0..consumers {
                self.string()?; // name
                self.take(8)?; // seen time
                let pel = self.length()?;
                for _ in 0..pel {
                    self.take(16)?;
                }
            }
            self.arena.truncate(mark);
        }
        Ok(length)
    }

    /// Drops consumed bytes from a reading source, folding them into the checksum first.
    fn compact(&mut self) {
        if self.pos < COMPACT_AT {
            return;
        }
        if self.verify {
            self.crc = crc64::update(self.crc, &self.inp.data()[self.crc_upto..self.pos]);
        }
        let dropped = self.inp.discard(self.pos);
        if dropped > 0 {
            self.base += dropped as u64;
            self.pos -= dropped;
            self.crc_upto = self.pos;
        } else {
            self.crc_upto = self.pos;
        }
    }

    fn atom_bytes<'s>(store: &Store<'s>, a: Atom, buf: &'s mut [u8; 20]) -> &'s [u8] {
        match store.str(a) {
            Str::Bytes(b) => b,
            Str::Int(v) => fmt_i64(v, buf),
        }
    }

    fn run<V: RdbVisitor + ?Sized>(&mut self, v: &mut V) -> Res<RdbSummary> {
        self.need(9)?;
        let head = &self.inp.data()[..9];
        if &head[..5] != b"REDIS" {
            return Err(self.err(0, RdbErrorKind::BadMagic));
        }
        let digits = &head[5..9];
        let version = if digits.iter().all(u8::is_ascii_digit) {
            digits
                .iter()
                .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'))
        } else {
            0
        };
        if version == 0 || version > RDB_VERSION {
            return Err(self.err(5, RdbErrorKind::UnsupportedVersion(version)));
        }
        self.pos = 9;
        let mut summary = RdbSummary {
            version,
            ..Default::default()
        };
        let mut db = 0u64;
        let mut expire: Option<i64> = None;
        let mut idle: Option<u64> = None;
        let mut freq: Option<u8> = None;
        let mut item_start = self.pos;
        let visit = |r: Result<(), VisitError>, at: u64| {
            r.map_err(|e| RdbError::new(at, RdbErrorKind::Visitor(e)))
        };
        loop {
            if expire.is_none() && idle.is_none() && freq.is_none() {
                self.compact();
                item_start = self.pos;
            }
            self.arena.clear();
            self.tape.clear();
            let op_at = self.pos;
            let t = self.u8()?;
            match t {
                opcode::EXPIRETIME_MS => expire = Some(i64::from_le_bytes(self.arr()?)),
                opcode::EXPIRETIME => {
                    expire = Some(i64::from(i32::from_le_bytes(self.arr()?)) * 1000)
                }
                opcode::FREQ => freq = Some(self.u8()?),
                opcode::IDLE => idle = Some(self.length()?),
                opcode::EOF => break,
                opcode::SELECTDB => {
                    db = self.length()?;
                    visit(v.select_db(db), self.off(op_at))?;
                }
                opcode::RESIZEDB => {
                    let keys = self.length()?;
                    let expires = self.length()?;
                    visit(v.resize_db(keys, expires), self.off(op_at))?;
                }
                opcode::AUX => {
                    let k = self.string()?;
                    let val = self.string()?;
                    let store = Store {
                        input: self.inp.data(),
                        arena: &self.arena,
                    };
                    let mut b1 = [0u8; 20];
                    let mut b2 = [0u8; 20];
                    let kb = Self::atom_bytes(&store, k, &mut b1);
                    let vb = Self::atom_bytes(&store, val, &mut b2);
                    visit(v.aux(kb, vb), self.off(op_at))?;
                }
                opcode::FUNCTION2 => {
                    let code = self.string()?;
                    let store = Store {
                        input: self.inp.data(),
                        arena: &self.arena,
                    };
                    let mut b1 = [0u8; 20];
                    visit(
                        v.function(Self::atom_bytes(&store, code, &mut b1)),
                        self.off(op_at),
                    )?;
                }
                opcode::FUNCTION_PRE_GA => {
                    return Err(self.err(op_at, RdbErrorKind::PreReleaseFunction))
                }
                opcode::MODULE_AUX => return Err(self.err(op_at, RdbErrorKind::Module)),
                rtype::MODULE_PRE_GA | rtype::MODULE_2 => {
                    return Err(self.err(op_at, RdbErrorKind::Module))
                }
                8 | 20.. => return Err(self.err(op_at, RdbErrorKind::UnknownType(t))),
                _ => {
                    let key = self.string()?;
                    let shape = match self.value(t) {
                        Ok(s) => s,
                        Err(mut e) => {
                            let store = Store {
                                input: self.inp.data(),
                                arena: &self.arena,
                            };
                            e.key = Some(store.str(key).to_vec());
                            e.rdb_type = Some(t);
                            return Err(e);
                        }
                    };
                    let offset = self.off(item_start);
                    let Parser {
                        inp,
                        arena,
                        tape,
                        keybuf,
                        ..
                    } = &mut *self;
                    let store = Store {
                        input: inp.data(),
                        arena,
                    };
                    let kb = Self::atom_bytes(&store, key, keybuf);
                    let atoms = &tape[..];
                    let value = match shape {
                        Shape::String(a) => Some(RdbValue::String(store.str(a))),
                        Shape::List => Some(RdbValue::List(Elements { store, atoms })),
                        Shape::Set => Some(RdbValue::Set(Elements { store, atoms })),
                        Shape::Hash => Some(RdbValue::Hash(Pairs { store, atoms })),
                        Shape::ZSet => Some(RdbValue::ZSet(ScoredMembers { store, atoms })),
                        Shape::Stream(_) => None,
                    };
                    match value {
                        Some(value)
                            if !atoms.is_empty() || matches!(value, RdbValue::String(_)) =>
                        {
                            summary.keys += 1;
                            summary.expires += u64::from(expire.is_some());
                            visit(
                                v.entry(Entry {
                                    db,
                                    key: kb,
                                    value,
                                    expire_ms: expire,
                                    lru_idle: idle,
                                    lfu_freq: freq,
                                    rdb_type: t,
                                    offset,
                                }),
                                offset,
                            )?;
                        }
                        _ => {
                            let reason = match shape {
                                Shape::Stream(entries) => SkipReason::Stream { entries },
                                _ => SkipReason::Empty,
                            };
                            summary.skipped += 1;
                            visit(
                                v.skipped(Skipped {
                                    db,
                                    key: kb,
                                    reason,
                                    rdb_type: t,
                                    expire_ms: expire,
                                    offset,
                                }),
                                offset,
                            )?;
                        }
                    }
                    expire = None;
                    idle = None;
                    freq = None;
                }
            }
        }
        let ff_end = self.pos;
        if version >= 5 {
            let stored = u64::from_le_bytes(self.arr()?);
            summary.checksum = if !self.verify {
                Checksum::NotVerified(stored)
            } else if stored == 0 {
                Checksum::Disabled
            } else {
                let computed = crc64::update(self.crc, &self.inp.data()[self.crc_upto..ff_end]);
                if computed != stored {
                    return Err(self.err(ff_end, RdbErrorKind::Checksum { computed, stored }));
                }
                Checksum::Verified(stored)
            };
        }
        summary.end = self.off(self.pos);
        Ok(summary)
    }
}

/// Parses an RDB held in memory (typically a file mapped with [`crate::map_file`]).
/// Bytes after the end of the RDB are left alone: [`RdbSummary::end`] says where it
/// ended (an AOF base file continues with commands there).
pub fn read_slice<V: RdbVisitor + ?Sized>(
    data: &[u8],
    visitor: &mut V,
    opts: &ReadOptions,
) -> Result<RdbSummary, RdbError> {
    Parser::new(SliceInput(data), opts.verify_checksum).run(visitor)
}

/// Maps the file at `path` and parses it with [`read_slice`]: the loader of a
/// `dump.rdb` at start-up. A file that cannot be opened or mapped is an
/// [`RdbErrorKind::Io`] error at offset 0.
#[allow(unsafe_code)]
pub fn read_file<V: RdbVisitor + ?Sized>(
    path: &std::path::Path,
    visitor: &mut V,
    opts: &ReadOptions,
) -> Result<RdbSummary, RdbError> {
    // SAFETY: RDB files are replaced by rename (never written in place) and only
    // loaded by the process that owns them, so nothing changes or truncates the
    // mapped file while it is read.
    let map =
        unsafe { crate::map_file(path) }.map_err(|e| RdbError::new(0, RdbErrorKind::Io(e)))?;
    read_slice(&map, visitor, opts)
}

/// Parses an RDB from a stream. The reader reads ahead in chunks, so bytes that follow
/// the RDB may have been read already: they are returned with the summary (for a
/// replica, the start of its master's command stream or the `$EOF:` mark). Wrap the
/// reader in [`Read::take`] to stop exactly at a known length.
pub fn read_from<R: Read, V: RdbVisitor + ?Sized>(
    reader: R,
    visitor: &mut V,
    opts: &ReadOptions,
) -> Result<(RdbSummary, Vec<u8>), RdbError> {
    let mut p = Parser::new(
        ReadInput {
            r: reader,
            buf: Vec::with_capacity(READ_CHUNK),
            valid: 0,
            eof: false,
        },
        opts.verify_checksum,
    );
    let summary = p.run(visitor)?;
    let valid = p.inp.valid;
    let rest = p.inp.buf[p.pos..valid].to_vec();
    Ok((summary, rest))
}

/// One entry of a [`Collected`] file.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectedEntry {
    /// Database.
    pub db: u64,
    /// Key.
    pub key: Vec<u8>,
    /// Value.
    pub value: OwnedValue,
    /// Expire time in Unix ms.
    pub expire_ms: Option<i64>,
    /// Type byte in the file.
    pub rdb_type: u8,
}

/// A whole RDB file read into owned values (tests, tools, small files).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Collected {
    /// AUX fields in order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Function libraries.
    pub functions: Vec<Vec<u8>>,
    /// `(db, keys, expires)` of each RESIZEDB.
    pub resize: Vec<(u64, u64, u64)>,
    /// Entries in file order.
    pub entries: Vec<CollectedEntry>,
    /// Skipped keys: db, key, reason.
    pub skipped: Vec<(u64, Vec<u8>, SkipReason)>,
    /// Totals.
    pub summary: RdbSummary,
    db: u64,
}

impl RdbVisitor for Collected {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        self.aux.push((key.to_vec(), value.to_vec()));
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> Result<(), VisitError> {
        self.functions.push(code.to_vec());
        Ok(())
    }
    fn select_db(&mut self, db: u64) -> Result<(), VisitError> {
        self.db = db;
        Ok(())
    }
    fn resize_db(&mut self, keys: u64, expires: u64) -> Result<(), VisitError> {
        self.resize.push((self.db, keys, expires));
        Ok(())
    }
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        self.entries.push(CollectedEntry {
            db: e.db,
            key: e.key.to_vec(),
            value: e.value.to_owned(),
            expire_ms: e.expire_ms,
            rdb_type: e.rdb_type,
        });
        Ok(())
    }
    fn skipped(&mut self, s: Skipped<'_>) -> Result<(), VisitError> {
        self.skipped.push((s.db, s.key.to_vec(), s.reason));
        Ok(())
    }
}

/// Reads a whole RDB held in memory into owned values.
pub fn collect(data: &[u8]) -> Result<Collected, RdbError> {
    let mut c = Collected::default();
    c.summary = read_slice(data, &mut c, &ReadOptions::default())?;
    Ok(c)
}
