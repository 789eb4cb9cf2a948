//! Lines of a text log with their place (byte offset and 1-based line number), for the
//! line-oriented readers (JSONL, CSV).

use std::io::BufRead;

use super::problem::ProblemKind;
use super::records::{Place, RunBuilder};

/// A line-by-line reader that keeps count of where each line starts.
#[derive(Debug)]
pub struct Lines<R> {
    src: R,
    buf: Vec<u8>,
    offset: u64,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    /// The lines of `src`.
    pub fn new(src: R) -> Self {
        Lines {
            src,
            buf: Vec::with_capacity(4096),
            offset: 0,
            number: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line (its newline included), where it starts, and whether it ends with a
    /// newline (a last line without one may be a cut-short write); `None` at the end. A read
    /// error is reported to `run` and ends the lines.
    pub fn next_line(&mut self, run: &mut RunBuilder) -> Option<(&[u8], Place, bool)> {
        self.buf.clear();
        let n = match self.src.read_until(b'\n', &mut self.buf) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) => {
                let at = Place {
                    offset: self.offset,
                    line: Some(self.number + 1),
                };
                run.problem(ProblemKind::Io, at, e.to_string());
                return None;
            }
        };
        self.number += 1;
        let at = Place {
            offset: self.offset,
            line: Some(self.number),
        };
        self.offset += n as u64;
        let complete = self.buf.last() == Some(&b'\n');
        Some((&self.buf, at, complete))
    }
}
