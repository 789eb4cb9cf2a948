//! Problems found in input files: counted, located and reported, never fatal to a scan.

use std::fmt;

/// What was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The file ends inside a record (a run still being written, or cut short).
    Truncated,
    /// A TFRecord length whose checksum does not match: the framing is lost from here on.
    LengthChecksum,
    /// A TFRecord payload whose checksum does not match: that record is skipped.
    DataChecksum,
    /// A record that does not decode (bad protobuf, bad JSON, a row of the wrong width).
    Malformed,
    /// A value that is not a number where a number belongs.
    NotANumber,
    /// The file could not be read.
    Io,
}

impl ProblemKind {
    /// A short stable name, for reports and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Truncated => "truncated",
            ProblemKind::LengthChecksum => "length_checksum",
            ProblemKind::DataChecksum => "data_checksum",
            ProblemKind::Malformed => "malformed",
            ProblemKind::NotANumber => "not_a_number",
            ProblemKind::Io => "io",
        }
    }
}

/// One problem: what, where (byte offset of the record, and its line for text formats),
/// and a human-readable detail.
#[derive(Debug, Clone, PartialEq)]
pub struct InputProblem {
    /// What was wrong.
    pub kind: ProblemKind,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// 1-based line of the record, for line-oriented formats.
    pub line: Option<u64>,
    /// What exactly.
    pub detail: String,
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l} (byte {}): {}", self.offset, self.detail),
            None => write!(f, "byte {}: {}", self.offset, self.detail),
        }
    }
}
