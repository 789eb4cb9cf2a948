//! Just enough protobuf wire format to walk TensorBoard's `Event` messages: fields are read
//! one by one and unknown ones skipped, so newer writers with more fields still decode.

/// One field's payload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wire<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1 (little-endian 8 bytes).
    Fixed64(u64),
    /// Wire type 2 (length-delimited: strings, sub-messages, packed repeated fields).
    Bytes(&'a [u8]),
    /// Wire type 5 (little-endian 4 bytes).
    Fixed32(u32),
}

/// Why a message did not decode.
pub type DecodeError = &'static str;

/// A cursor over one message's fields.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    /// The fields of the message in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    /// Reads a base-128 varint.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("varint runs past the end")?;
            self.pos += 1;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes")
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or("length overflows")?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or("field runs past the end")?;
        self.pos = end;
        Ok(s)
    }

    /// Whether every byte was consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next (field number, payload), or `None` at the end.
    pub fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>, DecodeError> {
        if self.at_end() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (field, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            )),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length overflows")?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            )),
            _ => return Err("unsupported wire type (groups are not used by event files)"),
        };
        Ok(Some((field, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_every_wire_type_and_rejects_damage() {
        // field 1 varint 300, field 2 fixed64, field 3 bytes "ab", field 4 fixed32
        let mut msg = vec![0x08, 0xAC, 0x02, 0x11];
        msg.extend(1.5f64.to_le_bytes());
        msg.extend([0x1A, 2, b'a', b'b', 0x25]);
        msg.extend(2.5f32.to_le_bytes());
        let mut f = Fields::new(&msg);
        assert_eq!(f.next_field(), Ok(Some((1, Wire::Varint(300)))));
        assert_eq!(
            f.next_field(),
            Ok(Some((2, Wire::Fixed64(1.5f64.to_bits()))))
        );
        assert_eq!(f.next_field(), Ok(Some((3, Wire::Bytes(b"ab")))));
        assert_eq!(
            f.next_field(),
            Ok(Some((4, Wire::Fixed32(2.5f32.to_bits()))))
        );
        assert_eq!(f.next_field(), Ok(None));
        assert!(Fields::new(&[0x1A, 5, b'a']).next_field().is_err());
        assert!(Fields::new(&[0x08, 0x80]).next_field().is_err());
        assert!(Fields::new(&[0x0B]).next_field().is_err());
    }
}
