//! A JSON walker for log records: objects of numbers, strings, nulls and nested objects, read
//! straight from bytes without building a document. Nested objects are flattened to dotted
//! keys (RLDK's `json_normalize(sep='.')`); arrays are skipped. Python's bare `NaN`,
//! `Infinity` and `-Infinity` tokens (what `json.dumps` writes for non-finite floats, and
//! what `trainer_state.json` holds) are numbers here.

use std::borrow::Cow;

/// A leaf value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf<'a> {
    /// A number (bare tokens included).
    Number(f64),
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Where and why a record failed to parse.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Byte position in the parsed buffer.
    pub pos: usize,
    /// What was expected or found.
    pub what: &'static str,
}

type Res<T> = Result<T, SyntaxError>;

fn err<T>(pos: usize, what: &'static str) -> Res<T> {
    Err(SyntaxError { pos, what })
}

/// Nesting beyond this is refused (a log record is flat or shallow; this bounds recursion
/// on hostile input).
const MAX_DEPTH: usize = 32;

pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Position after the literal `lit` at `i`.
fn literal(b: &[u8], i: usize, lit: &'static [u8]) -> Res<usize> {
    if b.get(i..i + lit.len()) == Some(lit) {
        Ok(i + lit.len())
    } else {
        err(i, "unknown literal")
    }
}

