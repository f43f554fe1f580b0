//! The reply writer handed to every command: RESP bytes appended to the connection's
//! output buffer, shaped for the session's protocol version.

use tandem_resp::{encode, Proto};

/// Appends one reply (possibly nested) to an output buffer.
pub struct Reply<'a> {
    out: &'a mut Vec<u8>,
    proto: Proto,
}

impl<'a> Reply<'a> {
    /// A writer over `out` for protocol `proto`.
    pub fn new(out: &'a mut Vec<u8>, proto: Proto) -> Self {
        Reply { out, proto }
    }
    /// The session's protocol.
    pub fn proto(&self) -> Proto {
        self.proto
    }
    /// Switches protocol (HELLO, RESET) for what follows.
    pub fn set_proto(&mut self, proto: Proto) {
        self.proto = proto;
    }
    /// Bytes written so far to the underlying buffer.
    pub fn len(&self) -> usize {
        self.out.len()
    }
    /// Whether the underlying buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
    /// Cuts the buffer back to `len` bytes (drops a partly written reply).
    pub fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }
    /// Raw access for encoders that need it.
    pub fn raw(&mut self) -> &mut Vec<u8> {
        self.out
    }
    /// `+OK`
    pub fn ok(&mut self) {
        encode::ok(self.out)
    }
    /// `+text`
    pub fn simple(&mut self, s: &str) {
        encode::simple(self.out, s.as_bytes())
    }
    /// `-CODE message` (the text starts with its code).
    pub fn error(&mut self, msg: &str) {
        encode::error(self.out, msg)
    }
    /// `:n`
    pub fn int(&mut self, v: i64) {
        encode::int(self.out, v)
    }
    /// A bulk string.
    pub fn bulk(&mut self, b: &[u8]) {
        encode::bulk(self.out, b)
    }
    /// A bulk string of a number's decimal form.
    pub fn bulk_int(&mut self, v: i64) {
        encode::bulk_int(self.out, v)
    }
    /// A null bulk (`$-1` / `_`).
    pub fn null(&mut self) {
        encode::null(self.out, self.proto)
    }
    /// A null array (`*-1` / `_`).
    pub fn null_array(&mut self) {
        encode::null_array(self.out, self.proto)
    }
    /// Array header of `n` elements.
    pub fn array(&mut self, n: usize) {
        encode::array(self.out, n)
    }
    /// Map header of `n` pairs (flat array in RESP2).
    pub fn map(&mut self, n: usize) {
        encode::map(self.out, n, self.proto)
    }
    /// Set header of `n` members (array in RESP2).
    pub fn set(&mut self, n: usize) {
        encode::set(self.out, n, self.proto)
    }
    /// Push header (pub/sub; array in RESP2).
    pub fn push(&mut self, n: usize) {
        encode::push(self.out, n, self.proto)
    }
    /// A double, as Redis 7.0 formats it.
    pub fn double(&mut self, v: f64) {
        encode::double(self.out, v, self.proto)
    }
    /// A boolean (`:1`/`:0` in RESP2).
    pub fn boolean(&mut self, v: bool) {
        encode::boolean(self.out, v, self.proto)
    }
    /// Verbatim text (INFO, CLIENT LIST).
    pub fn verbatim(&mut self, text: &[u8]) {
        encode::verbatim(self.out, text, self.proto)
    }
    /// An array of bulk strings.
    pub fn bulks<I, B>(&mut self, items: I)
    where
        I: IntoIterator<Item = B>,
        I::IntoIter: ExactSizeIterator,
        B: AsRef<[u8]>,
    {
        let it = items.into_iter();
        self.array(it.len());
        for b in it {
            self.bulk(b.as_ref());
        }
    }
}
