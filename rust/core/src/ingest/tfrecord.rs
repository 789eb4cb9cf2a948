//! TFRecord framing, streamed: `u64 LE length`, `u32 LE masked CRC-32C of the length bytes`,
//! the payload, `u32 LE masked CRC-32C of the payload`.
//!
//! A payload whose checksum fails is skipped (its length was verified, so the next record
//! is still found); a length whose checksum fails, an absurd length or a file that ends
//! inside a record stop the file there. Each case is reported as an [`InputProblem`].

use std::io::{self, Read};

use super::crc32c::masked_crc32c;
use super::problem::{InputProblem, ProblemKind};

/// Records longer than this are taken for corruption (real event records are bytes to
/// kilobytes; this bounds the memory a corrupt length can make us allocate).
pub const MAX_RECORD: u64 = 64 << 20;

/// What [`Frames::next_frame`] found.
#[derive(Debug)]
pub enum Frame<'a> {
    /// A record whose checksums hold, at this byte offset.
    Record(u64, &'a [u8]),
    /// A problem; framing continues after a payload checksum failure and stops otherwise.
    Problem(InputProblem),
}

/// Streaming TFRecord reader over any byte source.
#[derive(Debug)]
pub struct Frames<R> {
    src: R,
    offset: u64,
    buf: Vec<u8>,
    done: bool,
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_full<R: Read>(src: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match src.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl<R: Read> Frames<R> {
    /// Frames of `src` (wrap files in a `BufReader`).
    pub fn new(src: R) -> Self {
        Frames {
            src,
            offset: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn stop(&mut self, kind: ProblemKind, at: u64, detail: String) -> Option<Frame<'_>> {
        self.done = true;
        Some(Frame::Problem(InputProblem {
            kind,
            offset: at,
            line: None,
            detail,
        }))
    }

    /// The next record or problem; `None` at the end (or after a problem that stops).
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        if self.done {
            return None;
        }
        let at = self.offset;
        let mut head = [0u8; 12];
        let got = match read_full(&mut self.src, &mut head) {
            Ok(n) => n,
            Err(e) => return self.stop(ProblemKind::Io, at, e.to_string()),
        };
        self.offset += got as u64;
        if got == 0 {
            self.done = true;
            return None;
        }
        if got < head.len() {
            return self.stop(
                ProblemKind::Truncated,
                at,
                format!("file ends inside a record header ({got} of 12 bytes)"),
            );
        }
        let len_bytes: [u8; 8] = head[..8].try_into().expect("8 bytes");
        let len_crc = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        if masked_crc32c(&len_bytes) != len_crc {
            return self.stop(
                ProblemKind::LengthChecksum,
                at,
                "record length fails its checksum; the rest of the file is unreadable".into(),
            );
        }
        let len = u64::from_le_bytes(len_bytes);
        if len > MAX_RECORD {
            return self.stop(
                ProblemKind::Malformed,
                at,
                format!("record length {len} exceeds {MAX_RECORD} bytes"),
            );
        }
        let total = len as usize + 4;
        self.buf.resize(total, 0);
        let got = match read_full(&mut self.src, &mut self.buf) {
            Ok(n) => n,
            Err(e) => return self.stop(ProblemKind::Io, at, e.to_string()),
        };
        self.offset += got as u64;
        if got < total {
            return self.stop(
                ProblemKind::Truncated,
                at,
                format!("file ends inside a record ({got} of {total} bytes after the header)"),
            );
        }
        let (data, crc) = self.buf.split_at(len as usize);
        let crc = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
        if masked_crc32c(data) != crc {
            return Some(Frame::Problem(InputProblem {
                kind: ProblemKind::DataChecksum,
                offset: at,
                line: None,
                detail: format!("record of {len} bytes fails its checksum; skipped"),
            }));
        }
        Some(Frame::Record(at, &self.buf[..len as usize]))
    }
}

/// One framed record of `payload`, as a TFRecord writer writes it (for tests and fixtures).
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(payload.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&masked_crc32c(payload).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn collect(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<ProblemKind>) {
        let mut f = Frames::new(bytes);
        let (mut recs, mut probs) = (Vec::new(), Vec::new());
        while let Some(fr) = f.next_frame() {
            match fr {
                Frame::Record(_, d) => recs.push(d.to_vec()),
                Frame::Problem(p) => probs.push(p.kind),
            }
        }
        (recs, probs)
    }

    #[test]
    fn records_round_trip_and_damage_is_located() {
        let mut file = frame(b"first");
        file.extend(frame(b""));
        let second_at = file.len();
        file.extend(frame(b"third record"));
        let (recs, probs) = collect(&file);
        assert_eq!(
            recs,
            vec![b"first".to_vec(), vec![], b"third record".to_vec()]
        );
        assert!(probs.is_empty());

        // A flipped payload byte skips that record only.
        let mut bad = file.clone();
        bad[second_at + 12] ^= 1;
        let (recs, probs) = collect(&bad);
        assert_eq!(recs.len(), 2);
        assert_eq!(probs, vec![ProblemKind::DataChecksum]);

        // A cut file keeps what came before the cut.
        let (recs, probs) = collect(&file[..file.len() - 3]);
        assert_eq!(recs.len(), 2);
        assert_eq!(probs, vec![ProblemKind::Truncated]);

        // A damaged length stops the file there.
        let mut bad = file.clone();
        bad[second_at] ^= 0x40;
        let (recs, probs) = collect(&bad);
        assert_eq!(recs.len(), 2);
        assert_eq!(probs, vec![ProblemKind::LengthChecksum]);
    }

    proptest! {
        /// No input makes the reader panic or loop, and it always ends.
        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            let (recs, probs) = collect(&bytes);
            prop_assert!(recs.len() + probs.len() <= bytes.len() / 12 + 1);
        }

        /// Valid records with damage at one random byte: never a panic, every record before
        /// the damaged one is intact.
        #[test]
        fn one_damaged_byte(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..8),
                            at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let mut file = Vec::new();
            let mut starts = Vec::new();
            for p in &payloads {
                starts.push(file.len());
                file.extend(frame(p));
            }
            let i = at.index(file.len());
            file[i] ^= 1 << bit;
            let damaged = starts.iter().rposition(|&s| s <= i).unwrap();
            let (recs, _) = collect(&file);
            prop_assert!(recs.len() >= damaged);
            prop_assert_eq!(&recs[..damaged], &payloads[..damaged]);
        }
    }
}