/// Parses the string starting at the quote at `i`; returns it and the position after it.
/// The input is already valid UTF-8 and the delimiters are ASCII, so slices between them
/// are strings without a second validation.
fn string(src: &str, i: usize) -> Res<(Cow<'_, str>, usize)> {
    let b = src.as_bytes();
    debug_assert_eq!(b.get(i), Some(&b'"'));
    let start = i + 1;
    let mut j = start;
    // Fast path: no escapes, borrow the text.
    while j < b.len() {
        match b[j] {
            b'"' => return Ok((Cow::Borrowed(&src[start..j]), j + 1)),
            b'\\' => break,
            _ => j += 1,
        }
    }
    let mut out: Vec<u8> = b[start..j.min(b.len())].to_vec();
    while j < b.len() {
        match b[j] {
            b'"' => {
                let s = String::from_utf8(out).map_err(|_| SyntaxError {
                    pos: start,
                    what: "string is not UTF-8",
                })?;
                return Ok((Cow::Owned(s), j + 1));
            }
            b'\\' => {
                let e = *b.get(j + 1).ok_or(SyntaxError {
                    pos: j,
                    what: "unterminated string",
                })?;
                j += 2;
                match e {
                    b'"' | b'\\' | b'/' => out.push(e),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'u' => {
                        let (c, next) = unicode_escape(b, j)?;
                        j = next;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => return err(j - 1, "bad escape"),
                }
            }
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
    err(i, "unterminated string")
}

fn hex4(b: &[u8], i: usize) -> Res<u32> {
    let h = b.get(i..i + 4).ok_or(SyntaxError {
        pos: i,
        what: "short \\u escape",
    })?;
    let s = std::str::from_utf8(h).map_err(|_| SyntaxError {
        pos: i,
        what: "bad \\u escape",
    })?;
    u32::from_str_radix(s, 16).map_err(|_| SyntaxError {
        pos: i,
        what: "bad \\u escape",
    })
}

/// The character of the `\uXXXX` escape whose hex digits start at `i` (a surrogate pair
/// takes two escapes); unpaired surrogates become U+FFFD.
fn unicode_escape(b: &[u8], i: usize) -> Res<(char, usize)> {
    let hi = hex4(b, i)?;
    if (0xD800..0xDC00).contains(&hi) && b.get(i + 4..i + 6) == Some(b"\\u") {
        let lo = hex4(b, i + 6)?;
        if (0xDC00..0xE000).contains(&lo) {
            let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            return Ok((char::from_u32(c).unwrap_or('\u{FFFD}'), i + 10));
        }
    }
    Ok((char::from_u32(hi).unwrap_or('\u{FFFD}'), i + 4))
}

/// Parses the number (or bare non-finite token) at `i`.
fn number(src: &str, i: usize) -> Res<(f64, usize)> {
    let b = src.as_bytes();
    match b.get(i) {
        Some(b'N') => return literal(b, i, b"NaN").map(|j| (f64::NAN, j)),
        Some(b'I') => return literal(b, i, b"Infinity").map(|j| (f64::INFINITY, j)),
        Some(b'-') if b.get(i + 1) == Some(&b'I') => {
            return literal(b, i + 1, b"Infinity").map(|j| (f64::NEG_INFINITY, j));
        }
        _ => {}
    }
    let mut j = i;
    while j < b.len() && matches!(b[j], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
        j += 1;
    }
    if let Some(v) = fast_decimal(&b[i..j]) {
        return Ok((v, j));
    }
    // The bytes are ASCII by construction, so `j` is a character boundary.
    let s = &src[i..j];
    match s.parse::<f64>() {
        Ok(v) if !s.is_empty() => Ok((v, j)),
        _ => err(i, "bad number"),
    }
}

/// Exact powers of ten up to 10^22 (the largest exactly representable in an `f64`).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain JSON number (`-?digits[.digits][e[+-]digits]`) whose significand fits in 2^53 and
/// whose decimal exponent is within ±22: then `m × 10^e` (or `m / 10^-e`) is one correctly
/// rounded operation on exact operands, so the result is the correctly rounded value
/// (Clinger's fast path) without the general parser. Anything else is `None` and goes to the
/// standard library's parser.
fn fast_decimal(s: &[u8]) -> Option<f64> {
    let (neg, mut k) = match s.first() {
        Some(b'-') => (true, 1),
        _ => (false, 0),
    };
    let mut mant: u64 = 0;
    let mut exp: i32 = 0;
    let mut digits = 0;
    let start = k;
    while let Some(&c) = s.get(k).filter(|c| c.is_ascii_digit()) {
        mant = mant.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        digits += 1;
        k += 1;
    }
    if k == start {
        return None;
    }
    if s.get(k) == Some(&b'.') {
        k += 1;
        let frac = k;
        while let Some(&c) = s.get(k).filter(|c| c.is_ascii_digit()) {
            mant = mant.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            exp -= 1;
            digits += 1;
            k += 1;
        }
        if k == frac {
            return None;
        }
    }
    if matches!(s.get(k), Some(b'e' | b'E')) {
        k += 1;
        let sign = match s.get(k) {
            Some(b'-') => {
                k += 1;
                -1
            }
            Some(b'+') => {
                k += 1;
                1
            }
            _ => 1,
        };
        let e0 = k;
        let mut e: i32 = 0;
        while let Some(&c) = s.get(k).filter(|c| c.is_ascii_digit()) {
            e = e.checked_mul(10)?.checked_add(i32::from(c - b'0'))?;
            k += 1;
        }
        if k == e0 {
            return None;
        }
        exp = exp.checked_add(sign * e)?;
    }
    if k != s.len() || digits > 19 || mant > (1u64 << 53) || !(-22..=22).contains(&exp) {
        return None;
    }
    let m = mant as f64;
    let v = if exp >= 0 {
        m * POW10[exp as usize]
    } else {
        m / POW10[(-exp) as usize]
    };
    Some(if neg { -v } else { v })
}

/// Where a container's walk stands after one of its items.
enum Next {
    /// Another item starts here.
    Item(usize),
    /// The container closed; the position after it.
    End(usize),
}

/// Enters the container opened by `open` at `i` (after whitespace): the position of its
/// first item, or [`Next::End`] when it is empty.
fn enter(b: &[u8], i: usize, open: u8, what: &'static str) -> Res<Next> {
    let j = skip_ws(b, i);
    if b.get(j) != Some(&open) {
        return err(j, what);
    }
    let j = skip_ws(b, j + 1);
    let close = if open == b'{' { b'}' } else { b']' };
    Ok(if b.get(j) == Some(&close) {
        Next::End(j + 1)
    } else {
        Next::Item(j)
    })
}

/// After an item that ended at `j`: the next item, or the end of the container `close`.
fn after_item(b: &[u8], j: usize, close: u8) -> Res<Next> {
    let j = skip_ws(b, j);
    match b.get(j) {
        Some(b',') => Ok(Next::Item(skip_ws(b, j + 1))),
        Some(&c) if c == close => Ok(Next::End(j + 1)),
        _ => err(j, "expected ',' or a closing bracket"),
    }
}

/// An object member's key at `j` and the position of its value.
fn member_key(src: &str, j: usize) -> Res<(Cow<'_, str>, usize)> {
    let b = src.as_bytes();
    if b.get(j) != Some(&b'"') {
        return err(j, "expected a key");
    }
    let (k, next) = string(src, j)?;
    let j = skip_ws(b, next);
    if b.get(j) != Some(&b':') {
        return err(j, "expected ':'");
    }
    Ok((k, skip_ws(b, j + 1)))
}

/// Position after the value at `i` (any JSON value, skipped).
pub fn skip_value(src: &str, i: usize) -> Res<usize> {
    skip_value_at(src, i, 0)
}

fn skip_value_at(src: &str, i: usize, depth: usize) -> Res<usize> {
    let b = src.as_bytes();
    if depth > MAX_DEPTH {
        return err(i, "nesting too deep");
    }
    let i = skip_ws(b, i);
    match b.get(i) {
        Some(b'"') => string(src, i).map(|(_, j)| j),
        Some(&open @ (b'{' | b'[')) => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut next = enter(b, i, open, "expected a container")?;
            while let Next::Item(mut j) = next {
                if open == b'{' {
                    j = member_key(src, j)?.1;
                }
                next = after_item(b, skip_value_at(src, j, depth + 1)?, close)?;
            }
            match next {
                Next::End(j) => Ok(j),
                Next::Item(_) => unreachable!("the loop runs until the end"),
            }
        }
        Some(b't') => literal(b, i, b"true"),
        Some(b'f') => literal(b, i, b"false"),
        Some(b'n') => literal(b, i, b"null"),
        Some(_) => number(src, i).map(|(_, j)| j),
        None => err(i, "unexpected end"),
    }
}

/// Walks the object at `i` (after whitespace), calling `visit(key, leaf)` for every leaf
/// (nested keys joined with '.'); returns the position after the object.
pub fn walk_object(
    src: &str,
    i: usize,
    key: &mut String,
    visit: &mut impl FnMut(&str, Leaf<'_>),
) -> Res<usize> {
    walk_at(src, i, key, visit, 0)
}

fn walk_at(
    src: &str,
    i: usize,
    key: &mut String,
    visit: &mut impl FnMut(&str, Leaf<'_>),
    depth: usize,
) -> Res<usize> {
    let b = src.as_bytes();
    if depth > MAX_DEPTH {
        return err(i, "nesting too deep");
    }
    let base = key.len();
    let mut next = enter(b, i, b'{', "expected an object")?;
    while let Next::Item(at) = next {
        let (k, j) = member_key(src, at)?;
        key.truncate(base);
        if base > 0 {
            key.push('.');
        }
        key.push_str(&k);
        let j = match b.get(j) {
            Some(b'{') => walk_at(src, j, key, visit, depth + 1)?,
            Some(b'[') => skip_value_at(src, j, depth + 1)?,
            Some(b'"') => {
                let (s, next) = string(src, j)?;
                visit(key, Leaf::Str(s));
                next
            }
            Some(b't') => {
                visit(key, Leaf::Bool(true));
                literal(b, j, b"true")?
            }
            Some(b'f') => {
                visit(key, Leaf::Bool(false));
                literal(b, j, b"false")?
            }
            Some(b'n') => {
                visit(key, Leaf::Null);
                literal(b, j, b"null")?
            }
            Some(_) => {
                let (v, next) = number(src, j)?;
                visit(key, Leaf::Number(v));
                next
            }
            None => return err(j, "unexpected end"),
        };
        key.truncate(base);
        next = after_item(b, j, b'}')?;
    }
    match next {
        Next::End(j) => Ok(j),
        Next::Item(_) => unreachable!("the loop runs until the end"),
    }
}

/// Walks the array at `i`, calling `each(buf, position)` at each element (which must return
/// the position after it); returns the position after the array.
pub fn walk_array(
    src: &str,
    i: usize,
    each: &mut impl FnMut(&str, usize) -> Res<usize>,
) -> Res<usize> {
    let b = src.as_bytes();
    let mut next = enter(b, i, b'[', "expected an array")?;
    while let Next::Item(j) = next {
        next = after_item(b, each(src, j)?, b']')?;
    }
    match next {
        Next::End(j) => Ok(j),
        Next::Item(_) => unreachable!("the loop runs until the end"),
    }
}

/// The value of top-level key `name` in the object at `i`: calls `found(buf, position)` at
/// it; returns whether the key was present.
pub fn find_key(
    src: &str,
    i: usize,
    name: &str,
    found: &mut impl FnMut(&str, usize) -> Res<usize>,
) -> Res<bool> {
    let b = src.as_bytes();
    let mut seen = false;
    let mut next = enter(b, i, b'{', "expected an object")?;
    while let Next::Item(at) = next {
        let (k, j) = member_key(src, at)?;
        let end = if k == name && !seen {
            seen = true;
            found(src, j)?
        } else {
            skip_value(src, j)?
        };
        next = after_item(b, end, b'}')?;
    }
    Ok(seen)
}

#[cfg(test)]
mod tests;
