//! Readers of training logs. Each streams its file, keeps going past damage, and reports
//! every problem with its location.

pub mod alias;
pub mod crc32c;
pub mod csv;
pub mod fxhash;
pub mod json;
pub mod json_doc;
pub mod jsonl;
pub mod lines;
pub mod problem;
pub mod protobuf;
pub mod records;
pub mod source;
pub mod table;
pub mod tensorboard;
pub mod tfrecord;

pub use problem::{InputProblem, ProblemKind};
