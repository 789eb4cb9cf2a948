//! Fixed-capacity ring buffer: the last `capacity` observations, oldest first.

use crate::state::{invalid, Validate};
use serde::{Deserialize, Serialize};

/// A ring of the most recent `capacity` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ring {
    buf: Vec<f64>,
    head: usize,
    capacity: usize,
}

impl Ring {
    /// An empty ring; `capacity` must be at least 1 (checked by the owning estimator).
    pub fn new(capacity: usize) -> Self {
        Ring {
            buf: Vec::with_capacity(capacity.min(1 << 16)),
            head: 0,
            capacity,
        }
    }

    /// Appends `x`; returns the value that fell out when the ring was full.
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        if self.buf.len() < self.capacity {
            self.buf.push(x);
            None
        } else {
            let old = std::mem::replace(&mut self.buf[self.head], x);
            self.head += 1;
            if self.head == self.capacity {
                self.head = 0;
            }
            Some(old)
        }
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing was pushed yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Whether `other` has the same capacity, fill and write position, so that the two
    /// rings pair their values by position (checked when restoring snapshots).
    pub fn same_shape(&self, other: &Ring) -> bool {
        self.capacity == other.capacity
            && self.head == other.head
            && self.buf.len() == other.buf.len()
    }

    /// The capacity (the window length).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The values, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        let (newer, older) = self.buf.split_at(self.head);
        older.iter().chain(newer.iter()).copied()
    }

    /// The most recent value.
    pub fn last(&self) -> Option<f64> {
        if self.buf.is_empty() {
            None
        } else if self.head == 0 {
            self.buf.last().copied()
        } else {
            Some(self.buf[self.head - 1])
        }
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }
}

impl Validate for Ring {
    fn validate(&self) -> crate::Result<()> {
        if self.capacity == 0 || self.buf.len() > self.capacity {
            return Err(invalid("ring capacity"));
        }
        if self.head >= self.capacity.max(1) || (self.buf.len() < self.capacity && self.head != 0) {
            return Err(invalid("ring head"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_last_values_in_order() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        assert_eq!(r.push(2.0), None);
        assert_eq!(r.push(3.0), None);
        assert_eq!(r.push(4.0), Some(1.0));
        assert_eq!(r.push(5.0), Some(2.0));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![3.0, 4.0, 5.0]);
        assert_eq!(r.last(), Some(5.0));
    }
}
